using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;
using Spotwise.Runtime.Leadership;
using static Spotwise.Storage.Contract.TestJobs;

namespace Spotwise.Storage.Contract;

/// <summary>
/// What every store that replicas share does with its leader lease and the fence on the leader's writes, and what a
/// <see cref="LeaderElection"/> on it does. An implementation's test class inherits this and says how a replica opens
/// the one store (SQLite: another handle on the same file, as another process would; PostgreSQL: another data source on the same schema).
/// </summary>
public abstract class LeaseContract : IAsyncLifetime
{
    private static readonly TimeSpan Ttl = TimeSpan.FromSeconds(10);
    private readonly List<object> _opened = [];

    protected static CancellationToken Ct => CancellationToken.None;

    /// <summary>A replica's own handle on the one shared store (the first call creates it, empty); it implements <see cref="ILeaderLease"/>.</summary>
    protected abstract Task<IJobStore> OpenReplicaAsync();

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public virtual async Task DisposeAsync()
    {
        foreach (var store in _opened)
        {
            switch (store)
            {
                case IAsyncDisposable d: await d.DisposeAsync(); break;
                case IDisposable d: d.Dispose(); break;
            }
        }
    }

    private async Task<(IJobStore Store, ILeaderLease Lease)> ReplicaAsync()
    {
        var store = await OpenReplicaAsync();
        _opened.Add(store);
        return (store, Assert.IsAssignableFrom<ILeaderLease>(store));
    }

    [StoreFact]
    public async Task The_first_replica_to_try_takes_the_lease_at_epoch_1_and_another_leaves_it_alone()
    {
        var (_, a) = await ReplicaAsync();
        var (_, b) = await ReplicaAsync();
        Assert.Null(await a.CurrentAsync(Ct));

        var taken = await a.TryAcquireAsync("a", Ttl, T0, Ct);
        var tried = await b.TryAcquireAsync("b", Ttl, T0.AddSeconds(1), Ct);

        Assert.Equal(new Lease("a", 1, T0 + Ttl), taken);
        Assert.Equal(taken, tried);
        Assert.Equal(taken, await b.CurrentAsync(Ct));
    }

    [StoreFact]
    public async Task The_holder_renews_in_its_own_epoch()
    {
        var (_, a) = await ReplicaAsync();
        await a.TryAcquireAsync("a", Ttl, T0, Ct);

        var renewed = await a.TryAcquireAsync("a", Ttl, T0.AddSeconds(9), Ct);

        Assert.Equal(new Lease("a", 1, T0.AddSeconds(9) + Ttl), renewed);
    }

    [StoreFact]
    public async Task A_lapsed_lease_goes_to_the_next_replica_with_the_next_epoch()
    {
        var (_, a) = await ReplicaAsync();
        var (_, b) = await ReplicaAsync();
        await a.TryAcquireAsync("a", Ttl, T0, Ct);

        var early = await b.TryAcquireAsync("b", Ttl, T0 + Ttl - TimeSpan.FromTicks(1), Ct);
        var lapsed = await b.TryAcquireAsync("b", Ttl, T0 + Ttl, Ct);
        var late = await a.TryAcquireAsync("a", Ttl, T0 + Ttl + TimeSpan.FromSeconds(1), Ct);

        Assert.Equal("a", early.Holder);
        Assert.Equal(new Lease("b", 2, T0 + Ttl + Ttl), lapsed);
        Assert.Equal(lapsed, late);
    }

    [StoreFact]
    public async Task A_released_lease_is_free_at_once_and_only_its_holder_can_release_it()
    {
        var (_, a) = await ReplicaAsync();
        var (_, b) = await ReplicaAsync();
        await a.TryAcquireAsync("a", Ttl, T0, Ct);

        await b.ReleaseAsync("b", T0.AddSeconds(1), Ct);
        Assert.Equal("a", (await b.TryAcquireAsync("b", Ttl, T0.AddSeconds(1), Ct)).Holder);
        await a.ReleaseAsync("a", T0.AddSeconds(2), Ct);

        Assert.Equal(new Lease("b", 2, T0.AddSeconds(2) + Ttl), await b.TryAcquireAsync("b", Ttl, T0.AddSeconds(2), Ct));
    }

    [StoreFact]
    public async Task A_deposed_leaders_late_plan_and_launch_writes_are_refused_and_change_nothing()
    {
        var (storeA, a) = await ReplicaAsync();
        var (storeB, b) = await ReplicaAsync();
        await storeA.SubmitAsync([Submit(Simple("j1")), Submit(Simple("j2"))], T0, Ct);
        await a.TryAcquireAsync("a", Ttl, T0, Ct);
        var seenByA = (await storeA.GetAsync(Key("j1"), Ct))!;
        // A stops renewing (paused, partitioned); B takes over and plans j1.
        var taken = await b.TryAcquireAsync("b", Ttl, T0 + Ttl, Ct);
        Assert.Equal(2, taken.Epoch);
        JobRecord plannedByB;
        using (LeaderFence.Enter(taken.Epoch))
        {
            plannedByB = (await storeB.TryUpdateAsync(Planned((await storeB.GetAsync(Key("j1"), Ct))!), "planned by b", T0 + Ttl, Ct))!;
        }
        var eventsBefore = await storeB.EventsAsync(Key("j1"), Ct);

        // A wakes believing it leads in epoch 1: its plan, its placements and its launch intent are all refused.
        using (LeaderFence.Enter(1))
        {
            var plan = await Assert.ThrowsAsync<StaleEpochException>(() => storeA.SavePlanAsync(PlanOf("a"), T0 + Ttl, Ct));
            Assert.Equal((1, 2), (plan.Epoch, plan.StoredEpoch));
            var j2 = (await storeA.GetAsync(Key("j2"), Ct))!;
            await Assert.ThrowsAsync<StaleEpochException>(() => storeA.TryUpdateManyAsync(
                [(Planned(seenByA), "planned by a"), (Planned(j2), "planned by a")], T0 + Ttl, Ct));
            await Assert.ThrowsAsync<StaleEpochException>(() => storeA.TryUpdateAsync(
                plannedByB with { State = JobState.Launching, Attempt = 1, InstanceId = "i-from-a" }, "launching attempt 1", T0 + Ttl, Ct));
        }

        Assert.Null(await storeB.LatestPlanAsync(Ct));
        Same(plannedByB, (await storeB.GetAsync(Key("j1"), Ct))!);
        Assert.Equal(JobState.Queued, (await storeB.GetAsync(Key("j2"), Ct))!.State);
        Assert.Equal(eventsBefore.Count, (await storeB.EventsAsync(Key("j1"), Ct)).Count);
    }

    [StoreFact]
    public async Task The_current_leader_and_the_api_write_through_the_fence()
    {
        var (store, lease) = await ReplicaAsync();
        await store.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        var epoch = (await lease.TryAcquireAsync("a", Ttl, T0, Ct)).Epoch;

        using (LeaderFence.Enter(epoch))
        {
            await store.SavePlanAsync(PlanOf("a"), T0, Ct);
            Assert.NotNull(await store.TryUpdateAsync(Planned((await store.GetAsync(Key("j1"), Ct))!), "planned", T0, Ct));
        }
        // Outside leader work (a cancel through the API) nothing is fenced, whoever leads.
        var planned = (await store.GetAsync(Key("j1"), Ct))!;
        Assert.NotNull(await store.TryUpdateAsync(planned with { State = JobState.Cancelled }, "cancelled by the team", T0, Ct));
        Assert.NotNull(await store.LatestPlanAsync(Ct));
    }

    [StoreFact]
    public async Task Of_two_elections_on_one_store_exactly_one_leads()
    {
        var time = new FakeTimeProvider(T0);
        using var a = await ElectionAsync("a", time);
        using var b = await ElectionAsync("b", time);

        var terms = new[] { await a.TickAsync(Ct), await b.TickAsync(Ct) };
        time.Advance(Ttl / 3);
        terms = [.. terms, await b.TickAsync(Ct), await a.TickAsync(Ct)];

        Assert.NotNull(a.Current);
        Assert.Null(b.Current);
        Assert.Equal([1, null, null, 1], terms.Select(t => t?.Epoch));
    }

    [StoreFact]
    public async Task When_the_leader_stops_renewing_the_other_takes_over_after_the_ttl_with_a_higher_epoch()
    {
        var time = new FakeTimeProvider(T0);
        using var a = await ElectionAsync("a", time);
        using var b = await ElectionAsync("b", time);
        var first = (await a.TickAsync(Ct))!;
        var waiting = b.WhenLeaderAsync(Ct);

        // a dies: only b tries, every third of the TTL.
        var triesBeforeTakeover = 0;
        while (await b.TickAsync(Ct) is null)
        {
            Assert.False(waiting.IsCompleted);
            triesBeforeTakeover++;
            time.Advance(Ttl / 3);
        }
        var second = await waiting.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(1, first.Epoch);
        Assert.Equal(2, second.Epoch);
        // Tries at 0, 1/3, 2/3 and (a tick short of) the whole TTL find a's lease alive; the next takes it: a dead
        // leader is replaced within the TTL and a third of it.
        Assert.Equal(4, triesBeforeTakeover);
        Assert.InRange(time.GetUtcNow() - T0, Ttl, Ttl + Ttl / 3 + TimeSpan.FromTicks(4));
        // a comes back: the store says b leads, so a's term ends and its work is cancelled.
        Assert.False(first.Lost.IsCancellationRequested);
        Assert.Null(await a.TickAsync(Ct));
        Assert.True(first.Lost.IsCancellationRequested);
        Assert.Null(a.Current);
    }

    [StoreFact]
    public async Task A_leader_that_cannot_reach_the_store_steps_down_at_once()
    {
        var time = new FakeTimeProvider(T0);
        var (store, lease) = await ReplicaAsync();
        using var a = new LeaderElection(lease, new LeaderElectionOptions("a", Ttl), time, NullLogger<LeaderElection>.Instance);
        var term = (await a.TickAsync(Ct))!;

        switch (store)
        {
            case IAsyncDisposable d: await d.DisposeAsync(); break;
            case IDisposable d: d.Dispose(); break;
        }
        _opened.Remove(store);
        time.Advance(Ttl / 3);

        Assert.Null(await a.TickAsync(Ct));
        Assert.True(term.Lost.IsCancellationRequested);
    }

    [StoreFact]
    public async Task Work_of_a_lost_term_is_cancelled_and_a_stale_write_deposes_the_writer()
    {
        var time = new FakeTimeProvider(T0);
        var (storeA, leaseA) = await ReplicaAsync();
        var (_, leaseB) = await ReplicaAsync();
        await storeA.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        using var a = new LeaderElection(leaseA, new LeaderElectionOptions("a", Ttl), time, NullLogger<LeaderElection>.Instance);
        var term = (await a.TickAsync(Ct))!;
        // b takes the lease while a believes it still leads (a has not tried since).
        await leaseB.TryAcquireAsync("b", Ttl, T0 + Ttl, Ct);

        var wrote = false;
        await LeaderWork.RunAsync(a, async ct =>
        {
            var read = (await storeA.GetAsync(Key("j1"), ct))!;
            await storeA.TryUpdateAsync(Planned(read), "planned by a", T0 + Ttl, ct);
            wrote = true;
        }, NullLogger.Instance, Ct);

        Assert.False(wrote);
        Assert.True(term.Lost.IsCancellationRequested);
        Assert.Null(a.Current);
        Assert.Equal(JobState.Queued, (await storeA.GetAsync(Key("j1"), Ct))!.State);
    }

    private async Task<LeaderElection> ElectionAsync(string replicaId, TimeProvider time) =>
        new((await ReplicaAsync()).Lease, new LeaderElectionOptions(replicaId, Ttl), time, NullLogger<LeaderElection>.Instance);

    private static JobRecord Planned(JobRecord record) => record with
    {
        State = JobState.Planned,
        Placement = new Placement(Market.OnDemand, "m5.large", "us-east-1a", T0.AddHours(1), 0.096, 0.096, null),
    };

    private static PlanDocument PlanOf(string planner) => new(
        planner, T0, "optimal", new PlanDocument.TotalsView(1, 1, 0, 1, 0, 0.1, 0, 0, 0), [], []);
}
