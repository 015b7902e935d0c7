using CsCheck;

namespace Spotwise.Planning.Tests;

public class CapacityTimelineTests
{
    [Fact]
    public void Max_use_is_the_highest_sum_of_overlapping_additions_in_the_range()
    {
        var timeline = new CapacityTimeline(horizon: 10, capacity: 8);
        timeline.Add(0, 4, 2);
        timeline.Add(2, 6, 3);
        timeline.Add(5, 10, 1);

        Assert.Equal(5, timeline.MaxUse(0, 10));
        Assert.Equal(2, timeline.MaxUse(0, 2));
        Assert.Equal(5, timeline.MaxUse(3, 4));
        Assert.Equal(4, timeline.MaxUse(5, 6));
        Assert.Equal(1, timeline.MaxUse(6, 10));
    }

    [Fact]
    public void Max_use_of_an_empty_range_is_zero()
    {
        var timeline = new CapacityTimeline(horizon: 10, capacity: 8);
        timeline.Add(0, 10, 3);

        Assert.Equal(0, timeline.MaxUse(4, 4));
        Assert.Equal(0, timeline.MaxUse(6, 2));
    }

    [Fact]
    public void Use_past_the_horizon_is_not_recorded()
    {
        var timeline = new CapacityTimeline(horizon: 5, capacity: 2);
        timeline.Add(3, 9, 2);

        Assert.Equal(2, timeline.MaxUse(0, 100));
        Assert.Equal(0, timeline.MaxUse(0, 3));
    }

    [Fact]
    public void Earliest_fit_on_an_empty_timeline_is_the_earliest_start()
    {
        var timeline = new CapacityTimeline(horizon: 10, capacity: 2);

        Assert.Equal(3, timeline.EarliestFit(3, 8, duration: 4, demand: 2));
    }

    [Fact]
    public void Earliest_fit_is_the_first_start_whose_whole_duration_has_room()
    {
        var timeline = new CapacityTimeline(horizon: 20, capacity: 2);
        timeline.Add(2, 3, 2);
        timeline.Add(5, 6, 1);

        // Starts 0..2 would cross the full step 2; starts 3..5 the half-used step 5.
        Assert.Equal(6, timeline.EarliestFit(0, 19, duration: 3, demand: 2));
        // A demand of 1 fits beside the half-used step 5.
        Assert.Equal(3, timeline.EarliestFit(0, 19, duration: 3, demand: 1));
        // A short job fits before the blocked step.
        Assert.Equal(0, timeline.EarliestFit(0, 19, duration: 2, demand: 2));
    }

    [Fact]
    public void Earliest_fit_jumps_over_a_long_blocked_range()
    {
        var timeline = new CapacityTimeline(horizon: 1000, capacity: 1);
        timeline.Add(1, 900, 1);

        Assert.Equal(900, timeline.EarliestFit(0, 999, duration: 5, demand: 1));
    }

    [Fact]
    public void Earliest_fit_is_minus_one_when_nothing_fits_in_the_window()
    {
        var timeline = new CapacityTimeline(horizon: 20, capacity: 2);
        timeline.Add(4, 10, 2);

        Assert.Equal(-1, timeline.EarliestFit(2, 7, duration: 3, demand: 1));
        Assert.Equal(10, timeline.EarliestFit(2, 10, duration: 3, demand: 1));
    }

    [Fact]
    public void Earliest_fit_is_minus_one_for_an_empty_window()
    {
        var timeline = new CapacityTimeline(horizon: 20, capacity: 2);

        Assert.Equal(-1, timeline.EarliestFit(5, 4, duration: 1, demand: 1));
    }

    [Fact]
    public void Earliest_fit_is_minus_one_when_the_demand_exceeds_the_capacity()
    {
        var timeline = new CapacityTimeline(horizon: 20, capacity: 4);

        Assert.Equal(-1, timeline.EarliestFit(0, 19, duration: 1, demand: 5));
    }

    [Fact]
    public void Earliest_fit_agrees_with_a_plain_array_on_random_operations()
    {
        var operation = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 40], Gen.Int[0, 40], Gen.Int[1, 12], Gen.Int[0, 5],
            (kind, a, b, length, amount) => new TimelineOp(kind, a, b, length, amount));
        var scenario = Gen.Select(Gen.Int[1, 40], Gen.Int[0, 6], operation.Array[1, 60]);

        scenario.Sample((horizon, capacity, ops) =>
        {
            var timeline = new CapacityTimeline(horizon, capacity);
            var naive = new NaiveTimeline(horizon, capacity);
            foreach (var op in ops)
            {
                var (from, to) = (Math.Min(op.A, op.B), Math.Max(op.A, op.B));
                switch (op.Kind)
                {
                    case 0:
                        timeline.Add(from, to, op.Amount);
                        naive.Add(from, to, op.Amount);
                        break;
                    case 1:
                        Assert.Equal(naive.MaxUse(from, to), timeline.MaxUse(from, to));
                        break;
                    default:
                        // The window may run past the horizon and may be empty (earliest > latest).
                        Assert.Equal(naive.EarliestFit(op.A, op.B, op.Length, op.Amount), timeline.EarliestFit(op.A, op.B, op.Length, op.Amount));
                        break;
                }
            }
        }, iter: 2000);
    }

    public sealed record TimelineOp(int Kind, int A, int B, int Length, int Amount);

    /// <summary>The obvious implementation: one counter per step, scanned.</summary>
    private sealed class NaiveTimeline(int horizon, int capacity)
    {
        private readonly int[] _use = new int[Math.Max(1, horizon)];

        public void Add(int from, int to, int demand)
        {
            for (var s = from; s < Math.Min(to, _use.Length); s++)
            {
                _use[s] += demand;
            }
        }

        public int MaxUse(int from, int to)
        {
            var max = 0;
            var any = false;
            for (var s = from; s < Math.Min(to, _use.Length); s++)
            {
                max = any ? Math.Max(max, _use[s]) : _use[s];
                any = true;
            }
            return max;
        }

        public int EarliestFit(int earliest, int latest, int duration, int demand)
        {
            for (var t = earliest; t <= latest; t++)
            {
                var fits = demand <= capacity;
                for (var s = t; fits && s < Math.Min(t + duration, _use.Length); s++)
                {
                    fits = _use[s] + demand <= capacity;
                }
                if (fits)
                {
                    return t;
                }
            }
            return -1;
        }
    }
}
