using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>One capacity timeline per limited pool, made when first used (most pools are never touched).</summary>
public sealed class PoolTimelines(int horizon)
{
    private readonly Dictionary<string, CapacityTimeline> _byPool = new(StringComparer.Ordinal);

    /// <summary>Timelines for a model, holding its reservations from the start.</summary>
    public static PoolTimelines For(GridModel model)
    {
        var pools = new PoolTimelines(model.Horizon);
        foreach (var r in model.Reserved)
        {
            pools.TimelineOf(r.Pool.Pool).Add(r.From, r.To, r.Pool.Demand);
        }
        return pools;
    }

    /// <summary>The earliest start in the option's window from <paramref name="notBefore"/> where it fits, or -1.</summary>
    public int EarliestFit(GridOption g, int notBefore)
    {
        // A job with scheduling windows has several ranges; the rest have one.
        foreach (var range in g.StartRanges)
        {
            var lo = Math.Max(range.From, notBefore);
            if (lo > range.To)
            {
                continue;
            }
            var pool = g.Option.Pool;
            var fit = pool.Pool.IsUnlimited ? lo : TimelineOf(pool.Pool).EarliestFit(lo, range.To, g.DurationSteps, pool.Demand);
            if (fit >= 0)
            {
                return fit;
            }
        }
        return -1;
    }

    public void Reserve(GridOption g, int start)
    {
        var pool = g.Option.Pool;
        if (!pool.Pool.IsUnlimited)
        {
            TimelineOf(pool.Pool).Add(start, start + g.DurationSteps, pool.Demand);
        }
    }

    private CapacityTimeline TimelineOf(Pool pool)
    {
        if (!_byPool.TryGetValue(pool.Id, out var timeline))
        {
            timeline = new CapacityTimeline(horizon, pool.Capacity);
            _byPool[pool.Id] = timeline;
        }
        return timeline;
    }
}
