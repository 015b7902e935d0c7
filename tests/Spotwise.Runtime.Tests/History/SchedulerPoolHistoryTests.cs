using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime.History;

namespace Spotwise.Runtime.Tests.History;

/// <summary>The planning cycle with learned interruption rates, on a real SQLite store: a pool that kept interrupting loses the job.</summary>
public sealed class SchedulerPoolHistoryTests : StoreTestBase
{
    private static CancellationToken Ct => CancellationToken.None;

    /// <summary>p3.2xlarge (band 4, 3.06 $/h on demand) on spot in two zones: us-east-1a is the cheaper.</summary>
    private static readonly Catalog TwoZones = new("aws", "us-east-1",
        [Catalog.Find("p3.2xlarge")! with { SpotZones = [new ZoneSpotPrice("us-east-1a", 0.60), new ZoneSpotPrice("us-east-1b", 0.70)] }]);

    /// <summary>Read again every cycle; the default prior (100 h) and minimum (10 h).</summary>
    private readonly PoolInterruptionTracker _pools = new(PoolHistoryOptions.Default with { RefreshEvery = TimeSpan.Zero });

    private Scheduler Scheduler(string planner) => new(Store, new CatalogPriceFeed(TwoZones), Planners.Create(planner)!,
        new SchedulerOptions(), Time, NullLogger<Scheduler>.Instance, pools: _pools);

    private async Task SubmitAsync(string team, Job job) =>
        await Store.SubmitAsync([new Submission(job, team, $"{{\"jobId\":\"{job.Id}\"}}")], Time.GetUtcNow(), Ct);

    /// <summary>A job of another team that ran four hours on spot in <paramref name="zone"/> and was interrupted, through the store's updates.</summary>
    private async Task InterruptedAsync(string id, string zone, DateTimeOffset endedAt)
    {
        await SubmitAsync("past", P3Job(id, 8, 48));
        var key = new JobKey("past", id);
        var r = (await Store.GetAsync(key, Ct))!;
        var spot = new Placement(Market.Spot, "p3.2xlarge", zone, endedAt.AddHours(-4), 0.6, 3, null) { Provider = "aws" };
        r = (await Store.TryUpdateAsync(JobTransitions.Plan(r, spot, "test").Record, "test", Now, Ct))!;
        r = (await Store.TryUpdateAsync(r with { State = JobState.Launching, Attempt = 1 }, "test", endedAt.AddHours(-4), Ct))!;
        r = (await Store.TryUpdateAsync(r with { State = JobState.Running, InstanceId = "i-" + id }, "test", endedAt.AddHours(-4), Ct))!;
        Assert.NotNull(await Store.TryUpdateAsync(r with { State = JobState.Interrupted }, "spot capacity was taken back", endedAt, Ct));
    }

    private static Assignment Placed(Plan? plan, string id) => plan!.Schedule.Single(s => s.JobId == new JobKey(Team, id).ToString());

    [Theory]
    [InlineData(CpSatPlanner.PlannerName)]
    [InlineData(GreedyPlanner.PlannerName)]
    public async Task A_pool_whose_recorded_interruptions_outweigh_its_band_loses_the_job_to_the_next_zone(string planner)
    {
        await SubmitAsync(Team, P3Job("before", 4, 48));
        var before = Placed(await Scheduler(planner).RunCycleAsync(Ct), "before");
        Assert.Equal((Market.Spot, "us-east-1a"), (before.Offer.Market, before.Offer.Zone));
        // Out of the way: its hold on us-east-1a must not be what moves the next job.
        var held = (await Get("before"))!;
        await Store.TryUpdateAsync(JobTransitions.Cancel(held, Team, Now).Record, "test", Now, Ct);

        // Five four-hour attempts, each interrupted: 20 h and 5 interruptions, (5 + 100 × 0.00039) / (20 + 100) ≈ 0.042/h.
        for (var i = 0; i < 5; i++)
        {
            await InterruptedAsync($"lost-{i}", "us-east-1a", Now.AddHours(-30 + (5 * i)));
        }
        await SubmitAsync(Team, P3Job("after", 4, 48));
        var plan = await Scheduler(planner).RunCycleAsync(Ct);

        var after = Placed(plan, "after");
        Assert.Equal((Market.Spot, "us-east-1b"), (after.Offer.Market, after.Offer.Zone));
        var learned = _pools.Current.RateFor("aws", TwoZones.Entries[0], "us-east-1a");
        Assert.True(learned.Learned);
        Assert.Equal((5 + (100 * TwoZones.Entries[0].SpotInterruptionRatePerHour)) / 120, learned.RatePerHour, 9);
        // Only the pool with the history moved off its band.
        Assert.Equal(TwoZones.Entries[0].SpotInterruptionRatePerHour, after.Offer.InterruptionRatePerHour);
    }
}
