using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Compute.Kubernetes.Cleanup;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Compute.Kubernetes.Tests;

/// <summary>The sweep against the loopback API server and a real SQLite store: only Jobs of this installation that no job owns go.</summary>
public sealed class KubernetesOrphanSweepTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"spotwise-k8s-{Guid.NewGuid():N}");
    private KubeCluster _cluster = null!;
    private SqliteJobStore _store = null!;

    public async Task InitializeAsync()
    {
        _cluster = await KubeCluster.StartAsync(Start);
        _cluster.Server.Run = null; // pods run until the test ends them
        _store = await SqliteJobStore.OpenAsync(Path.Combine(_folder, "jobs.db"), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        await _cluster.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task A_job_the_store_does_not_hold_is_deleted_after_the_grace_while_an_owned_one_and_another_installations_stay()
    {
        var ownedJob = await LaunchedAsync("owned");
        var orphan = await _cluster.Backend.LaunchAsync(Launch("deleted-from-the-store"), CancellationToken.None);
        var otherOptions = _cluster.Options("another-installation");
        await using var other = new KubernetesJobsCompute(KubernetesComputeRegistration.CreateClient(otherOptions), otherOptions, _cluster.Clock);
        var theirs = await other.LaunchAsync(Launch("deleted-from-the-store"), CancellationToken.None);
        var sweep = new KubernetesOrphanSweep(KubernetesComputeRegistration.CreateClient(_cluster.Options("spotwise")), _cluster.Backend, _store,
            _cluster.Options("spotwise"), _cluster.Clock, NullLogger<KubernetesOrphanSweep>.Instance);

        Assert.Empty(await sweep.SweepAsync(CancellationToken.None)); // within the grace: nothing is an orphan yet
        await _cluster.PassAsync(TimeSpan.FromMinutes(11));
        var deleted = await sweep.SweepAsync(CancellationToken.None);

        var gone = Assert.Single(deleted);
        Assert.Equal((orphan.InstanceId, "its job is not in the store"), (gone.Name, gone.Reason));
        Assert.Contains(ownedJob.InstanceId, _cluster.Server.JobNames());
        Assert.DoesNotContain(orphan.InstanceId, _cluster.Server.JobNames());
        Assert.Contains(theirs.InstanceId, _cluster.Server.JobNames()); // another installation's Job of the same attempt is never touched
        Assert.Equal(1, sweep.Deleted);
    }

    /// <summary>A stored job launched as the reconcile loop does it: planned, launch intent, the backend, the record.</summary>
    private async Task<InstanceStatus> LaunchedAsync(string id)
    {
        var now = _cluster.Clock.GetUtcNow();
        var job = new Job { Id = id, DurationHours = 1, Resources = ResourceRequest.ForInstanceTypes(["m5.large"]) };
        var submitted = Assert.Single(await _store.SubmitAsync([new Submission(job, "ml", $"{{\"jobId\":\"{id}\"}}")], now, CancellationToken.None)).Record!;
        var placement = new Placement(Market.OnDemand, "m5.large", "us-east-1", now, 1, 1, FallbackAt: null);
        var planned = (await _store.TryUpdateAsync(JobTransitions.Plan(submitted, placement, "test").Record, "planned", now, CancellationToken.None))!;
        var intent = (await _store.TryUpdateAsync(JobTransitions.Launch(planned, Launch(id), "launching attempt 1").Record, "launch", now,
            CancellationToken.None))!;
        var instance = await _cluster.Backend.LaunchAsync(intent.LaunchIntent!, CancellationToken.None);
        await _store.TryUpdateAsync(JobTransitions.Launched(intent, instance.InstanceId).Record, "launched", now, CancellationToken.None);
        return instance;
    }

    private static LaunchRequest Launch(string id) =>
        new(ClientTokens.For(new JobKey("ml", id), 1), "ml", id, 1, Market.OnDemand, "m5.large", "us-east-1", 1, false, 0.5, "sleep 3600");
}
