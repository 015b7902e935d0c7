using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime;
using Spotwise.Runtime.Reconciliation;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Compute.Slurm.Tests;

/// <summary>
/// The real control loop (Scheduler with CP-SAT, ReconcileLoop, the SQLite store) on the real local cluster. The runtime's
/// clock is a fake that starts at the real now, so its decisions (when the safety net falls back) come from the policy
/// in virtual minutes, while Slurm runs the jobs, and preempts them, in real seconds.
/// </summary>
[Collection(OneSlurmCluster.Name)]
public sealed class SlurmEndToEndTests : IAsyncLifetime, IDisposable
{
    private const string Team = "ml";
    private static CancellationToken Ct => CancellationToken.None;

    private readonly SlurmCluster _cluster = new();
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"spotwise-slurm-e2e-{Guid.NewGuid():N}");
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.FromUnixTimeSeconds(TimeProvider.System.GetUtcNow().ToUnixTimeSeconds()));
    private readonly RuntimeCounters _counters = new();
    private readonly List<SlurmCompute> _backends = [];
    private SqliteJobStore _store = null!;

    public async Task InitializeAsync() => _store = await SqliteJobStore.OpenAsync(Path.Combine(_folder, "jobs.db"), Ct);

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Cancels what the test left on the cluster (xunit calls it after <see cref="DisposeAsync"/>).</summary>
    public void Dispose()
    {
        _cluster.Dispose();
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }
    }

    /// <summary>The service's parts on this test's store, clock and cluster (a new set is a restarted service).</summary>
    private (Scheduler Scheduler, ReconcileLoop Loop, SlurmCompute Backend) Service(Func<SlurmCompute, ICompute>? wrap = null)
    {
        var backend = new SlurmCompute(_cluster.Options, _clock);
        _backends.Add(backend);
        var prices = new CatalogPriceFeed(ShippedData.Catalog);
        var allowance = TimeSpan.FromMinutes(1);
        var options = new SchedulerOptions { Settings = PlanningSettings.Default with { LaunchAllowance = allowance } };
        var scheduler = new Scheduler(_store, prices, new CpSatPlanner(), options, _clock, NullLogger<Scheduler>.Instance, _counters);
        var loop = new ReconcileLoop(_store, wrap?.Invoke(backend) ?? backend, prices, _clock, NullLogger<ReconcileLoop>.Instance,
            counters: _counters, limits: options.Limits, launchAllowance: allowance);
        return (scheduler, loop, backend);
    }

    private Job TrainJob(string id, double slackHours, string command) => new()
    {
        Id = id,
        DurationHours = 1,
        Deadline = _clock.GetUtcNow().AddHours(1 + slackHours),
        Resources = ResourceRequest.ForInstanceTypes(["m5.large"]),
        Command = command,
    };

    private async Task<JobRecord> JobAsync(string id) => (await _store.GetAsync(new JobKey(Team, id), Ct))!;

    private async Task<string> StoryAsync(string id) =>
        string.Join(" | ", (await _store.EventsAsync(new JobKey(Team, id), Ct)).Select(e => $"{e.At:HH:mm:ss} {e.To} {e.Cause}"));

    /// <summary>One step of the service as its timers would run it: plan, then reconcile.</summary>
    private static async Task StepAsync((Scheduler Scheduler, ReconcileLoop Loop, SlurmCompute Backend) service)
    {
        await service.Scheduler.RunCycleAsync(Ct);
        await service.Loop.TickAsync(Ct);
    }

    /// <summary>Steps the service (real seconds pass, the runtime's clock stands) until the job's record satisfies <paramref name="done"/>.</summary>
    private async Task StepUntilAsync((Scheduler, ReconcileLoop, SlurmCompute) service, string id, Func<JobRecord, bool> done, string what, TimeSpan? limit = null) =>
        await SlurmCluster.UntilAsync(async () =>
        {
            await StepAsync(service);
            return done(await JobAsync(id));
        }, async () => $"{id} to be {what}: {await StoryAsync(id)}; the cluster holds:\n{await _cluster.QueueAsync()}", limit);

    [ServiceFact(SlurmCluster.Variable)]
    public async Task A_spot_job_preempted_by_an_on_demand_job_falls_back_to_on_demand_and_meets_its_deadline()
    {
        var service = Service();
        await _store.SubmitAsync([new Submission(TrainJob("train", slackHours: 2, SlurmCluster.RunsOnSpotUntilPreempted), Team, "train")], _clock.GetUtcNow(), Ct);

        await service.Scheduler.RunCycleAsync(Ct);
        var planned = await JobAsync("train");
        Assert.True(planned.Placement!.Market == Market.Spot, await StoryAsync("train"));
        var fallbackAt = Assert.IsType<DateTimeOffset>(planned.Placement.FallbackAt);

        // Launched on the spot partition and running there.
        await StepUntilAsync(service, "train", j => j.State == JobState.Running, "running on spot");
        var spotToken = ClientTokens.For(new JobKey(Team, "train"), (await JobAsync("train")).Attempt);
        Assert.Equal("spot", Assert.Single(await _cluster.JobsNamedAsync(spotToken)).Partition);

        // Five virtual minutes in, another user's on-demand job needs the whole node: Slurm preempts the spot job.
        _clock.Advance(TimeSpan.FromMinutes(5));
        await StepAsync(service);
        await _cluster.SubmitNodeHogAsync(seconds: 5);
        await StepUntilAsync(service, "train", j => j.State != JobState.Running || j.Attempt > 1, "interrupted", SlurmCluster.PreemptionPatience);

        // The policy decides from here, five virtual minutes at a time: by the safety net's moment at the latest, on-demand.
        while ((await JobAsync("train")) is not { Placement.Market: Market.OnDemand, State: JobState.Launching or JobState.Running or JobState.Succeeded })
        {
            Assert.True(_clock.GetUtcNow() <= fallbackAt.AddMinutes(5), $"no fallback by {fallbackAt}: {await StoryAsync("train")}");
            _clock.Advance(TimeSpan.FromMinutes(5));
            await StepAsync(service);
        }
        await StepUntilAsync(service, "train", j => j.State.IsFinal(), "finished");

        var job = await JobAsync("train");
        Assert.True(job.State == JobState.Succeeded, await StoryAsync("train"));
        Assert.True(job.FinishedAt <= job.Job.Deadline, $"finished {job.FinishedAt}, deadline {job.Job.Deadline}");
        Assert.Equal(Market.OnDemand, job.Placement!.Market);
        Assert.Contains(JobState.Interrupted, (await _store.EventsAsync(job.Key, Ct)).Select(e => e.To));
        Assert.True(_counters.Interruptions >= 1);
        // Slurm preempted the spot attempt (requeued it) and the backend cancelled the requeued copy.
        var preempted = Assert.Single(await _cluster.JobsNamedAsync(spotToken));
        Assert.Equal(("CANCELLED", true), (preempted.State, preempted.Restarts >= 1));
        // The work finished on the on-demand partition, each attempt submitted once.
        var final = Assert.Single(await _cluster.JobsNamedAsync(ClientTokens.For(job.Key, job.Attempt)));
        Assert.Equal(("ondemand", "COMPLETED"), (final.Partition, final.State));
        for (var attempt = 1; attempt <= job.Attempt; attempt++)
        {
            Assert.True((await _cluster.JobsNamedAsync(ClientTokens.For(job.Key, attempt))).Count <= 1, $"attempt {attempt} was submitted twice");
        }
    }

    [ServiceFact(SlurmCluster.Variable)]
    public async Task A_service_that_crashed_after_submitting_finds_its_job_by_name_on_restart_and_submits_nothing_twice()
    {
        // The first service submits the job, then dies before it can record the launch.
        var crashing = Service(backend => new CrashAfterLaunch(backend));
        await _store.SubmitAsync([new Submission(TrainJob("resume", slackHours: 3, "sleep 8"), Team, "resume")], _clock.GetUtcNow(), Ct);
        await crashing.Scheduler.RunCycleAsync(Ct);
        await crashing.Loop.TickAsync(Ct);
        var token = ClientTokens.For(new JobKey(Team, "resume"), 1);
        Assert.Single(await _cluster.JobsNamedAsync(token));

        // A new service on the same store and cluster (empty memory) takes over and sees the job through.
        var restarted = Service();
        await StepUntilAsync(restarted, "resume", j => j.State.IsFinal(), "finished");

        var job = await JobAsync("resume");
        Assert.True(job.State == JobState.Succeeded, await StoryAsync("resume"));
        Assert.Equal(1, job.Attempt);
        Assert.Equal("COMPLETED", Assert.Single(await _cluster.JobsNamedAsync(token)).State);
    }

    /// <summary>The real backend, as seen by a service that dies right after sbatch returned: the launch happened, the answer is lost.</summary>
    private sealed class CrashAfterLaunch(ICompute inner) : ICompute
    {
        public async Task<InstanceStatus> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
        {
            await inner.LaunchAsync(request, cancellationToken);
            throw new IOException("the service died before it recorded the launch");
        }

        public Task<IReadOnlyList<InstanceStatus>> DescribeAsync(CancellationToken cancellationToken) => inner.DescribeAsync(cancellationToken);

        public Task TerminateAsync(string instanceId, CancellationToken cancellationToken) => inner.TerminateAsync(instanceId, cancellationToken);
    }
}
