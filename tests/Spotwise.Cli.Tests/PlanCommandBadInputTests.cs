namespace Spotwise.Cli.Tests;

/// <summary>Bad input: exit code 2, one line per problem naming the job and the field, never a stack trace.</summary>
public class PlanCommandBadInputTests
{
    private static (int Code, string Err) PlanWith(string json, params string[] extra)
    {
        string[] now = extra.Contains("--now") ? [] : ["--now", "2026-11-24T12:00:00Z"];
        var (code, _, err) = CliRunner.Run(["plan", CliRunner.TempFile(json), .. now, .. extra]);
        Assert.DoesNotContain("   at ", err); // no stack trace
        return (code, err);
    }

    [Theory]
    [InlineData("""[{"estimatedDurationHours": 1, "requiredResourceType": "cpu_small"}]""", "job #1: jobId: is required")]
    [InlineData("""[{"jobId": "a", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small"}, {"jobId": "a", "estimatedDurationHours": 2, "requiredResourceType": "cpu_small"}]""", "job 'a': jobId: 'a' is used by more than one job")]
    [InlineData("""[{"jobId": "a", "estimatedDurationHours": -1, "requiredResourceType": "cpu_small"}]""", "job 'a': estimatedDurationHours: must be greater than 0, found -1")]
    [InlineData("""[{"jobId": "a", "estimatedDurationHours": 1, "requiredResourceType": "cpu_tiny"}]""", "job 'a': requiredResourceType: 'cpu_tiny' is not a resource class")]
    [InlineData("""[{"jobId": "a", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small", "earliestStart": "+5h", "deadline": "+2h"}]""", "job 'a': deadline: '+2h' (2026-11-24T14:00:00+00:00) is not after earliestStart '+5h' (2026-11-24T17:00:00+00:00)")]
    [InlineData("""[{"jobId": "a", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small", "deadline": "2026-11-24T18:00:00"}]""", "job 'a': deadline: '2026-11-24T18:00:00' has no UTC offset")]
    [InlineData("""[{"jobId": "a", """, "jobs file: malformed JSON at line")]
    [InlineData("""[{"jobId": "a", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small",}]""", "jobs file: malformed JSON at line 1, byte 82 (after [0].requiredResourceType): The JSON object contains a trailing comma")]
    [InlineData("""[{"jobId": "a", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small", "dealine": "+6h"}]""", "job 'a': dealine: 'dealine' is not a field of a job; did you mean 'deadline'?")]
    [InlineData("""[{"jobId": "a", "estimatedDurationHours": 1, "resourceRequirements": {"instanceTypes": ["p9.huge"]}}]""", "job 'a': resourceRequirements.instanceTypes: 'p9.huge' not in the catalog")]
    [InlineData("""[{"jobId": "a", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small", "priority": 11}]""", "job 'a': priority: must be a whole number from 1 to 10, found 11")]
    [InlineData("""[{"jobId": "a", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small", "dependsOn": ["b"]}, {"jobId": "b", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small", "dependsOn": ["a"]}]""", "job 'a': dependsOn: is in a dependency cycle: a -> b -> a")]
    [InlineData("""{"tasks": []}""", "job #1: tasks: 'tasks' is not a field of a job")]
    public void Bad_jobs_file_exits_2_naming_job_and_field(string json, string expected)
    {
        var (code, err) = PlanWith(json);
        Assert.Equal(2, code);
        Assert.Contains("error: " + expected, err);
    }

    [Fact]
    public void Every_problem_in_a_file_is_reported_one_line_each()
    {
        var (code, err) = PlanWith("""
            [{"estimatedDurationHours": 1, "requiredResourceType": "cpu_small"},
             {"jobId": "b", "estimatedDurationHours": 0, "requiredResourceType": "cpu_small"},
             {"jobId": "c", "estimatedDurationHours": 1, "requiredResourceType": "nope"}]
            """);
        Assert.Equal(2, code);
        Assert.Equal(3, err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Theory]
    [InlineData("--planner", "magic", "--planner: 'magic' is not a planner")]
    [InlineData("--format", "xml", "--format: 'xml' is not a format")]
    [InlineData("--time-limit", "0", "--time-limit: 0 must be between")]
    [InlineData("--now", "2026-11-24T12:00:00", "--now: '2026-11-24T12:00:00' has no UTC offset")]
    [InlineData("--catalog", "/nonexistent.csv", "--catalog: file '/nonexistent.csv' does not exist")]
    [InlineData("--limits", "/nonexistent.json", "--limits: file '/nonexistent.json' does not exist")]
    public void Bad_options_exit_2_naming_the_option(string option, string value, string expected)
    {
        var (code, err) = PlanWith("""[{"jobId": "a", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small"}]""", option, value);
        Assert.Equal(2, code);
        Assert.Contains(expected, err);
    }

    [Theory]
    [InlineData("--bogus")]
    [InlineData("--time-limit", "soon")]
    public void Command_line_syntax_errors_exit_2_not_1(params string[] extra)
    {
        var (code, err) = PlanWith("""[{"jobId": "a", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small"}]""", extra);
        Assert.Equal(2, code);
        Assert.StartsWith("error: ", err);
    }

    [Fact]
    public void Missing_jobs_file_exits_2()
    {
        var (code, _, err) = CliRunner.Run("plan", "/no/such/jobs.json");
        Assert.Equal(2, code);
        Assert.Contains("'/no/such/jobs.json' does not exist", err);
    }

    [Fact]
    public void Bad_limits_file_names_the_field()
    {
        var limits = CliRunner.TempFile("""{"onDemandVcpuQuotas": {"gpu": 10}, "defaultSpotPoolSize": -1}""");
        var (code, err) = PlanWith("""[{"jobId": "a", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small"}]""", "--limits", limits);
        Assert.Equal(2, code);
        Assert.Contains("onDemandVcpuQuotas.gpu: 'gpu' is not a quota class", err);
        Assert.Contains("defaultSpotPoolSize: must be a whole number >= 0", err);
    }
}
