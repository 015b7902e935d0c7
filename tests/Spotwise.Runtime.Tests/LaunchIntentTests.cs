using System.Collections.Immutable;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Compute.Simulated;
using Spotwise.Planning;
using Spotwise.Runtime.Reconciliation;
using Spotwise.Runtime.Traces;

namespace Spotwise.Runtime.Tests;

/// <summary>
/// Intent, then backend, then record: the races between a launch and the writers around it (a cancel, a re-plan, a
/// crash), played on the real loop, SQLite store and simulated cloud, with the backend's calls hooked to land the
/// other writer at the worst moment.
/// </summary>
public sealed class LaunchIntentTests : StoreTestBase, IDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly SimulatedCloud _cloud;
    private readonly HookedCompute _compute;
    private ReconcileLoop? _loopMade;

    public LaunchIntentTests()
    {
        var spot = new SpotTrace("us-east-1", "p3.2xlarge", Now, TimeSpan.FromMinutes(5), [.. Enumerable.Repeat(1, 48 * 12)]);
        _cloud = new SimulatedCloud(new SimulatedCloudOptions { Catalog = Catalog, SpotTraces = [spot] }, Time);
        _compute = new HookedCompute(_cloud);
    }

    /// <summary>The loop on the store, which exists once the test has started.</summary>
    private ReconcileLoop Loop => _loopMade ??= new ReconcileLoop(Store, _compute, new CatalogPriceFeed(Catalog), Time, NullLogger<ReconcileLoop>.Instance);

    public void Dispose() => _loopMade?.Dispose();

    /// <summary>Submits and plans one 3-hour p3 job due in 10 hours; it is due to launch now.</summary>
    private async Task<JobRecord> PlannedAsync(string id = "train")
    {
        await Store.SubmitAsync([new Submission(P3Job(id, 3, 10), Team, id)], Now, Ct);
        await new Scheduler(Store, new CatalogPriceFeed(Catalog), new GreedyPlanner(), new SchedulerOptions(), Time, NullLogger<Scheduler>.Instance)
            .RunCycleAsync(Ct);
        var planned = (await Get(id))!;
        Assert.Equal(JobState.Planned, planned.State);
        return planned;
    }

    private async Task<IReadOnlyList<InstanceStatus>> InstancesAsync() => await _cloud.DescribeAsync(Ct);

    [Fact]
    public async Task The_attempt_and_its_exact_request_are_stored_before_the_backend_is_called()
    {
        await PlannedAsync();
        JobRecord? seenByBackend = null;
        _compute.BeforeLaunch = async _ => seenByBackend = await Get("train");

        var launch = Assert.IsType<Launch>(Assert.Single(await Loop.TickAsync(Ct)));

        Assert.NotNull(seenByBackend);
        Assert.Equal((JobState.Launching, 1, launch.Request), (seenByBackend.State, seenByBackend.Attempt, seenByBackend.LaunchIntent));
        Assert.Null(seenByBackend.InstanceId);
        var recorded = (await Get("train"))!;
        Assert.Equal(Assert.Single(await InstancesAsync()).InstanceId, recorded.InstanceId);
    }

    [Fact]
    public async Task A_cancel_between_the_intent_and_the_backend_call_has_the_instance_terminated_by_the_next_tick()
    {
        await PlannedAsync();
        _compute.BeforeLaunch = async _ =>
        {
            var launching = (await Get("train"))!;
            var cancel = JobTransitions.Cancel(launching, Team, Time.GetUtcNow());
            Assert.NotNull(await Store.TryUpdateAsync(cancel.Record, cancel.Cause, Time.GetUtcNow(), Ct));
        };

        await Loop.TickAsync(Ct);
        _compute.BeforeLaunch = null;
        var cancelled = (await Get("train"))!;
        Assert.Equal(JobState.Cancelled, cancelled.State);
        // The instance was never recorded on the job: only the attempt's token ties them.
        Assert.Null(cancelled.InstanceId);
        Assert.False(Assert.Single(await InstancesAsync()).IsEnded);

        var next = await Loop.TickAsync(Ct);

        Assert.IsType<Terminate>(Assert.Single(next));
        Assert.Equal(InstanceState.Terminated, Assert.Single(await InstancesAsync()).State);
    }

    [Fact]
    public async Task A_replan_that_lands_after_the_intent_loses_and_the_launch_holds()
    {
        var planned = await PlannedAsync();
        // The scheduler read the job while it was planned and writes its new plan once the intent is stored.
        var later = planned.Placement! with { PlannedStart = Now.AddHours(2) };
        JobRecord? replanned = planned;
        _compute.BeforeLaunch = async _ =>
        {
            var plan = JobTransitions.Plan(planned, later, "a later start");
            replanned = await Store.TryUpdateAsync(plan.Record, plan.Cause, Time.GetUtcNow(), Ct);
        };

        await Loop.TickAsync(Ct);

        Assert.Null(replanned);
        var job = (await Get("train"))!;
        Assert.Equal((JobState.Launching, 1, Now), (job.State, job.Attempt, job.Placement!.PlannedStart));
        Assert.Equal(Assert.Single(await InstancesAsync()).InstanceId, job.InstanceId);
    }

    [Fact]
    public async Task A_replan_that_lands_before_the_intent_stops_the_launch_before_the_backend_is_asked()
    {
        var planned = await PlannedAsync();
        // The loop has read the job as due; the scheduler moves it later before the loop writes its intent.
        _compute.BeforeDescribe = async () =>
        {
            var plan = JobTransitions.Plan(planned, planned.Placement! with { PlannedStart = Now.AddHours(2) }, "a later start");
            Assert.NotNull(await Store.TryUpdateAsync(plan.Record, plan.Cause, Time.GetUtcNow(), Ct));
        };

        Assert.IsType<Launch>(Assert.Single(await Loop.TickAsync(Ct)));

        Assert.Empty(_compute.Launched);
        Assert.Empty(await InstancesAsync());
        var job = (await Get("train"))!;
        Assert.Equal((JobState.Planned, 0, Now.AddHours(2)), (job.State, job.Attempt, job.Placement!.PlannedStart));
        Assert.Null(job.LaunchIntent);
    }

    [Fact]
    public async Task A_crash_after_the_backend_call_before_the_record_is_settled_by_the_next_tick_with_one_instance()
    {
        await PlannedAsync();
        _compute.CrashAfterLaunch = true;

        await Loop.TickAsync(Ct);
        _compute.CrashAfterLaunch = false;
        var crashed = (await Get("train"))!;
        Assert.Equal((JobState.Launching, 1, null), (crashed.State, crashed.Attempt, crashed.InstanceId));

        Time.Advance(TimeSpan.FromMinutes(5));
        await Loop.TickAsync(Ct);

        var instance = Assert.Single(await InstancesAsync());
        var job = (await Get("train"))!;
        Assert.Equal((JobState.Running, instance.InstanceId), (job.State, job.InstanceId));
    }

    [Fact]
    public async Task A_relaunch_asks_for_the_stored_intent_though_the_work_left_has_changed()
    {
        await PlannedAsync();
        await Loop.TickAsync(Ct);
        var launching = (await Get("train"))!;
        // Progress saved meanwhile: a request rebuilt from the record would ask for 2 hours of work under the same token.
        Assert.NotNull(await Store.TryUpdateAsync(launching with { DoneHours = 1 }, "progress", Now, Ct));
        // The backend's list misses the instance once (it lost it, or answered from a stale page).
        _compute.HideInstances = true;

        var relaunch = Assert.IsType<Launch>(Assert.Single(await Loop.TickAsync(Ct)));

        Assert.Equal(launching.LaunchIntent, relaunch.Request);
        Assert.Empty(_compute.Failures);
        Assert.Equal(2, _compute.Launched.Count);
        Assert.Single(await InstancesAsync());
    }

    /// <summary>A backend with hooks where the races land: before a launch reaches it, after it answers, on describe.</summary>
    private sealed class HookedCompute(ICompute inner) : ICompute
    {
        public Func<LaunchRequest, Task>? BeforeLaunch { get; set; }

        public Func<Task>? BeforeDescribe { get; set; }

        public bool CrashAfterLaunch { get; set; }

        public bool HideInstances { get; set; }

        public List<LaunchRequest> Launched { get; } = [];

        public List<Exception> Failures { get; } = [];

        public async Task<InstanceStatus> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
        {
            if (BeforeLaunch is { } hook)
            {
                await hook(request);
            }
            Launched.Add(request);
            InstanceStatus status;
            try
            {
                status = await inner.LaunchAsync(request, cancellationToken);
            }
            catch (ArgumentException e)
            {
                Failures.Add(e);
                throw;
            }
            return CrashAfterLaunch ? throw new InvalidOperationException("the process died after the backend answered") : status;
        }

        public async Task<IReadOnlyList<InstanceStatus>> DescribeAsync(CancellationToken cancellationToken)
        {
            if (BeforeDescribe is { } hook)
            {
                BeforeDescribe = null;
                await hook();
            }
            return HideInstances ? ImmutableArray<InstanceStatus>.Empty : await inner.DescribeAsync(cancellationToken);
        }

        public Task TerminateAsync(string instanceId, CancellationToken cancellationToken) => inner.TerminateAsync(instanceId, cancellationToken);
    }
}
