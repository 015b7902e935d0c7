using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Planning;
using Spotwise.Runtime;
using Spotwise.Runtime.Intake;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Cli.Tests;

/// <summary>
/// <c>plan</c>, the service and <c>simulate --jobs</c> tell one story: for the same queue at the same clock they find the
/// same jobs feasible and the same jobs unplanned, because the launch allowance is part of the planning problem that
/// all three solve. Before it was, <c>plan</c> placed all 200 sample jobs and the runtime missed 32 of them.
/// </summary>
public sealed class PlanAndRuntimeAgreeTests
{
    /// <summary>Where the shipped V100 traces begin: <c>simulate --jobs</c> reads relative job times against it.</summary>
    private static readonly DateTimeOffset Clock = new(2023, 2, 15, 0, 0, 0, TimeSpan.Zero);

    private static readonly string AwsDir = Path.Combine(RepoPaths.Root, "data", "traces", "aws-v100");

    [Theory]
    [InlineData("alibaba-200.json", 32)]
    [InlineData("seed-jobs.json", 1)]
    public async Task Plan_the_service_and_simulate_agree_on_which_jobs_are_feasible_and_which_are_unplanned(string sample, int unplanned)
    {
        var path = RepoPaths.Sample(sample);
        var (planned, refused) = PlanCommandVerdict(path);
        var service = await ServiceVerdictAsync(path);
        var (met, neverPlaced) = SimulateVerdict(path);

        Assert.Equal(unplanned, refused.Count);
        Assert.Equal(refused, service.Refused);
        Assert.Equal(refused, neverPlaced);
        Assert.Equal(planned, service.Planned);
        // Every job plan places meets its deadline in the run through the real cloud's boot, and no other does.
        Assert.Equal(planned, met);
    }

    [Fact]
    public void The_readme_example_job_002_is_refused_up_front_because_its_hour_of_work_cannot_follow_a_boot()
    {
        var (code, output, _) = CliRunner.Run("plan", RepoPaths.Sample("seed-jobs.json"), "--now", "2026-11-24T12:00:00Z", "--format", "json");

        Assert.Equal(1, code);
        using var doc = JsonDocument.Parse(output);
        var job002 = Assert.Single(doc.RootElement.GetProperty("unplanned").EnumerateArray());
        Assert.Equal("job-002", job002.GetProperty("jobId").GetString());
        Assert.Contains("90 s launch allowance", job002.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(90, doc.RootElement.GetProperty("launchAllowanceSeconds").GetDouble());
    }

    [Fact]
    public void Without_the_allowance_plan_places_the_jobs_that_a_cloud_boot_would_make_miss()
    {
        var (code, output, err) = CliRunner.Run("plan", RepoPaths.Sample("seed-jobs.json"), "--now", "2026-11-24T12:00:00Z", "--launch-allowance", "0",
            "--format", "json");

        Assert.True(code == 0, err);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(0, doc.RootElement.GetProperty("launchAllowanceSeconds").GetDouble());
        Assert.Contains(doc.RootElement.GetProperty("schedule").EnumerateArray(), a => a.GetProperty("jobId").GetString() == "job-002");
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("3601")]
    [InlineData("NaN")]
    public void A_launch_allowance_outside_an_hour_is_refused_naming_the_flag(string seconds)
    {
        var (code, _, err) = CliRunner.Run("plan", RepoPaths.Sample("seed-jobs.json"), "--launch-allowance", seconds);

        Assert.Equal(2, code);
        Assert.Contains("--launch-allowance", err, StringComparison.Ordinal);
        Assert.Contains(seconds, err, StringComparison.Ordinal);
    }

    private static (SortedSet<string> Planned, SortedSet<string> Refused) PlanCommandVerdict(string path)
    {
        var (code, output, err) = CliRunner.Run("plan", path, "--now", Clock.ToString("O"), "--format", "json");
        Assert.True(code is 0 or 1, err);
        using var doc = JsonDocument.Parse(output);
        return (Ids(doc.RootElement.GetProperty("schedule")), Ids(doc.RootElement.GetProperty("unplanned")));
    }

    /// <summary>The service's own path: the intake stores the file's jobs, one scheduler cycle plans them (serve's default options).</summary>
    private static async Task<(SortedSet<string> Planned, SortedSet<string> Refused)> ServiceVerdictAsync(string path)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"spotwise-agree-{Guid.NewGuid():N}");
        try
        {
            await using var store = await SqliteJobStore.OpenAsync(Path.Combine(folder, "jobs.db"), CancellationToken.None);
            var time = new FakeTimeProvider(Clock);
            var catalog = ShippedData.Catalog;
            var intake = new JobIntake(store, catalog, time);
            var submitted = await intake.SubmitAsync(Encoding.UTF8.GetBytes(await File.ReadAllTextAsync(path)), "default", CancellationToken.None);
            Assert.True(submitted.Ok, string.Join("; ", submitted.Errors));
            var scheduler = new Scheduler(store, new CatalogPriceFeed(catalog), new CpSatPlanner(), new SchedulerOptions(), time, NullLogger<Scheduler>.Instance);
            var plan = await scheduler.RunCycleAsync(CancellationToken.None);
            Assert.NotNull(plan);
            var jobs = await store.ListAsync(new JobQuery(), CancellationToken.None);
            Assert.All(jobs.Where(j => j.State == JobState.Queued), j => Assert.NotNull(j.LastError));
            return ([.. jobs.Where(j => j.State == JobState.Planned).Select(j => j.Key.Id)], [.. jobs.Where(j => j.State == JobState.Queued).Select(j => j.Key.Id)]);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static (SortedSet<string> Met, SortedSet<string> NeverPlaced) SimulateVerdict(string path)
    {
        var (code, output, err) = CliRunner.Run("simulate", "--jobs", path, "--trace-dir", AwsDir, "--policy", "spotwise", "--format", "json");
        Assert.True(code is 0 or 1, err);
        using var doc = JsonDocument.Parse(output);
        var outcomes = doc.RootElement.GetProperty("policies").GetProperty("spotwise").GetProperty("outcomes").EnumerateArray().ToList();
        return ([.. outcomes.Where(o => o.GetProperty("metDeadline").GetBoolean()).Select(o => o.GetProperty("jobId").GetString()!)],
            [.. outcomes.Where(o => o.GetProperty("unplannedReason").ValueKind == JsonValueKind.String).Select(o => o.GetProperty("jobId").GetString()!)]);
    }

    private static SortedSet<string> Ids(JsonElement list) => [.. list.EnumerateArray().Select(e => e.GetProperty("jobId").GetString()!)];
}
