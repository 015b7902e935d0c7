using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime;
using Spotwise.Runtime.Reconciliation;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Compute.Kubernetes.Tests;

/// <summary>
/// Issue 13's interruption end-to-end test on Kubernetes: the real Scheduler (CP-SAT), ReconcileLoop and SQLite store,
/// the Kubernetes backend on the real KubernetesClient against the loopback API server, all on one fake clock. A job
/// planned on spot runs 20 minutes; Karpenter takes its spot node away; the Job fails by its pod failure policy; the
/// runtime reads an interruption, falls back to on-demand, and the job finishes before its deadline.
/// </summary>
public sealed class KubernetesEndToEndTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly JobKey Key = new("ml", "train");

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"spotwise-k8s-{Guid.NewGuid():N}");
    private KubeCluster _cluster = null!;
    private SqliteJobStore _store = null!;

    public async Task InitializeAsync()
    {
        _cluster = await KubeCluster.StartAsync(Start);
        _cluster.Server.Run = TimeSpan.FromHours(1); // the job's command: an hour of work
        _store = await SqliteJobStore.OpenAsync(Path.Combine(_folder, "jobs.db"), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _cluster.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_spot_node_taken_away_is_an_interruption_the_runtime_answers_on_demand_and_the_deadline_is_met()
    {
        var allowance = new KubernetesComputeOptions().LaunchAllowance;
        var options = new SchedulerOptions { Settings = PlanningSettings.Default with { LaunchAllowance = allowance } };
        var feed = new CatalogPriceFeed(ShippedData.Catalog);
        var scheduler = new Scheduler(_store, feed, new CpSatPlanner(), options, _cluster.Clock, NullLogger<Scheduler>.Instance);
        var loop = new ReconcileLoop(_store, _cluster.Backend, feed, _cluster.Clock, NullLogger<ReconcileLoop>.Instance, launchAllowance: allowance);
        var job = new Job
        {
            Id = Key.Id,
            DurationHours = 1,
            Deadline = Start.AddMinutes(150),
            Resources = ResourceRequest.ForInstanceTypes(["m5.large"]),
            Command = "python train.py",
            Image = "python:3.12-slim",
        };
        await _store.SubmitAsync([new Submission(job, Key.Team, Key.Id)], Start, CancellationToken.None);

        async Task StepAsync()
        {
            await _cluster.PassAsync(TimeSpan.FromMinutes(5));
            await scheduler.RunCycleAsync(CancellationToken.None);
            await loop.TickAsync(CancellationToken.None);
        }

        await scheduler.RunCycleAsync(CancellationToken.None);
        await loop.TickAsync(CancellationToken.None);
        var first = await GetAsync();
        Assert.Equal(Market.Spot, first.Placement!.Market);
        var spotJob = Assert.Single(_cluster.Server.JobNames());
        Assert.Equal("spot", CapacityType(spotJob));
        Assert.Equal("python:3.12-slim", _cluster.Server.Job(spotJob)["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());

        while (_cluster.Clock.GetUtcNow() < Start.AddMinutes(20))
        {
            await StepAsync();
        }
        Assert.Equal(JobState.Running, (await GetAsync()).State);

        _cluster.Server.TakeSpotNodeAway(spotJob);
        while ((await GetAsync()).State != JobState.Succeeded && _cluster.Clock.GetUtcNow() < Start.AddHours(3))
        {
            await StepAsync();
        }

        var done = await GetAsync();
        Assert.Equal(JobState.Succeeded, done.State);
        Assert.True(done.FinishedAt <= job.Deadline, $"finished at {done.FinishedAt}, after the deadline {job.Deadline}");
        Assert.Equal(Market.OnDemand, done.Placement!.Market);
        var events = await _store.EventsAsync(Key, CancellationToken.None);
        Assert.Contains(events, e => e.To == JobState.Interrupted);
        Assert.DoesNotContain(events, e => e.To == JobState.Failed);
        var onDemandJob = Assert.Single(_cluster.Server.JobNames(), n => n != spotJob);
        Assert.Equal("on-demand", CapacityType(onDemandJob));
    }

    private string CapacityType(string name) =>
        _cluster.Server.Job(name)["spec"]!["template"]!["spec"]!["nodeSelector"]!["karpenter.sh/capacity-type"]!.GetValue<string>();

    private async Task<JobRecord> GetAsync() => (await _store.GetAsync(Key, CancellationToken.None))!;
}
