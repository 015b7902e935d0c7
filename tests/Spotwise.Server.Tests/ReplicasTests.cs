using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Runtime;
using Spotwise.Runtime.Leadership;
using Spotwise.Server.Dashboard;
using Spotwise.Storage.Postgres.Tests;

namespace Spotwise.Server.Tests;

/// <summary>Replicas on one SQLite file (one machine).</summary>
public sealed class SqliteReplicasTests : ReplicasTests
{
    [Fact]
    public Task Of_two_replicas_on_one_store_only_the_leader_plans_and_it_plans_what_the_follower_took() => OnlyTheLeaderPlansWhatTheFollowerTookAsync();

    [Fact]
    public Task When_the_leader_stops_the_follower_takes_over_with_the_next_epoch_and_plans() => TheFollowerTakesOverAsync();

    protected override Task<Dictionary<string, string>> StoreAsync() =>
        Task.FromResult(new Dictionary<string, string> { ["Spotwise:Db"] = Path.Combine(Dir, "spotwise.db") });
}

/// <summary>
/// Replicas on one PostgreSQL database (scripts/postgres-up.sh, a fresh schema per test), where a submission on the
/// follower wakes the leader through the store's notification (LISTEN/NOTIFY), not the poll.
/// </summary>
public sealed class PostgresReplicasTests : ReplicasTests
{
    private TestSchema? _schema;

    [ServiceFact("SPOTWISE_STORE")]
    public Task Of_two_replicas_on_one_store_only_the_leader_plans_and_it_plans_what_the_follower_took() => OnlyTheLeaderPlansWhatTheFollowerTookAsync();

    [ServiceFact("SPOTWISE_STORE")]
    public Task When_the_leader_stops_the_follower_takes_over_with_the_next_epoch_and_plans() => TheFollowerTakesOverAsync();

    [ServiceFact("SPOTWISE_STORE")]
    public async Task A_job_submitted_to_the_follower_wakes_the_leader_at_once_by_notification_not_by_the_poll()
    {
        // The poll that finds a follower's jobs without a notification looks once a day here, and the periodic cycle runs
        // on the fake clock, which stands still: only the store's notification can wake the leader.
        var (leader, follower) = await StartTwoAsync(new Dictionary<string, string> { ["Spotwise:FollowerWakePoll"] = "1.00:00:00" });
        await leader.Services.GetRequiredService<SchedulerLoop>().Listening.WaitAsync(Within);
        // The leader's first cycle (at its election) is over before the job exists, so it cannot be what plans it.
        await WaitForAsync(() => Counters(leader).Cycles >= 1);
        var cyclesBefore = Counters(leader).Cycles;
        using var toFollower = follower.ClientFor("k1");

        using var posted = await toFollower.PostAsync("/api/jobs", Json("job-1"));
        var submitted = TimeProvider.System.GetTimestamp();
        await WaitUntilPlannedAsync(leader, "job-1");

        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        Assert.InRange(TimeProvider.System.GetElapsedTime(submitted), TimeSpan.Zero, Within);
        // The loop counts a cycle once it returns, after the cycle has stored the placement the wait above saw.
        await WaitForAsync(() => Counters(leader).Cycles > cyclesBefore);
        Assert.Equal(0, Counters(follower).Cycles);
    }

    [ServiceFact("SPOTWISE_STORE")]
    public async Task Two_services_on_postgresql_without_a_replica_id_still_elect_one_leader()
    {
        var a = await ReplicaAsync(null);
        var b = await ReplicaAsync(null);

        var first = await Task.WhenAny(Leads(a), Leads(b)).WaitAsync(Within);

        var leader = await first;
        var follower = leader == a ? b : a;
        Assert.Equal("ok: leader, epoch 1", await leader.CreateClient().GetStringAsync(new Uri("/healthz", UriKind.Relative)));
        Assert.Equal("ok: follower", await follower.CreateClient().GetStringAsync(new Uri("/healthz", UriKind.Relative)));
    }

    protected override async Task<Dictionary<string, string>> StoreAsync()
    {
        _schema = await TestSchema.CreateAsync();
        return new Dictionary<string, string> { ["Spotwise:Store"] = _schema.ConnectionString };
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_schema is not null)
        {
            await _schema.DisposeAsync();
        }
    }
}

/// <summary>
/// Two services on one store, each a replica (<c>Spotwise:ReplicaId</c>): one leads and plans, the other serves the
/// API; a job submitted to the follower is planned by the leader; when the leader stops, the follower takes over with
/// the next epoch. Run on each store that replicas can share.
/// </summary>
public abstract class ReplicasTests : IAsyncDisposable
{
    protected static readonly TimeSpan Within = TimeSpan.FromMinutes(4); // generous: a loaded CI machine took more than 30 s, and over 2 min at load 30
    private readonly List<SpotwiseServerFactory> _replicas = [];
    private Dictionary<string, string>? _store;

    protected string Dir { get; } = Directory.CreateTempSubdirectory("spotwise-replicas-").FullName;

    /// <summary>The settings that put a replica on this test's store (made once per test, shared by its replicas).</summary>
    protected abstract Task<Dictionary<string, string>> StoreAsync();

    protected async Task OnlyTheLeaderPlansWhatTheFollowerTookAsync()
    {
        var (leader, follower) = await StartTwoAsync();
        using var toFollower = follower.ClientFor("k1");

        using var posted = await toFollower.PostAsync("/api/jobs", Json("job-1"));
        await WaitUntilPlannedAsync(leader, "job-1");

        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        Assert.True(Counters(leader).Cycles > 0);
        Assert.Equal(0, Counters(follower).Cycles);
        Assert.Equal("ok: leader, epoch 1", await leader.CreateClient().GetStringAsync(new Uri("/healthz", UriKind.Relative)));
        Assert.Equal("ok: follower", await follower.CreateClient().GetStringAsync(new Uri("/healthz", UriKind.Relative)));
        Assert.Equal(("1", "1"), await LeaderMetricsAsync(leader));
        Assert.Equal(("0", "0"), await LeaderMetricsAsync(follower));
    }

    protected async Task TheFollowerTakesOverAsync()
    {
        var (leader, follower) = await StartTwoAsync();
        var waiting = follower.Services.GetRequiredService<ILeadership>().WhenLeaderAsync(CancellationToken.None);

        await leader.DisposeAsync();
        _replicas.Remove(leader);
        var term = await waiting.WaitAsync(Within);
        using var client = follower.ClientFor("k1");
        using var posted = await client.PostAsync("/api/jobs", Json("job-2"));
        await WaitUntilPlannedAsync(follower, "job-2");

        Assert.Equal(2, term.Epoch);
        Assert.Equal("ok: leader, epoch 2", await follower.CreateClient().GetStringAsync(new Uri("/healthz", UriKind.Relative)));
    }

    public virtual async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }
        GC.SuppressFinalize(this);
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
            // A pooled connection still holds the file: the OS cleans the temp folder.
        }
    }

    /// <summary>Starts replicas a and b on the store; returns them as (leader, follower) once one leads.</summary>
    protected async Task<(SpotwiseServerFactory Leader, SpotwiseServerFactory Follower)> StartTwoAsync(Dictionary<string, string>? settings = null)
    {
        var a = await ReplicaAsync("a", settings);
        var b = await ReplicaAsync("b", settings);
        var elected = await Task.WhenAny(Leads(a), Leads(b)).WaitAsync(Within);
        var leader = await elected == await Leads(a) ? a : b;
        return leader == a ? (a, b) : (b, a);
    }

    protected static Task<SpotwiseServerFactory> Leads(SpotwiseServerFactory replica) =>
        replica.Services.GetRequiredService<ILeadership>().WhenLeaderAsync(CancellationToken.None).ContinueWith(_ => replica, TaskScheduler.Default);

    /// <summary>A started service on the store, as replica <paramref name="id"/> (none: no <c>Spotwise:ReplicaId</c>).</summary>
    protected async Task<SpotwiseServerFactory> ReplicaAsync(string? id, Dictionary<string, string>? settings = null)
    {
        _store ??= await StoreAsync();
        var all = new Dictionary<string, string>(_store) { ["Spotwise:LeaseTtl"] = "00:00:03" };
        if (id is not null)
        {
            all["Spotwise:ReplicaId"] = id;
        }
        foreach (var (key, value) in settings ?? [])
        {
            all[key] = value;
        }
        var replica = new SpotwiseServerFactory(all);
        _replicas.Add(replica);
        // Starts the host (the first client does).
        replica.CreateClient().Dispose();
        return replica;
    }

    /// <summary>Waits for a condition no event announces, looking every 20 ms, for at most <see cref="Within"/>.</summary>
    protected static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (long)(Within.TotalSeconds * TimeProvider.System.TimestampFrequency);
        while (!condition())
        {
            Assert.True(TimeProvider.System.GetTimestamp() < deadline, $"the condition did not hold within {Within}");
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
    }

    protected static RuntimeCounters Counters(SpotwiseServerFactory replica) => replica.Services.GetRequiredService<RuntimeCounters>();

    protected static async Task<(string IsLeader, string Epoch)> LeaderMetricsAsync(SpotwiseServerFactory replica)
    {
        var lines = (await replica.CreateClient().GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n');
        string Value(string name) => lines.Single(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ')[1];
        return (Value("spotwise_is_leader"), Value("spotwise_leader_epoch"));
    }

    /// <summary>Waits for the leader's own write that plans the job (its writes raise its change signal).</summary>
    protected static async Task WaitUntilPlannedAsync(SpotwiseServerFactory leader, string id)
    {
        var store = leader.Services.GetRequiredService<IJobStore>();
        var signal = leader.Services.GetRequiredService<ChangeSignal>();
        using var timeout = new CancellationTokenSource(Within);
        while (true)
        {
            var next = signal.NextAsync(timeout.Token);
            // Planned or beyond: the leader's reconcile loop may launch it before this wait reads it again.
            if ((await store.GetAsync(new JobKey("team-a", id), timeout.Token)) is { State: not JobState.Queued })
            {
                return;
            }
            await next;
        }
    }

    protected static StringContent Json(string id) => new(
        $$$"""{"jobId":"{{{id}}}","deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_small"}}""", Encoding.UTF8, "application/json");
}
