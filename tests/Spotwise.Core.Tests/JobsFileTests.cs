using Spotwise.Core.Serialization;

namespace Spotwise.Core.Tests;

public class JobsFileTests
{
    private static readonly DateTimeOffset Now = TestData.Now;

    private const string SeedJob =
        """{"jobId": "train-llm", "priority": 9, "deadline": "2026-11-25T06:00:00Z", "estimatedDurationHours": 6, "requiredResourceType": "gpu_large", "inputDataSizeGB": 120}""";

    private static Job ParseSingle(string jobJson, Catalog? catalog = null)
    {
        var result = JobsFile.Parse($"[{jobJson}]", Now, catalog);
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return Assert.Single(result.Value);
    }

    private static List<string> Errors(string json, Catalog? catalog = null)
    {
        var result = JobsFile.Parse(json, Now, catalog);
        Assert.False(result.Ok);
        Assert.True(result.Value.IsDefault, "a file with errors yields no jobs");
        return [.. result.Errors.Select(e => e.ToString())];
    }

    private static string SingleError(string json, Catalog? catalog = null) => Assert.Single(Errors(json, catalog));

    private static string Job(string id, string extra = "", string duration = "1") =>
        $$"""{"jobId": "{{id}}", "estimatedDurationHours": {{duration}}, "requiredResourceType": "cpu_small"{{extra}}}""";

    [Fact]
    public void The_seed_format_parses_as_is()
    {
        var job = ParseSingle(SeedJob);

        Assert.Equal("train-llm", job.Id);
        Assert.Equal(9, job.Priority);
        Assert.Equal(new DateTimeOffset(2026, 11, 25, 6, 0, 0, TimeSpan.Zero), job.Deadline);
        Assert.Equal(6, job.DurationHours);
        Assert.Equal(ResourceClasses.Presets["gpu_large"], job.Resources);
        Assert.Equal(120, job.InputDataSizeGB);
        Assert.Null(job.EarliestStart);
        Assert.False(job.Checkpointable);
        Assert.Empty(job.DependsOn);
    }

    [Fact]
    public void A_bare_array_and_an_object_with_a_jobs_array_parse_alike()
    {
        var bare = JobsFile.Parse($"[{SeedJob}]", Now);
        var wrapped = JobsFile.Parse($$"""{"jobs": [{{SeedJob}}]}""", Now);

        Assert.True(bare.Ok && wrapped.Ok);
        static object Seen(Job j) => (j.Id, j.Priority, j.Deadline, j.DurationHours, j.Resources, j.InputDataSizeGB);
        Assert.Equal(Seen(Assert.Single(bare.Value)), Seen(Assert.Single(wrapped.Value)));
    }

    [Fact]
    public void The_shipped_seed_sample_parses_against_the_catalog()
    {
        var json = File.ReadAllText(RepoPaths.Sample("seed-jobs.json"));

        var result = JobsFile.Parse(json, Now, TestData.Catalog);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(["job-001", "job-002", "job-003", "job-004"], result.Value.Select(j => j.Id));
        Assert.Equal(Now.AddHours(2), result.Value[0].Deadline);
    }

    [Fact]
    public void Resource_requirements_as_an_object_take_a_class_explicit_needs_or_instance_types()
    {
        var byClass = ParseSingle(Job("a", """, "resourceRequirements": {"type": "cpu_large"}""").Replace("\"requiredResourceType\": \"cpu_small\", ", "", StringComparison.Ordinal));
        var explicitNeeds = ParseSingle("""{"jobId": "b", "estimatedDurationHours": 1, "resourceRequirements": {"vcpus": 8, "memoryGiB": 32.5, "gpus": 2, "gpuModel": "A10G"}}""", TestData.Catalog);
        var byTypes = ParseSingle("""{"jobId": "c", "estimatedDurationHours": 1, "resourceRequirements": {"instanceTypes": ["p3.2xlarge", "g5.xlarge"]}}""", TestData.Catalog);

        Assert.Equal("cpu_large", byClass.Resources.ClassName);
        Assert.Equal((8, 32.5, 2, "A10G"), (explicitNeeds.Resources.MinVcpus, explicitNeeds.Resources.MinMemoryGiB, explicitNeeds.Resources.MinGpus, Assert.Single(explicitNeeds.Resources.GpuModels)));
        Assert.Equal(["p3.2xlarge", "g5.xlarge"], byTypes.Resources.InstanceTypes.AsEnumerable());
    }

    [Fact]
    public void A_gpu_model_without_a_gpu_count_asks_for_one_gpu()
    {
        var job = ParseSingle("""{"jobId": "b", "estimatedDurationHours": 1, "resourceRequirements": {"vcpus": 4, "gpuModel": "T4"}}""");

        Assert.Equal(1, job.Resources.MinGpus);
    }

    [Fact]
    public void Optional_fields_default_and_convert_minutes_to_hours()
    {
        var plain = ParseSingle(Job("plain"));
        var full = ParseSingle(Job("full", """
            , "earliestStart": "+1h", "checkpointable": true, "checkpointIntervalMinutes": 15, "restartOverheadMinutes": 12,
            "team": "ml", "command": "python train.py", "image": "python:3.12-slim"
            """));

        Assert.Equal((Spotwise.Core.Job.DefaultPriority, false, Spotwise.Core.Job.DefaultRestartOverheadHours, (double?)null), (plain.Priority, plain.Checkpointable, plain.RestartOverheadHours, plain.CheckpointIntervalHours));
        Assert.Equal(Now.AddHours(1), full.EarliestStart);
        Assert.True(full.Checkpointable);
        Assert.Equal(0.25, full.CheckpointIntervalHours);
        Assert.Equal(0.2, full.RestartOverheadHours, 12);
        Assert.Equal(("ml", "python train.py", "python:3.12-slim"), (full.Team, full.Command, full.Image));
        Assert.Null(plain.Image);
    }

    [Fact]
    public void Dependencies_name_jobs_of_the_same_queue()
    {
        var result = JobsFile.Parse($"[{Job("a")}, {Job("b", """, "dependsOn": ["a"]""")}]", Now);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(["a"], result.Value[1].DependsOn.AsEnumerable());
    }

    [Theory]
    [InlineData("+2h", 2.0)]
    [InlineData("+90m", 1.5)]
    [InlineData("+1d", 24.0)]
    [InlineData("+1.5d", 36.0)]
    [InlineData("-1h", -1.0)]
    public void Relative_times_resolve_against_the_given_now(string text, double hoursFromNow)
    {
        var job = ParseSingle(Job("a", $$""", "earliestStart": "{{text}}", "deadline": "+3d" """));

        Assert.Equal(Now.AddHours(hoursFromNow), job.EarliestStart);
    }

    [Theory]
    [InlineData("2026-11-24T18:00:00Z", 18)]
    [InlineData("2026-11-24T19:00:00+01:00", 18)]
    [InlineData("2026-11-24T13:00:00-05:00", 18)]
    public void Absolute_times_keep_their_offset(string text, int utcHour)
    {
        var job = ParseSingle(Job("a", $$""", "deadline": "{{text}}" """));

        Assert.Equal(new DateTimeOffset(2026, 11, 24, utcHour, 0, 0, TimeSpan.Zero), job.Deadline);
    }

    [Fact]
    public void A_missing_job_id_is_reported_by_the_jobs_position()
    {
        var error = SingleError("""[{"estimatedDurationHours": 1, "requiredResourceType": "cpu_small"}]""");

        Assert.Equal("job #1: jobId: is required", error);
    }

    [Fact]
    public void An_empty_job_id_is_reported_with_its_value() =>
        Assert.Equal("job #1: jobId: may hold only letters, digits and . _ : - (found U+0020): \"  \"", SingleError("""[{"jobId": "  ", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small"}]"""));

    [Fact]
    public void Duplicate_ids_are_reported_naming_the_id()
    {
        var error = SingleError($"[{Job("etl")}, {Job("etl")}]");

        Assert.Equal("job 'etl': jobId: 'etl' is used by more than one job", error);
    }

    [Theory]
    [InlineData("-2")]
    [InlineData("0")]
    public void A_duration_that_is_not_positive_is_reported_with_its_value(string duration)
    {
        var error = SingleError($"[{Job("etl", duration: duration)}]");

        Assert.Equal($"job 'etl': estimatedDurationHours: must be greater than 0, found {duration}", error);
    }

    [Fact]
    public void A_missing_duration_is_reported() =>
        Assert.Equal("job 'etl': estimatedDurationHours: is required", SingleError("""[{"jobId": "etl", "requiredResourceType": "cpu_small"}]"""));

    [Fact]
    public void A_duration_written_as_text_is_reported_with_its_value() =>
        Assert.Equal("job 'etl': estimatedDurationHours: must be a number, found \"4h\"", SingleError($"[{Job("etl", duration: "\"4h\"")}]"));

    [Fact]
    public void An_unknown_resource_class_is_reported_with_the_known_classes()
    {
        var error = SingleError("""[{"jobId": "etl", "estimatedDurationHours": 1, "requiredResourceType": "gpu_huge"}]""");

        Assert.Equal("job 'etl': requiredResourceType: 'gpu_huge' is not a resource class; known: cpu_large, cpu_medium, cpu_small, gpu_large, gpu_medium", error);
    }

    [Fact]
    public void An_unknown_class_in_resource_requirements_names_the_nested_field() =>
        Assert.StartsWith("job 'etl': resourceRequirements.type: 'huge' is not a resource class; known: cpu_large",
            SingleError("""[{"jobId": "etl", "estimatedDurationHours": 1, "resourceRequirements": {"type": "huge"}}]"""), StringComparison.Ordinal);

    [Fact]
    public void Missing_resources_are_reported_with_the_forms_they_may_take() =>
        Assert.StartsWith("job 'etl': resourceRequirements: is required: a class (cpu_large, cpu_medium, cpu_small, gpu_large, gpu_medium)",
            SingleError("""[{"jobId": "etl", "estimatedDurationHours": 1}]"""), StringComparison.Ordinal);

    [Fact]
    public void An_unknown_architecture_is_reported_with_the_choices() =>
        Assert.Equal("job 'etl': resourceRequirements.architecture: 'sparc' is not an architecture; choose one of x86_64, arm64, any",
            SingleError("""[{"jobId": "etl", "estimatedDurationHours": 1, "resourceRequirements": {"type": "cpu_small", "architecture": "sparc"}}]"""));

    [Fact]
    public void A_deadline_before_the_earliest_start_is_reported_with_both_times()
    {
        var error = SingleError($$"""[{{Job("etl", """, "earliestStart": "2026-11-24T12:00:00Z", "deadline": "2026-11-24T10:00:00Z" """)}}]""");

        Assert.Equal("job 'etl': deadline: 2026-11-24T10:00:00+00:00 is not after earliestStart 2026-11-24T12:00:00+00:00", error);
    }

    [Fact]
    public void A_deadline_without_utc_offset_is_reported_with_its_value_and_the_fix()
    {
        var error = SingleError($$"""[{{Job("etl", """, "deadline": "2026-11-24T18:00:00" """)}}]""");

        Assert.StartsWith("job 'etl': deadline: '2026-11-24T18:00:00' has no UTC offset", error, StringComparison.Ordinal);
        Assert.Contains("2026-11-24T18:00:00Z", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_time_that_is_not_a_time_is_reported_with_its_value() =>
        Assert.StartsWith("job 'etl': earliestStart: 'tomorrow 9am Z' is not an ISO 8601 time",
            SingleError($$"""[{{Job("etl", """, "earliestStart": "tomorrow 9am Z" """)}}]"""), StringComparison.Ordinal);

    [Fact]
    public void Malformed_json_is_reported_as_malformed_with_its_line()
    {
        var error = SingleError("[\n  {\"jobId\": \"a\",\n    \"estimatedDurationHours\": 1 \"requiredResourceType\": \"cpu_small\"}\n]");

        Assert.StartsWith("jobs file: malformed JSON at line 3,", error, StringComparison.Ordinal);
        // Where it broke is said too.
        Assert.Contains("(after [0].estimatedDurationHours)", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_priority_above_ten_is_reported_with_its_value_and_range() =>
        Assert.Equal("job 'etl': priority: must be a whole number from 1 to 10, found 11", SingleError($$"""[{{Job("etl", """, "priority": 11""")}}]"""));

    [Fact]
    public void An_instance_type_not_in_the_catalog_is_reported_with_its_name()
    {
        var json = """[{"jobId": "etl", "estimatedDurationHours": 1, "resourceRequirements": {"instanceTypes": ["m5.large", "zz9.mega"]}}]""";

        Assert.Equal("job 'etl': resourceRequirements.instanceTypes: 'zz9.mega' not in the catalog", SingleError(json, TestData.Catalog));
        Assert.True(JobsFile.Parse(json, Now).Ok, "without a catalog instance types are not checked");
    }

    [Fact]
    public void An_unknown_gpu_model_is_reported_with_the_models_of_the_catalog()
    {
        var json = """[{"jobId": "etl", "estimatedDurationHours": 1, "resourceRequirements": {"vcpus": 4, "gpuModel": "Z100"}}]""";

        var error = SingleError(json, TestData.Catalog);

        Assert.StartsWith("job 'etl': resourceRequirements.gpuModel: 'Z100' is not a GPU model of the catalog (", error, StringComparison.Ordinal);
        Assert.Contains("A100, A100-80GB, A10G, H100, H200, K80, L4, L40S, T4, V100", error, StringComparison.Ordinal);
    }

    [Fact]
    public void A_dependency_on_a_job_not_in_the_queue_is_reported_naming_both() =>
        Assert.Equal("job 'b': dependsOn: 'nope' is not a job in this queue", SingleError($$"""[{{Job("a")}}, {{Job("b", """, "dependsOn": ["nope"]""")}}]"""));

    [Fact]
    public void Depending_on_a_job_that_has_errors_of_its_own_is_not_reported_as_a_missing_job()
    {
        // Regression: 'a' failed to read, so the queue checks did not know it and told the user that 'b' depends
        // on a job that is not in the queue.
        var error = SingleError($$"""[{{Job("a", duration: "0")}}, {{Job("b", """, "dependsOn": ["a"]""")}}]""");

        Assert.Equal("job 'a': estimatedDurationHours: must be greater than 0, found 0", error);
    }

    [Fact]
    public void A_duplicate_id_is_reported_even_when_one_of_its_jobs_has_other_errors() =>
        Assert.Equal(
            ["job 'a': estimatedDurationHours: must be greater than 0, found 0", "job 'a': jobId: 'a' is used by more than one job"],
            Errors($"[{Job("a")}, {Job("a", duration: "0")}]"));

    [Fact]
    public void A_job_depending_on_itself_is_reported() =>
        Assert.Equal("job 'a': dependsOn: a job cannot depend on itself", SingleError($$"""[{{Job("a", """, "dependsOn": ["a"]""")}}]"""));

    [Fact]
    public void A_dependency_cycle_is_reported_showing_the_cycle()
    {
        var json = $$"""[{{Job("a", """, "dependsOn": ["c"]""")}}, {{Job("b", """, "dependsOn": ["a"]""")}}, {{Job("c", """, "dependsOn": ["b"]""")}}, {{Job("d", """, "dependsOn": ["a"]""")}}]""";

        var errors = Errors(json);

        // Each member is named with its own way round the cycle; 'd' waits on it.
        Assert.Equal(
            ["job 'a': dependsOn: is in a dependency cycle: a -> c -> b -> a", "job 'b': dependsOn: is in a dependency cycle: b -> a -> c -> b",
             "job 'c': dependsOn: is in a dependency cycle: c -> b -> a -> c", "job 'd': dependsOn: depends on 'a', which is in a dependency cycle: a -> c -> b -> a"],
            errors);
    }

    [Fact]
    public void An_entry_that_is_not_an_object_is_reported_by_its_position()
    {
        var error = SingleError($"[{Job("a")}, \"b\"]");

        Assert.Equal("job #2: expected a JSON object, found string", error);
    }

    [Theory]
    [InlineData("[]", "jobs file: holds no jobs")]
    [InlineData("""{"jobs": {}}""", "jobs file: jobs: must be an array of jobs, found object")]
    [InlineData("42", "jobs file: expected a JSON array of jobs, an object with a \"jobs\" array, or one job object")]
    public void A_file_without_jobs_is_reported(string json, string expected) => Assert.Equal(expected, SingleError(json));

    [Fact]
    public void Every_error_of_every_job_is_reported_in_one_pass()
    {
        var json = $$"""
            [
              {"jobId": "a", "estimatedDurationHours": -1, "priority": 0, "requiredResourceType": "cpu_tiny"},
              {{Job("b", """, "deadline": "2026-11-24T18:00:00" """)}},
              {"estimatedDurationHours": 1, "requiredResourceType": "cpu_small"},
              {{Job("c", """, "dependsOn": ["ghost"], "checkpointable": "yes" """)}}
            ]
            """;

        var errors = Errors(json);

        Assert.Collection(errors,
            e => Assert.StartsWith("job 'a': priority: must be a whole number from 1 to 10, found 0", e, StringComparison.Ordinal),
            e => Assert.StartsWith("job 'a': estimatedDurationHours: must be greater than 0, found -1", e, StringComparison.Ordinal),
            e => Assert.StartsWith("job 'a': requiredResourceType: 'cpu_tiny' is not a resource class", e, StringComparison.Ordinal),
            e => Assert.StartsWith("job 'b': deadline: '2026-11-24T18:00:00' has no UTC offset", e, StringComparison.Ordinal),
            e => Assert.Equal("job #3: jobId: is required", e),
            e => Assert.Equal("job 'c': checkpointable: must be true or false, found \"yes\"", e));
    }

    [Fact]
    public void Parse_one_reads_a_single_job_object_for_the_http_api()
    {
        using var doc = System.Text.Json.JsonDocument.Parse(SeedJob);

        var result = JobsFile.ParseOne(doc.RootElement, 1, Now);

        Assert.True(result.Ok);
        Assert.Equal("train-llm", result.Value!.Id);
    }
}
