using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Runtime.Tests;

/// <summary>The planning cycle on a real SQLite store and the real CP-SAT planner.</summary>
public sealed class SchedulerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly Catalog Catalog = CatalogCsv.Parse(File.OpenText(RepoPaths.CatalogCsv), RepoPaths.CatalogCsv);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"spotwise-scheduler-{Guid.NewGuid():N}");
    private readonly FakeTimeProvider _time = new(Now);
    private SqliteJobStore _store = null!;

    public async Task InitializeAsync() => _store = await SqliteJobStore.OpenAsync(Path.Combine(_folder, "jobs.db"), CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private Scheduler Scheduler(CapacityLimits? limits = null) => new(_store, new CatalogPriceFeed(Catalog), new CpSatPlanner(),
        new SchedulerOptions { Limits = limits ?? CapacityLimits.Default }, _time, NullLogger<Scheduler>.Instance);

    private async Task SubmitAsync(params Job[] jobs) =>
        await _store.SubmitAsync([.. jobs.Select(j => new Submission(j, "ml", $"{{\"jobId\":\"{j.Id}\"}}"))], Now, CancellationToken.None);

    private static Job P3Job(string id, double hours, double deadlineHours) => new()
    {
        Id = id,
        DurationHours = hours,
        Deadline = Now.AddHours(deadlineHours),
        Resources = ResourceRequest.ForInstanceTypes(["p3.2xlarge"]),
    };

    private Task<JobRecord?> Get(string id) => _store.GetAsync(id, CancellationToken.None);

    [Fact]
    public async Task A_cycle_plans_queued_jobs_and_stores_the_plan()
    {
        await SubmitAsync(P3Job("a", 1, 4), P3Job("b", 2, 20));

        var plan = await Scheduler().RunCycleAsync(CancellationToken.None);

        Assert.NotNull(plan);
        Assert.Equal(JobState.Planned, (await Get("a"))!.State);
        var b = (await Get("b"))!;
        Assert.Equal((JobState.Planned, Market.Spot, "p3.2xlarge"), (b.State, b.Placement!.Market, b.Placement.InstanceType));
        Assert.Equal(2, (await _store.LatestPlanAsync(CancellationToken.None))!.Totals.JobsPlanned);
        Assert.Contains(await _store.EventsAsync("b", CancellationToken.None), e => e.To == JobState.Planned && e.Cause.StartsWith("planned: spot", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Capacity_a_running_job_holds_is_not_planned_again()
    {
        // One p3.2xlarge on-demand at a time, no spot: a running 2-hour job holds it.
        var limits = new CapacityLimits { OnDemandVcpuQuotas = CapacityLimits.Default.OnDemandVcpuQuotas.SetItem("p", 8), DefaultSpotPoolSize = 0 };
        await SubmitAsync(P3Job("running", 2, 3), P3Job("next", 1, 6));
        var running = (await Get("running"))!;
        await _store.TryUpdateAsync(running with
        {
            State = JobState.Planned,
            Placement = new Placement(Market.OnDemand, "p3.2xlarge", "us-east-1", Now, 3.06, 6.12, null),
        }, "planned", Now, CancellationToken.None);
        running = (await Get("running"))!;
        await _store.TryUpdateAsync(running with { State = JobState.Launching, Attempt = 1 }, "launched", Now, CancellationToken.None);
        running = (await Get("running"))!;
        await _store.TryUpdateAsync(running with { State = JobState.Running, StartedAt = Now }, "running", Now, CancellationToken.None);

        await Scheduler(limits).RunCycleAsync(CancellationToken.None);

        Assert.Equal(Now.AddHours(2), (await Get("next"))!.Placement!.PlannedStart);
    }

    [Fact]
    public async Task A_job_that_cannot_be_planned_stays_queued_with_the_reason()
    {
        await SubmitAsync(P3Job("late", 5, 2));

        await Scheduler().RunCycleAsync(CancellationToken.None);

        var late = (await Get("late"))!;
        Assert.Equal(JobState.Queued, late.State);
        Assert.StartsWith("deadline", late.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelled_jobs_are_not_planned()
    {
        await SubmitAsync(P3Job("gone", 1, 4));
        var gone = (await Get("gone"))!;
        await _store.TryUpdateAsync(gone with { State = JobState.Cancelled }, "cancelled by the user", Now, CancellationToken.None);

        Assert.Null(await Scheduler().RunCycleAsync(CancellationToken.None));
        Assert.Null((await Get("gone"))!.Placement);
    }
}
