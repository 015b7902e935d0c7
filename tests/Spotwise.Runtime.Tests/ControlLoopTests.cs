using System.Collections.Immutable;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime.Reconciliation;
using Spotwise.Runtime.Simulation;
using Spotwise.Runtime.Traces;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Runtime.Tests;

/// <summary>
/// The whole control loop in virtual time: the real Scheduler (CP-SAT), ReconcileLoop, SQLite store and simulated
/// cloud, hours played in milliseconds.
/// </summary>
public sealed class ControlLoopTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly Catalog Catalog = CatalogCsv.Parse(File.OpenText(RepoPaths.CatalogCsv), RepoPaths.CatalogCsv);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"spotwise-loop-{Guid.NewGuid():N}");
    private readonly FakeTimeProvider _time = new(Now);
    private SqliteJobStore _store = null!;

    public async Task InitializeAsync() => _store = await SqliteJobStore.OpenAsync(Path.Combine(_folder, "jobs.db"), CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>p3.2xlarge spot in us-east-1: one instance available for <paramref name="availableHours"/>, then none.</summary>
    private static SpotTrace P3Spot(double availableHours)
    {
        var ticks = Enumerable.Range(0, 48 * 12).Select(i => i * 5.0 / 60 < availableHours ? 1 : 0).ToImmutableArray();
        return new SpotTrace("us-east-1", "p3.2xlarge", Now, TimeSpan.FromMinutes(5), ticks);
    }

    private static Job P3Job(string id, double hours, double deadlineHours) => new()
    {
        Id = id,
        DurationHours = hours,
        Deadline = Now.AddHours(deadlineHours),
        Resources = ResourceRequest.ForInstanceTypes(["p3.2xlarge"]),
    };

    /// <summary>Plays the loop minute by minute until every job is finished or <paramref name="hours"/> have passed.</summary>
    private async Task RunAsync(SpotTrace trace, double hours, params Job[] jobs)
    {
        var feed = new CatalogPriceFeed(Catalog);
        var cloud = new SimulatedCloud(new SimulatedCloudOptions { Catalog = Catalog, SpotTraces = [trace] }, _time);
        var scheduler = new Scheduler(_store, feed, new CpSatPlanner(), new SchedulerOptions(), _time, NullLogger<Scheduler>.Instance);
        var loop = new ReconcileLoop(_store, cloud, feed, _time, NullLogger<ReconcileLoop>.Instance);
        await _store.SubmitAsync([.. jobs.Select(j => new Submission(j, "ml", j.Id))], Now, CancellationToken.None);
        var end = Now.AddHours(hours);
        while (_time.GetUtcNow() < end)
        {
            await scheduler.RunCycleAsync(CancellationToken.None);
            await loop.TickAsync(CancellationToken.None);
            var counts = await _store.CountByStateAsync(null, CancellationToken.None);
            if (counts.Where(c => !c.Key.IsFinal()).Sum(c => c.Value) == 0)
            {
                return;
            }
            _time.Advance(TimeSpan.FromMinutes(1));
        }
    }

    private async Task<IReadOnlyList<JobState>> StatesOf(string id) =>
        [.. (await _store.EventsAsync(id, CancellationToken.None)).Select(e => e.To)];

    [Fact]
    public async Task A_job_is_planned_launched_run_and_finished_in_virtual_time()
    {
        await RunAsync(P3Spot(availableHours: 48), hours: 12, P3Job("train", hours: 3, deadlineHours: 10));

        var job = (await _store.GetAsync("train", CancellationToken.None))!;
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal([JobState.Queued, JobState.Planned, JobState.Launching, JobState.Running, JobState.Succeeded], await StatesOf("train"));
        Assert.Equal(Market.Spot, job.Placement!.Market);
        Assert.True(job.FinishedAt <= job.Job.Deadline);
        Assert.InRange(job.CostSoFarUsd, 0.612 * 3 * 0.9, 0.612 * 3 * 1.1);
    }

    [Fact]
    public async Task A_spot_interruption_falls_back_to_on_demand_and_the_deadline_is_met()
    {
        // Spot disappears after an hour and never returns; 4 h of work are due in 10 h.
        await RunAsync(P3Spot(availableHours: 1), hours: 12, P3Job("train", hours: 4, deadlineHours: 10));

        var job = (await _store.GetAsync("train", CancellationToken.None))!;
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Contains(JobState.Interrupted, await StatesOf("train"));
        Assert.Equal(Market.OnDemand, job.Placement!.Market);
        Assert.True(job.FinishedAt <= job.Job.Deadline, $"finished {job.FinishedAt}, deadline {job.Job.Deadline}");
        Assert.True(job.Attempt >= 2);
    }

    [Fact]
    public async Task A_cancelled_running_job_has_its_instance_terminated()
    {
        var cloud = new SimulatedCloud(new SimulatedCloudOptions { Catalog = Catalog, SpotTraces = [P3Spot(48)] }, _time);
        var feed = new CatalogPriceFeed(Catalog);
        var scheduler = new Scheduler(_store, feed, new CpSatPlanner(), new SchedulerOptions(), _time, NullLogger<Scheduler>.Instance);
        var loop = new ReconcileLoop(_store, cloud, feed, _time, NullLogger<ReconcileLoop>.Instance);
        await _store.SubmitAsync([new Submission(P3Job("train", 3, 10), "ml", "train")], Now, CancellationToken.None);
        await scheduler.RunCycleAsync(CancellationToken.None);
        await loop.TickAsync(CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(5));
        await loop.TickAsync(CancellationToken.None);
        var running = (await _store.GetAsync("train", CancellationToken.None))!;
        Assert.Equal(JobState.Running, running.State);

        await _store.TryUpdateAsync(running with { State = JobState.Cancelled }, "cancelled by the user", _time.GetUtcNow(), CancellationToken.None);
        await loop.TickAsync(CancellationToken.None);

        var instance = Assert.Single(await cloud.DescribeAsync(CancellationToken.None));
        Assert.Equal(InstanceState.Terminated, instance.State);
    }
}
