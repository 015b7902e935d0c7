using Spotwise.Core;
using Spotwise.Runtime.Policy;

namespace Spotwise.Runtime.Tests;

public class SpotAvailabilityHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Tick = TimeSpan.FromMinutes(1);

    private static SpotPoolReading Pool(string zone, int capacity, double? price = null) => new(zone, "p3.2xlarge", capacity, price);

    private static InstanceStatus Spot(string zone, InstanceState state, DateTimeOffset at, string id = "i-1") => new(
        id, "ml/a#1", "ml", "a", 1, Market.Spot, "p3.2xlarge", zone, state, at, state == InstanceState.Running ? at : null,
        state == InstanceState.Running ? null : at, null, 1, 0, 0, state == InstanceState.Running ? null : "no spot capacity");

    [Fact]
    public void The_timeline_counts_ticks_with_capacity_in_some_zone_and_the_spells_that_begin()
    {
        var history = new SpotAvailabilityHistory(Tick);
        // Some zone has capacity at ticks 0, 1, 3, 4, 5; none at 2 and 6: two spells.
        int[][] capacity = [[1, 0], [0, 1], [0, 0], [1, 1], [1, 0], [0, 2], [0, 0]];
        for (var t = 0; t < capacity.Length; t++)
        {
            history.Record(T0 + (Tick * t), [Pool("a", capacity[t][0]), Pool("b", capacity[t][1])]);
        }

        var market = history.At(T0 + (Tick * 6));

        Assert.Equal(new AvailabilitySummary(7, 5, 2), market.History("p3.2xlarge", 100));
        // The last three ticks (4, 5, 6): a spell under way when the window opens counts as beginning with it.
        Assert.Equal(new AvailabilitySummary(3, 2, 1), market.History("p3.2xlarge", 3));
        Assert.Equal(["a", "b"], market.PoolsOf("p3.2xlarge").Select(p => p.Zone));
        Assert.All(market.PoolsOf("p3.2xlarge"), p => Assert.False(p.Available));
        Assert.Equal(default, market.History("g5.4xlarge", 10));
    }

    [Fact]
    public void A_gap_between_samples_repeats_the_last_one_and_only_the_kept_ticks_are_summarised()
    {
        var history = new SpotAvailabilityHistory(Tick, keep: TimeSpan.FromMinutes(10));
        history.Record(T0, [Pool("a", 1)]);
        history.Record(T0 + (Tick * 4), [Pool("a", 0)]);

        Assert.Equal(new AvailabilitySummary(5, 4, 1), history.At(T0 + (Tick * 4)).History("p3.2xlarge", 100));

        history.Record(T0 + (Tick * 30), [Pool("a", 1)]);

        // Ten ticks kept: 21..29 repeat tick 4's "none", 30 has capacity.
        Assert.Equal(new AvailabilitySummary(10, 1, 1), history.At(T0 + (Tick * 30)).History("p3.2xlarge", 100));
    }

    [Fact]
    public void A_refusal_empties_a_pool_no_feed_knows_for_the_cool_down_then_it_is_worth_trying_again()
    {
        var history = new SpotAvailabilityHistory(Tick, coolDown: TimeSpan.FromMinutes(15));
        history.Observe(T0, [Spot("us-east-1a", InstanceState.Interrupted, T0)]);

        Assert.False(Assert.Single(history.At(T0 + TimeSpan.FromMinutes(14)).PoolsOf("p3.2xlarge")).Available);
        Assert.True(Assert.Single(history.At(T0 + TimeSpan.FromMinutes(15)).PoolsOf("p3.2xlarge")).Available);
    }

    [Fact]
    public void A_pool_under_an_interruption_notice_has_no_room_though_its_instance_still_runs_until_the_cool_down_after_the_interruption()
    {
        var history = new SpotAvailabilityHistory(Tick, coolDown: TimeSpan.FromMinutes(15));
        history.Observe(T0, [Spot("us-east-1a", InstanceState.Running, T0)]);
        Assert.True(Assert.Single(history.At(T0).PoolsOf("p3.2xlarge")).Available);

        // EC2's two-minute warning: the instance runs on (it checkpoints) but the pool is being taken back.
        var noticed = Spot("us-east-1a", InstanceState.Running, T0) with { InterruptionNoticeAt = T0 + Tick };
        history.Observe(T0 + Tick, [noticed]);
        history.Observe(T0 + (Tick * 2), [noticed]);

        Assert.False(Assert.Single(history.At(T0 + (Tick * 2)).PoolsOf("p3.2xlarge")).Available);
        // Empty from the notice to the cool-down after the interruption it announces (notice + 2 min + 15 min).
        Assert.False(Assert.Single(history.At(T0 + Tick + TimeSpan.FromMinutes(16)).PoolsOf("p3.2xlarge")).Available);
        Assert.True(Assert.Single(history.At(T0 + Tick + TimeSpan.FromMinutes(17)).PoolsOf("p3.2xlarge")).Available);
    }

    [Fact]
    public void A_pool_whose_capacity_our_own_instances_hold_has_no_room_for_another_job()
    {
        var history = new SpotAvailabilityHistory(Tick);
        history.Record(T0, [Pool("a", 1), Pool("b", 2)]);
        history.Observe(T0, [Spot("a", InstanceState.Running, T0), Spot("b", InstanceState.Running, T0, "i-2")]);

        var pools = history.At(T0).PoolsOf("p3.2xlarge");

        Assert.Equal([("a", false), ("b", true)], pools.Select(p => (p.Zone, p.Available)));
        // The market had capacity all the same: the forecast counts the tick as available.
        Assert.Equal(new AvailabilitySummary(1, 1, 1), history.At(T0).History("p3.2xlarge", 1));
    }

    [Fact]
    public async Task Loops_on_several_threads_can_record_and_read_at_once()
    {
        var history = new SpotAvailabilityHistory(Tick, keep: TimeSpan.FromHours(1));
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var t = 0; t < 500; t++)
            {
                history.Record(T0 + (Tick * t), [Pool($"z{w}", t % 3)]);
                _ = history.At(T0 + (Tick * t)).History("p3.2xlarge", 60);
            }
        }));

        await Task.WhenAll(writers);

        var summary = history.At(T0 + (Tick * 499)).History("p3.2xlarge", 1000);
        Assert.Equal(60, summary.Ticks);
        Assert.Equal(4, history.At(T0).PoolsOf("p3.2xlarge").Count);
    }
}
