namespace Spotwise.Cli.Tests;

/// <summary><c>submit</c>, <c>jobs</c> and <c>cancel</c> against the real server (SQLite file, real HTTP pipeline).</summary>
public sealed class ClientCommandTests
{
    private static readonly string[] SeedIds = ["job-001", "job-002", "job-003", "job-004"];

    private static string[] Args(params string[] args) => [.. args, "--server", ServerHost.Url, "--api-key", "k1"];

    [Fact]
    public async Task Submit_creates_every_seed_job_and_a_second_submit_is_all_duplicates()
    {
        await using var host = new ServerHost();

        var (code, output, err) = host.Cli(Args("submit", RepoPaths.Sample("seed-jobs.json")));
        Assert.True(code == 0, err);
        Assert.Equal(SeedIds.Select(id => $"{id} created"), Lines(output));

        var again = host.Cli(Args("submit", RepoPaths.Sample("seed-jobs.json")));
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(SeedIds.Select(id => $"{id} duplicate"), Lines(again.Out));
    }

    [Theory]
    [InlineData("seed-jobs.json", 4)]
    [InlineData("alibaba-200.json", 200)]
    public async Task Every_shipped_sample_can_be_submitted_with_one_key(string sample, int jobs)
    {
        await using var host = new ServerHost();

        var (code, output, err) = host.Cli(Args("submit", RepoPaths.Sample(sample)));

        Assert.True(code == 0, err);
        Assert.Equal(jobs, Lines(output).Count(l => l.EndsWith(" created", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Submit_of_a_used_id_with_another_body_is_a_conflict_and_exit_1()
    {
        await using var host = new ServerHost();
        Assert.Equal(0, host.Cli(Args("submit", RepoPaths.Sample("seed-jobs.json"))).ExitCode);
        var changed = CliRunner.TempFile("""[{"jobId": "job-001", "estimatedDurationHours": 3, "requiredResourceType": "cpu_small"}]""");

        var (code, output, _) = host.Cli(Args("submit", changed));

        Assert.Equal(1, code);
        Assert.StartsWith("job-001 conflict", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_of_a_bad_job_is_exit_2_naming_the_job_index_and_field_and_stores_nothing()
    {
        await using var host = new ServerHost();
        var bad = CliRunner.TempFile("""
            {"jobs": [
              {"jobId": "ok-1", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small"},
              {"jobId": "bad-2", "estimatedDurationHours": -4, "requiredResourceType": "cpu_small"}
            ]}
            """);

        var (code, output, err) = host.Cli(Args("submit", bad));

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.Contains("error: jobs[1].estimatedDurationHours: ", err, StringComparison.Ordinal);
        Assert.Equal("no jobs\n", host.Cli(Args("jobs")).Out);
    }

    [Fact]
    public async Task Submit_of_a_missing_or_malformed_file_is_exit_2_before_any_request()
    {
        await using var host = new ServerHost();

        var missing = host.Cli(Args("submit", "no-such-file.json"));
        var malformed = host.Cli(Args("submit", CliRunner.TempFile("[{\"jobId\": ")));

        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("'no-such-file.json' does not exist", missing.Err, StringComparison.Ordinal);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("malformed JSON at line 1", malformed.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_lists_the_teams_jobs_with_their_states_and_json_is_the_apis()
    {
        await using var host = new ServerHost();
        Assert.Equal(0, host.Cli(Args("submit", RepoPaths.Sample("seed-jobs.json"))).ExitCode);

        var (code, output, err) = host.Cli(Args("jobs"));

        Assert.True(code == 0, err);
        var lines = Lines(output);
        Assert.StartsWith("id ", lines[0], StringComparison.Ordinal);
        foreach (var h in new[] { "team", "state", "market", "instance type", "zone", "start", "deadline", "cost so far" })
        {
            Assert.Contains(h, lines[0], StringComparison.Ordinal);
        }
        Assert.Equal(SeedIds, lines.Skip(1).Select(l => l.Split(' ')[0]).Order(StringComparer.Ordinal));
        Assert.All(lines.Skip(1), l =>
        {
            Assert.Contains("team-a", l, StringComparison.Ordinal);
            Assert.Matches(@"\b(queued|planned|launching|running|succeeded|failed|cancelled|interrupted)\b", l);
        });

        var json = host.Cli(Args("jobs", "--format", "json"));
        Assert.Equal(0, json.ExitCode);
        using var doc = System.Text.Json.JsonDocument.Parse(json.Out);
        Assert.Equal(4, doc.RootElement.GetArrayLength());

        // Another team sees none of them.
        Assert.Equal("no jobs\n", host.Cli("jobs", "--server", ServerHost.Url, "--api-key", "k2").Out);
    }

    [Fact]
    public async Task Jobs_lists_every_page_when_the_team_has_more_than_one_page_of_jobs()
    {
        await using var host = new ServerHost();
        var many = CliRunner.TempFile("[" + string.Join(",", Enumerable.Range(0, 1_003).Select(i =>
            $$"""{"jobId": "j{{i:D4}}", "estimatedDurationHours": 1, "requiredResourceType": "cpu_small"}""")) + "]");
        Assert.Equal(0, host.Cli(Args("submit", many)).ExitCode);

        var json = host.Cli(Args("jobs", "--format", "json"));
        var table = host.Cli(Args("jobs"));

        Assert.True(json.ExitCode == 0, json.Err);
        using var doc = System.Text.Json.JsonDocument.Parse(json.Out);
        Assert.Equal(1_003, doc.RootElement.GetArrayLength());
        Assert.Equal("j1002", doc.RootElement[1_002].GetProperty("jobId").GetString());
        Assert.Equal(1_004, Lines(table.Out).Length);
    }

    [Fact]
    public async Task Submit_of_a_file_over_one_batch_stops_at_a_bad_batch_naming_the_jobs_index_in_the_file()
    {
        await using var host = new ServerHost();
        var jobs = Enumerable.Range(0, 1_005).Select(i =>
            $$"""{"jobId": "j{{i:D4}}", "estimatedDurationHours": {{(i == 1_002 ? -1 : 1)}}, "requiredResourceType": "cpu_small"}""");
        var file = CliRunner.TempFile("[" + string.Join(",", jobs) + "]");

        var (code, _, err) = host.Cli(Args("submit", file));

        Assert.Equal(2, code);
        Assert.Contains("error: jobs[1002].estimatedDurationHours: ", err, StringComparison.Ordinal);
        Assert.Contains("jobs[1000] onwards were not submitted", err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_state_filter_passes_through_and_a_bad_state_is_exit_2()
    {
        await using var host = new ServerHost();
        Assert.Equal(0, host.Cli(Args("submit", RepoPaths.Sample("seed-jobs.json"))).ExitCode);
        Assert.Equal(0, host.Cli(Args("cancel", "job-003")).ExitCode);

        var cancelled = host.Cli(Args("jobs", "--state", "cancelled"));
        var bad = host.Cli(Args("jobs", "--state", "sleeping"));

        Assert.Equal(0, cancelled.ExitCode);
        Assert.Equal(["job-003"], Lines(cancelled.Out).Skip(1).Select(l => l.Split(' ')[0]));
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("error: state: 'sleeping' is not a job state", bad.Err, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancel_cancels_once_then_a_second_cancel_or_an_unknown_job_is_exit_1_with_the_servers_reason()
    {
        await using var host = new ServerHost();
        Assert.Equal(0, host.Cli(Args("submit", RepoPaths.Sample("seed-jobs.json"))).ExitCode);

        var first = host.Cli(Args("cancel", "job-003"));
        var second = host.Cli(Args("cancel", "job-003"));
        var unknown = host.Cli(Args("cancel", "job-999"));
        var otherTeam = host.Cli("cancel", "job-001", "--server", ServerHost.Url, "--api-key", "k2");

        Assert.Equal((0, "job-003 cancelled\n"), (first.ExitCode, first.Out));
        Assert.Equal(1, second.ExitCode);
        Assert.Contains("already cancelled", second.Err, StringComparison.Ordinal);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("no job 'job-999'", unknown.Err, StringComparison.Ordinal);
        Assert.Equal(1, otherTeam.ExitCode);
    }

    [Fact]
    public async Task A_wrong_key_is_exit_2_saying_the_key_was_refused()
    {
        await using var host = new ServerHost();

        foreach (var args in new[] { new[] { "jobs" }, ["submit", RepoPaths.Sample("seed-jobs.json")], ["cancel", "job-001"] })
        {
            var (code, _, err) = host.Cli([.. args, "--server", ServerHost.Url, "--api-key", "wrong"]);
            Assert.Equal(2, code);
            Assert.Contains("the API key was refused", err, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void No_key_at_all_is_exit_2_saying_how_to_give_one()
    {
        // Whatever the machine running the tests has set, this test runs without it (and puts it back).
        var saved = Environment.GetEnvironmentVariable(ApiConnection.KeyVariable);
        Environment.SetEnvironmentVariable(ApiConnection.KeyVariable, null);
        int code;
        string err;
        try
        {
            (code, _, err) = CliRunner.Run("jobs", "--server", "http://127.0.0.1:1");
        }
        finally
        {
            Environment.SetEnvironmentVariable(ApiConnection.KeyVariable, saved);
        }

        Assert.Equal(2, code);
        Assert.Contains("set SPOTWISE_API_KEY or pass --api-key", err, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unreachable_server_is_exit_3_naming_the_url()
    {
        foreach (var args in new[] { new[] { "jobs" }, ["submit", RepoPaths.Sample("seed-jobs.json")], ["cancel", "job-001"] })
        {
            var (code, _, err) = CliRunner.Run([.. args, "--server", "http://127.0.0.1:1", "--api-key", "k1"]);
            Assert.Equal(3, code);
            Assert.Contains("cannot reach the Spotwise server at http://127.0.0.1:1/", err, StringComparison.Ordinal);
        }
    }

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
}
