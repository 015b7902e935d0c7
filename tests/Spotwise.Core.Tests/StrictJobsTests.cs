using System.Text;
using Spotwise.Core.Serialization;

namespace Spotwise.Core.Tests;

/// <summary>The intake's rules as the reader applies them: strict JSON, known fields, bounds, API paths (issue 10).</summary>
public class StrictJobsTests
{
    private static readonly DateTimeOffset Now = TestData.Now;

    private static readonly JobsReadOptions Api = new() { MaxJobs = 1_000 };

    private const string Valid = """{"jobId": "a", "estimatedDurationHours": 1, "resourceRequirements": {"type": "cpu_small"}}""";

    private static JobsDocument Read(string json, JobsReadOptions? options = null) =>
        JobsFile.Read(Encoding.UTF8.GetBytes(json), Now, TestData.Catalog, options ?? Api);

    private static JobsDocument ReadBytes(byte[] bytes) => JobsFile.Read(bytes, Now, TestData.Catalog, Api);

    /// <summary>A lone job with one field replaced or added.</summary>
    private static string With(string field, string value) => field == "estimatedDurationHours"
        ? Valid.Replace("\"estimatedDurationHours\": 1", $"\"estimatedDurationHours\": {value}", StringComparison.Ordinal)
        : Valid.Replace("}}", $$"""}, "{{field}}": {{value}}}""", StringComparison.Ordinal);

    private static InputError Refused(JobsDocument doc)
    {
        Assert.False(doc.Ok);
        Assert.True(doc.Jobs.IsEmpty, "a refused document yields no jobs");
        return doc.Errors[0];
    }

    [Theory]
    [InlineData("estimatedDurationHours", "1e15", "must be at most 8760")]
    [InlineData("estimatedDurationHours", "1e308", "must be at most 8760")]
    [InlineData("estimatedDurationHours", "1e400", "must be a number")]
    [InlineData("restartOverheadMinutes", "1e308", "must be at most 1440")]
    [InlineData("checkpointIntervalMinutes", "10081", "must be at most 10080")]
    [InlineData("inputDataSizeGB", "1000001", "must be at most 1000000")]
    [InlineData("priority", "5.5", "must be a whole number from 1 to 10")]
    [InlineData("deadline", "\"9999-12-31T00:00:00Z\"", "more than 366 days from now")]
    [InlineData("earliestStart", "\"+400d\"", "more than 366 days from now")]
    [InlineData("deadline", "\"+4000000d\"", "outside the calendar")]
    [InlineData("deadline", "\"+١h\"", "'+١h'")]
    [InlineData("deadline", "\"-1h\"", "has already passed")]
    [InlineData("deadline", "\"+30m\"", "less than the job's estimatedDurationHours 1")]
    [InlineData("team", "\"a b\"", "may hold only letters")]
    [InlineData("dependsOn", "[\"x\\u0000\"]", "may hold only letters")]
    [InlineData("dependsOn", "[\"b\", \"b\"]", "names a job more than once")]
    public void A_field_out_of_bounds_is_refused_naming_the_field_and_the_value(string field, string value, string expected)
    {
        var error = Refused(Read(With(field, value)));

        Assert.Equal(field, error.Path);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(129)]
    [InlineData(100_000)]
    public void A_job_id_longer_than_128_characters_is_refused(int length)
    {
        var error = Refused(Read(Valid.Replace("\"a\"", $"\"{new string('x', length)}\"", StringComparison.Ordinal)));

        Assert.Equal("jobId", error.Path);
        Assert.Contains($"found {length}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("a\\u0000b", "U+0000")]
    [InlineData("a\\u0007", "U+0007")]
    [InlineData("a/b", "'/'")]
    [InlineData("é", "U+00E9")]
    public void Control_and_foreign_characters_in_a_job_id_are_refused_by_code_point(string id, string shown) =>
        Assert.Contains(shown, Refused(Read(Valid.Replace("\"a\"", $"\"{id}\"", StringComparison.Ordinal))).Message, StringComparison.Ordinal);

    [Fact]
    public void A_command_over_64_KiB_or_with_a_nul_is_refused()
    {
        Assert.Contains("at most 65536", Refused(Read(With("command", $"\"{new string('x', 65_537)}\""))).Message, StringComparison.Ordinal);
        Assert.Contains("NUL", Refused(Read(With("command", "\"echo \\u0000\""))).Message, StringComparison.Ordinal);
        Assert.True(Read(With("command", "\"python train.py --epochs 3\\n\"")).Ok);
    }

    [Fact]
    public void An_image_is_one_word_of_at_most_1024_characters()
    {
        var spaced = Refused(Read(With("image", "\"python 3.12\"")));
        Assert.Equal(("image", true), (spaced.Path, spaced.Message.Contains("'python 3.12'", StringComparison.Ordinal)));
        Assert.Contains("1 to 1024", Refused(Read(With("image", $"\"{new string('x', 1025)}\""))).Message, StringComparison.Ordinal);
        Assert.Contains("1 to 1024", Refused(Read(With("image", "\"\""))).Message, StringComparison.Ordinal);
        Assert.True(Read(With("image", "\"registry.example.com/ml/train@sha256:0123abcd\"")).Ok);
    }

    [Fact]
    public void A_null_field_of_the_resource_request_is_an_absent_one_as_generated_clients_write_it()
    {
        var result = Read("""
            {"jobId": "a", "estimatedDurationHours": 1, "priority": null, "deadline": null,
             "resourceRequirements": {"type": "cpu_small", "instanceTypes": null, "vcpus": null, "memoryGiB": null, "gpus": null, "gpuModel": null, "architecture": null}}
            """);

        Assert.True(result.Ok, string.Join("; ", result.Errors));
        Assert.Contains("give one of type, instanceTypes or explicit needs",
            Refused(Read("""{"jobId": "a", "estimatedDurationHours": 1, "resourceRequirements": {"type": "cpu_small", "vcpus": 2}}""")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_misspelled_field_is_refused_with_a_suggestion()
    {
        var error = Refused(Read(With("dealine", "\"+6h\"")));

        Assert.Equal("dealine", error.Path);
        Assert.Contains("did you mean 'deadline'?", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_snake_case_field_gets_the_camel_case_name()
    {
        var error = Refused(Read("""{"job_id": "a", "estimatedDurationHours": 1, "resourceRequirements": {"type": "cpu_small"}}"""));

        Assert.Contains(Read("""{"job_id": "a", "estimatedDurationHours": 1, "resourceRequirements": {"type": "cpu_small"}}""").Errors,
            e => e.Path == "job_id" && e.Message.Contains("did you mean 'jobId'?", StringComparison.Ordinal));
        Assert.NotNull(error);
    }

    [Fact]
    public void An_unknown_field_inside_the_resource_request_names_its_path() =>
        Assert.Equal("resourceRequirements.gpuz",
            Refused(Read("""{"jobId": "a", "estimatedDurationHours": 1, "resourceRequirements": {"vcpus": 2, "gpuz": 1}}""")).Path);

    [Fact]
    public void A_resource_request_no_catalog_type_satisfies_is_refused()
    {
        var error = Refused(Read("""{"jobId": "a", "estimatedDurationHours": 1, "resourceRequirements": {"vcpus": 100000}}"""));

        Assert.Equal("resourceRequirements", error.Path);
        Assert.Contains("no instance type of the catalog satisfies", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_class_together_with_explicit_needs_is_refused_as_ambiguous() =>
        Assert.Contains("give one of type",
            Refused(Read("""{"jobId": "a", "estimatedDurationHours": 1, "resourceRequirements": {"type": "cpu_small", "vcpus": 64}}""")).Message,
            StringComparison.Ordinal);

    [Theory]
    [InlineData("[{\"jobId\": \"a\",}]", "body")]
    [InlineData("[{\"jobId\": \"a\"} /* c */]", "body")]
    [InlineData("{\"jobs\": [{\"jobId\": \"a\", \"jobId\": \"b\"}]}", "jobs[0].jobId")]
    [InlineData("{\"jobId\": \"\\ud800\"}", "jobId")]
    [InlineData("[{\"jobId\": \"a\"}, {\"command\": \"\\udc00x\"}]", "jobs[1].command")]
    public void Loose_json_is_refused_naming_where_it_broke(string json, string path)
    {
        var error = Refused(Read(json));

        Assert.Equal(path, error.Path);
    }

    [Fact]
    public void Invalid_utf8_bytes_are_refused_naming_the_field_that_holds_them()
    {
        var bytes = Encoding.UTF8.GetBytes("""[{"jobId": "ab", "estimatedDurationHours": 1}]""");
        bytes[13] = 0xFF; // inside "ab"

        var error = Refused(ReadBytes(bytes));

        Assert.Equal("jobs[0].jobId", error.Path);
        Assert.Contains("not valid UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_byte_order_mark_is_ignored() =>
        Assert.True(ReadBytes([.. Encoding.UTF8.Preamble, .. Encoding.UTF8.GetBytes(Valid)]).Ok);

    [Fact]
    public void Errors_in_a_batch_are_keyed_by_index_and_field()
    {
        var doc = Read($$$"""{"jobs": [{{{Valid}}}, {"jobId": "b", "estimatedDurationHours": -1, "resourceRequirements": {"type": "cpu_small"}}]}""");

        Assert.Equal("jobs[1].estimatedDurationHours", Refused(doc).Path);
    }

    [Fact]
    public void More_jobs_than_a_request_may_hold_are_refused_as_a_whole()
    {
        var jobs = string.Join(",", Enumerable.Range(0, 1_001).Select(i => Valid.Replace("\"a\"", $"\"j{i}\"", StringComparison.Ordinal)));

        var error = Refused(Read($"[{jobs}]"));

        Assert.Equal("body", error.Path);
        Assert.Contains("at most 1000", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_ten_thousand_deep_dependency_cycle_is_found_without_recursion()
    {
        const int n = 10_000;
        var jobs = Enumerable.Range(0, n).Select(i =>
            $$$"""{"jobId": "j{{{i}}}", "estimatedDurationHours": 1, "resourceRequirements": {"type": "cpu_small"}, "dependsOn": ["j{{{(i + 1) % n}}}"]}""");

        var error = Refused(Read($"[{string.Join(",", jobs)}]", JobsReadOptions.File));

        Assert.Equal("jobs[0].dependsOn", error.Path);
        Assert.Equal("is in a dependency cycle: j0 -> j1 -> j2 -> j3 -> ... -> j9999 -> j0 (10000 jobs)", error.Message);
    }

    [Fact]
    public void A_dependency_outside_the_document_is_left_to_the_store_only_when_allowed()
    {
        var json = With("dependsOn", "[\"stored-job\"]");

        Assert.Equal("dependsOn", Refused(Read(json)).Path);
        Assert.True(Read(json, new JobsReadOptions { DependenciesMayBeStored = true }).Ok);
    }

    [Fact]
    public void A_lone_job_object_is_read_as_one_job()
    {
        var doc = Read(Valid);

        Assert.True(doc.Ok, string.Join("\n", doc.Errors));
        Assert.False(doc.IsBatch);
        Assert.Null(Assert.Single(doc.Jobs).Index);
    }
}
