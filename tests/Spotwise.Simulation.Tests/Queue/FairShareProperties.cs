using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime;
using Spotwise.Simulation.Queue;

namespace Spotwise.Simulation.Tests.Queue;

/// <summary>
/// Fair share over many cycles (issue 16): the real Scheduler plans a saturated queue of three teams every 15 virtual
/// minutes for two days, the test launches what is due and finishes what is done as the reconciler would, and at the end
/// each team's use of the last day's window is measured as the scheduler measures it.
/// </summary>
public class FairShareProperties
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Cycle = TimeSpan.FromMinutes(15);
    private static readonly TimeSpan Window = TimeSpan.FromHours(24);
    private static readonly string[] Teams = ["alpha", "beta", "gamma"];

    /// <summary>Four c5.large on-demand at a time and no spot: 96 instance-hours a day for 3 × ~105 h of work.</summary>
    private static readonly CapacityLimits FourSlots = new() { DefaultOnDemandVcpuQuota = 8, DefaultSpotPoolSize = 0 };

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public async Task With_saturated_capacity_and_equal_weights_each_team_gets_its_equal_share_within_10_percent(int seed)
    {
        var used = await RunAsync(seed, new FairShareSettings());

        var total = used.Values.Sum();
        Assert.True(total > 0.8 * 96, $"capacity was not saturated: {total:0.#} instance-hours used of 96");
        foreach (var team in Teams)
        {
            var share = used.GetValueOrDefault(team) / total;
            Assert.True(Math.Abs(share - (1.0 / 3)) <= 0.1 / 3, $"seed {seed}: {team} had {share:P1} of the window; equal is 33.3% ({Describe(used)})");
        }
    }

    [Fact]
    public async Task Without_fair_share_the_same_queue_is_not_shared_equally()
    {
        // The guard that the property can fail: without fair share, equal priorities go by id, so one team at a time
        // takes the capacity (alpha the first day, beta once alpha's work is done).
        var used = await RunAsync(1, fairShare: null);

        Assert.True(used.Values.Max() / used.Values.Sum() > 0.5, Describe(used));
    }

    private static async Task<Dictionary<string, double>> RunAsync(int seed, FairShareSettings? fairShare)
    {
        var random = new Random(seed);
        var clock = new VirtualClock(Start);
        var store = new InMemoryJobStore();
        var submissions = Teams.SelectMany(team => Enumerable.Range(0, 60).Select(i => new Submission(new Job
        {
            Id = $"j{i:D3}",
            DurationHours = 0.5 + random.Next(0, 6) * 0.5,
            Resources = ResourceRequest.ForInstanceTypes(["c5.large"]),
            Team = team,
        }, team, $"{{\"jobId\":\"j{i:D3}\"}}"))).ToList();
        await store.SubmitAsync([.. submissions.OrderBy(_ => random.Next())], Start, CancellationToken.None);
        var options = new SchedulerOptions
        {
            Limits = FourSlots,
            Settings = PlanningSettings.Default with { LaunchAllowance = TimeSpan.Zero },
            FairShare = fairShare,
        };
        var scheduler = new Scheduler(store, new CatalogPriceFeed(ShippedData.Catalog), new GreedyPlanner(), options, clock, NullLogger<Scheduler>.Instance);
        // Two windows: the first starts from nothing used (every team equal, so the first slots go by id); the property is
        // about the window once it slides, the second.
        for (var now = Start; now < Start + Window + Window; now += Cycle)
        {
            clock.MoveTo(now);
            await FinishAsync(store, now);
            await scheduler.RunCycleAsync(CancellationToken.None);
            await LaunchDueAsync(store, now);
        }
        var end = Start + Window + Window;
        clock.MoveTo(end);
        return TeamUsage.Measure(await store.ListAsync(new JobQuery(), CancellationToken.None), end, Window);
    }

    /// <summary>What the reconciler does for a planned job whose start has come: it runs.</summary>
    private static async Task LaunchDueAsync(InMemoryJobStore store, DateTimeOffset now)
    {
        var due = (await store.ListAsync(new JobQuery(States: [JobState.Planned]), CancellationToken.None)).Where(j => j.Placement!.PlannedStart <= now);
        foreach (var job in due)
        {
            var launching = await store.TryUpdateAsync(job with { State = JobState.Launching, Attempt = 1 }, "launched", now, CancellationToken.None);
            await store.TryUpdateAsync(launching! with { State = JobState.Running, StartedAt = now }, "running", now, CancellationToken.None);
        }
    }

    /// <summary>A running job whose work is done succeeds at the moment it ended.</summary>
    private static async Task FinishAsync(InMemoryJobStore store, DateTimeOffset now)
    {
        var running = await store.ListAsync(new JobQuery(States: [JobState.Running]), CancellationToken.None);
        foreach (var job in running.Where(j => j.StartedAt!.Value.AddHours(j.Job.DurationHours) <= now))
        {
            var ended = job.StartedAt!.Value.AddHours(job.Job.DurationHours);
            await store.TryUpdateAsync(job with { State = JobState.Succeeded, FinishedAt = ended, DoneHours = job.Job.DurationHours }, "succeeded", now, CancellationToken.None);
        }
    }

    private static string Describe(Dictionary<string, double> used) =>
        string.Join(", ", used.OrderBy(u => u.Key, StringComparer.Ordinal).Select(u => FormattableString.Invariant($"{u.Key} {u.Value:0.#} h")));
}
