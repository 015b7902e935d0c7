using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Runtime;
using Spotwise.Runtime.Leadership;
using Spotwise.Server.Dashboard;

namespace Spotwise.Server.Tests;

/// <summary>
/// Two services on one SQLite file, each a replica (<c>Spotwise:ReplicaId</c>): one leads and plans, the other serves
/// the API; a job submitted to the follower is planned by the leader; when the leader stops, the follower takes over
/// with the next epoch.
/// </summary>
public sealed class ReplicasTests : IAsyncDisposable
{
    private static readonly TimeSpan Within = TimeSpan.FromMinutes(2); // generous: a loaded CI machine took more than 30 s
    private readonly string _dir = Directory.CreateTempSubdirectory("spotwise-replicas-").FullName;
    private readonly List<SpotwiseServerFactory> _replicas = [];

    [Fact]
    public async Task Of_two_replicas_on_one_store_only_the_leader_plans_and_it_plans_what_the_follower_took()
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

    [Fact]
    public async Task When_the_leader_stops_the_follower_takes_over_with_the_next_epoch_and_plans()
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

    public async ValueTask DisposeAsync()
    {
        foreach (var replica in _replicas)
        {
            await replica.DisposeAsync();
        }
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A pooled connection still holds the file: the OS cleans the temp folder.
        }
    }

    /// <summary>Starts replicas a and b on one file; returns them as (leader, follower) once one leads.</summary>
    private async Task<(SpotwiseServerFactory Leader, SpotwiseServerFactory Follower)> StartTwoAsync()
    {
        var a = Replica("a");
        var b = Replica("b");
        var elected = await Task.WhenAny(Leads(a), Leads(b)).WaitAsync(Within);
        var leader = await elected == await Leads(a) ? a : b;
        return leader == a ? (a, b) : (b, a);
    }

    private static Task<SpotwiseServerFactory> Leads(SpotwiseServerFactory replica) =>
        replica.Services.GetRequiredService<ILeadership>().WhenLeaderAsync(CancellationToken.None).ContinueWith(_ => replica, TaskScheduler.Default);

    private SpotwiseServerFactory Replica(string id)
    {
        var replica = new SpotwiseServerFactory(new Dictionary<string, string>
        {
            ["Spotwise:Db"] = Path.Combine(_dir, "spotwise.db"),
            ["Spotwise:ReplicaId"] = id,
            ["Spotwise:LeaseTtl"] = "00:00:03",
        });
        _replicas.Add(replica);
        // Starts the host (the first client does).
        replica.CreateClient().Dispose();
        return replica;
    }

    private static RuntimeCounters Counters(SpotwiseServerFactory replica) => replica.Services.GetRequiredService<RuntimeCounters>();

    private static async Task<(string IsLeader, string Epoch)> LeaderMetricsAsync(SpotwiseServerFactory replica)
    {
        var lines = (await replica.CreateClient().GetStringAsync(new Uri("/metrics", UriKind.Relative))).Split('\n');
        string Value(string name) => lines.Single(l => l.StartsWith(name + " ", StringComparison.Ordinal)).Split(' ')[1];
        return (Value("spotwise_is_leader"), Value("spotwise_leader_epoch"));
    }

    /// <summary>Waits for the leader's own write that plans the job (its writes raise its change signal).</summary>
    private static async Task WaitUntilPlannedAsync(SpotwiseServerFactory leader, string id)
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

    private static StringContent Json(string id) => new(
        $$$"""{"jobId":"{{{id}}}","deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_small"}}""", Encoding.UTF8, "application/json");
}
