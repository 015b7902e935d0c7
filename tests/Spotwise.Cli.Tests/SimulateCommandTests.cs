using System.Text.Json;

namespace Spotwise.Cli.Tests;

/// <summary>spotwise simulate: flags, errors and the JSON document, on the shipped traces.</summary>
public class SimulateCommandTests
{
    private static readonly string AwsZone = Path.Combine(RepoPaths.Root, "data", "traces", "aws-v100", "us-west-2a_v100_1.json");
    private static readonly string GcpDir = Path.Combine(RepoPaths.Root, "data", "traces", "gcp-h100");
    private static readonly string AwsDir = Path.Combine(RepoPaths.Root, "data", "traces", "aws-v100");

    [Fact]
    public void Help_says_that_spotwise_is_the_policy_serve_runs_and_the_others_are_baselines()
    {
        var (code, output, _) = CliRunner.Run("simulate", "--help");

        Assert.Equal(0, code);
        var text = string.Join(' ', output.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("spotwise is the policy serve runs; the others are research baselines", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_queue_runs_through_the_runtime_against_the_traces_and_reports_each_job_per_policy()
    {
        var (code, output, err) = CliRunner.Run("simulate", "--jobs", RepoPaths.Sample("seed-jobs.json"), "--trace-dir", AwsDir, "--policy", "all", "--format", "json");

        Assert.True(code is 0 or 1, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal("queue", doc.RootElement.GetProperty("scenario").GetProperty("kind").GetString());
        var policies = doc.RootElement.GetProperty("policies");
        Assert.Equal(["spotwise", "on-demand"], policies.EnumerateObject().Select(p => p.Name));
        foreach (var p in policies.EnumerateObject())
        {
            Assert.Equal(4, p.Value.GetProperty("outcomes").GetArrayLength());
            Assert.True(p.Value.GetProperty("onDemandCostUsd").GetDouble() > 0);
            Assert.Equal(code == 0, policies.EnumerateObject().All(x => x.Value.GetProperty("deadlineMisses").GetInt32() == 0));
        }
        Assert.True(policies.GetProperty("spotwise").GetProperty("totalCostUsd").GetDouble() <= policies.GetProperty("on-demand").GetProperty("totalCostUsd").GetDouble() + 1e-9);
        Assert.Contains("jobs done", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_document_has_the_scenario_and_a_summary_per_policy()
    {
        var (code, output, err) = CliRunner.Run("simulate", "--trace", AwsZone, "--starts", "4", "--seed", "2", "--policy", "greedy,uniform-progress,spotwise",
            "--format", "json");

        Assert.True(code == 0, err);
        using var document = JsonDocument.Parse(output);
        var scenario = document.RootElement.GetProperty("scenario");
        Assert.Equal(48, scenario.GetProperty("jobHours").GetDouble());
        Assert.Equal(52, scenario.GetProperty("deadlineHours").GetDouble());
        Assert.Equal("p3.2xlarge", scenario.GetProperty("instanceType").GetString());
        var policies = document.RootElement.GetProperty("policies");
        Assert.Equal(["greedy", "uniform-progress", "spotwise"], policies.EnumerateObject().Select(p => p.Name));
        foreach (var policy in policies.EnumerateObject())
        {
            var p = policy.Value;
            Assert.Equal(4, p.GetProperty("runs").GetInt32());
            Assert.Equal(0, p.GetProperty("deadlineMisses").GetInt32());
            Assert.InRange(p.GetProperty("meanCostUsd").GetDouble(), 1, p.GetProperty("onDemandCostUsd").GetDouble());
            Assert.InRange(p.GetProperty("score").GetDouble(), 0, 100);
        }
        Assert.Contains("100%", err); // the progress bar went to stderr
    }

    [Fact]
    public void Table_lists_every_policy_with_cost_score_and_misses()
    {
        var (code, output, _) = CliRunner.Run("simulate", "--trace", AwsZone, "--starts", "2", "--policy", "all");

        Assert.Equal(0, code);
        Assert.Contains("cost/on-demand", output);
        foreach (var policy in new[] { "on-demand", "greedy", "uniform-progress", "spotwise", "omniscient" })
        {
            Assert.Contains(Environment.NewLine + policy + " ", output);
        }
    }

    [Fact]
    public void Several_zones_in_the_preempted_format_run_multi_zone()
    {
        var (code, output, err) = CliRunner.Run("simulate", "--trace-dir", GcpDir, "--trace-format", "preempted", "--starts", "2",
            "--policy", "spotwise", "--format", "json");

        Assert.True(code == 0, err);
        using var document = JsonDocument.Parse(output);
        Assert.Equal(13, document.RootElement.GetProperty("scenario").GetProperty("zones").GetArrayLength());
        Assert.Equal("a3-highgpu-8g", document.RootElement.GetProperty("scenario").GetProperty("instanceType").GetString());
    }

    // A window as the Can't Be Late benchmark publishes it: where it was cut from in metadata, data 1 = preempted.
    private static void Window(string path, int ticks, int startTime, int gapSeconds = 600, Func<int, bool>? preempted = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        preempted ??= i => i % 50 >= 40;
        var data = string.Join(",", Enumerable.Range(0, ticks).Select(i => preempted(i) ? 1 : 0));
        File.WriteAllText(path,
            $$"""{"metadata": {"gap_seconds": {{gapSeconds}}, "start_time": {{startTime}}, "end_time": {{startTime + ticks}}}, "data": [{{data}}]}""");
    }

    [Fact]
    public void A_window_whose_metadata_start_time_lies_past_its_data_runs_from_index_0()
    {
        var dir = Directory.CreateTempSubdirectory("spotwise-windows-").FullName;
        Window(Path.Combine(dir, "0.json"), ticks: 400, startTime: 0);
        Window(Path.Combine(dir, "1.json"), ticks: 400, startTime: 90_000); // once refused: "runs past the trace's end"

        var (code, output, err) = CliRunner.Run("simulate", "--windows", dir, "--job-hours", "20", "--deadline-hours", "26", "--policy", "greedy,omniscient",
            "--format", "json");

        Assert.True(code == 0, err);
        using var document = JsonDocument.Parse(output);
        Assert.Equal(2, document.RootElement.GetProperty("policies").GetProperty("greedy").GetProperty("runs").GetInt32());
        Assert.Equal(JsonValueKind.Null, document.RootElement.GetProperty("scenario").GetProperty("starts").ValueKind);
    }

    [Fact]
    public void A_window_costs_the_same_whatever_its_metadata_start_time_says()
    {
        double GreedyCost(int startTime)
        {
            var dir = Directory.CreateTempSubdirectory("spotwise-windows-").FullName;
            Window(Path.Combine(dir, "0.json"), ticks: 400, startTime: startTime, preempted: i => i >= 30);
            var (code, output, err) = CliRunner.Run("simulate", "--windows", dir, "--job-hours", "20", "--deadline-hours", "26", "--policy", "greedy",
                "--format", "json");
            Assert.True(code == 0, err);
            using var document = JsonDocument.Parse(output);
            return document.RootElement.GetProperty("policies").GetProperty("greedy").GetProperty("meanCostUsd").GetDouble();
        }

        // Spot only in the first 30 ticks: a replay from tick 30 would run all on on-demand. Both must replay tick 0.
        Assert.Equal(GreedyCost(0), GreedyCost(30), 9);
    }

    [Fact]
    public void A_windows_sub_folder_runs_as_one_multi_zone_scenario_of_its_files()
    {
        var dir = Directory.CreateTempSubdirectory("spotwise-windows-").FullName;
        Window(Path.Combine(dir, "2_regions", "us-east-1a_v100_1.json"), ticks: 300, startTime: 5_000);
        Window(Path.Combine(dir, "2_regions", "us-west-2a_v100_1.json"), ticks: 300, startTime: 5_000);

        var (code, output, err) = CliRunner.Run("simulate", "--windows", dir, "--job-hours", "20", "--deadline-hours", "26", "--policy", "spotwise",
            "--format", "json");

        Assert.True(code == 0, err);
        using var document = JsonDocument.Parse(output);
        Assert.Equal(["us-east-1a", "us-west-2a"], document.RootElement.GetProperty("scenario").GetProperty("zones").EnumerateArray().Select(z => z.GetString()));
        Assert.Equal(1, document.RootElement.GetProperty("policies").GetProperty("spotwise").GetProperty("runs").GetInt32());
    }

    [Fact]
    public void A_windows_sub_folder_whose_files_do_not_align_is_refused_naming_both()
    {
        var dir = Directory.CreateTempSubdirectory("spotwise-windows-").FullName;
        Window(Path.Combine(dir, "pair", "a_v100_1.json"), ticks: 300, startTime: 0);
        Window(Path.Combine(dir, "pair", "b_v100_1.json"), ticks: 299, startTime: 0);

        var (code, _, err) = CliRunner.Run("simulate", "--windows", dir, "--job-hours", "20", "--deadline-hours", "26");

        Assert.Equal(2, code);
        Assert.Contains("error: --windows: ", err, StringComparison.Ordinal);
        Assert.Contains("a_v100_1.json has 300 ticks of 600 s but b_v100_1.json has 299 ticks of 600 s", err, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Plot_writes_the_cost_chart_and_a_timeline()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"spotwise-plots-{Guid.NewGuid():N}");
        var (code, _, err) = CliRunner.Run("simulate", "--trace", AwsZone, "--starts", "2", "--policy", "uniform-progress,spotwise", "--plot", dir);

        Assert.True(code == 0, err);
        Assert.True(new FileInfo(Path.Combine(dir, "cost-per-policy.png")).Length > 1000);
        Assert.True(new FileInfo(Path.Combine(dir, "timeline-spotwise.png")).Length > 1000);
    }

    [Theory]
    [InlineData(new[] { "--trace", "nope.json" }, "error: --trace: nope.json: no such trace file")]
    [InlineData(new[] { "--starts", "2" }, "error: --trace: give one of --trace FILE, --trace-dir DIR or --windows DIR")]
    [InlineData(new[] { "--trace", "AWS", "--policy", "lucky" }, "error: --policy: 'lucky' is not a policy")]
    [InlineData(new[] { "--trace", "AWS", "--format", "xml" }, "error: --format: 'xml' is not a format")]
    [InlineData(new[] { "--trace", "AWS", "--trace-format", "bits" }, "error: --trace-format: 'bits' is not a format")]
    [InlineData(new[] { "--trace", "AWS", "--job-hours", "-3" }, "error: --job-hours: -3 must be a number > 0")]
    [InlineData(new[] { "--trace", "AWS", "--deadline-hours", "40" }, "error: --deadline-hours: 40 must be at least the job's hours plus one overhead")]
    [InlineData(new[] { "--trace", "AWS", "--deadline-hours", "5000" }, "error: --deadline-hours: 5000 h from tick 0 runs past the trace's end")]
    [InlineData(new[] { "--trace", "AWS", "--on-demand-price", "0" }, "error: --on-demand-price: 0 must be a number > 0")]
    [InlineData(new[] { "--trace", "AWS", "--instance-type", "p9.huge" }, "error: --instance-type: 'p9.huge' is not in the catalog")]
    [InlineData(new[] { "--trace", "AWS", "--trace-dir", "GCP" }, "error: --trace-dir: cannot be used with --trace")]
    [InlineData(new[] { "--trace", "AWS", "--starts", "abc" }, "abc")]
    [InlineData(new[] { "--trace-dir", "AWSDIR", "--jobs", "SAMPLE", "--policy", "greedy" }, "error: --policy: 'greedy' is not a queue policy; with --jobs choose spotwise, on-demand or all")]
    [InlineData(new[] { "--trace-dir", "AWSDIR", "--jobs", "no-such-jobs.json" }, "'no-such-jobs.json' does not exist")]
    [InlineData(new[] { "--trace-dir", "nowhere", "--jobs", "SAMPLE" }, "error: --trace-dir: nowhere: no such trace folder")]
    public void Bad_input_exits_2_naming_the_flag_and_value(string[] args, string expected)
    {
        var resolved = args.Select(a => a switch { "AWS" => AwsZone, "GCP" => GcpDir, "AWSDIR" => AwsDir, "SAMPLE" => RepoPaths.Sample("seed-jobs.json"), _ => a }).ToArray();
        var (code, _, err) = CliRunner.Run(["simulate", .. resolved]);

        Assert.Equal(2, code);
        Assert.Contains(expected, err);
        Assert.DoesNotContain("   at ", err);
    }
}
