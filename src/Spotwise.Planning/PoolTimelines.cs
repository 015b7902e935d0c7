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

    /// <summary>
    /// The earliest start in the option's window from <paramref name="notBefore"/> where it fits every pool it draws on,
    /// or -1. With two pools (on the savings plan) each pool's earliest fit from the other's is taken in turn until they
    /// agree: each only moves later, so it ends.
    /// </summary>
    public int EarliestFit(GridOption g, int notBefore)
    {
        // A job with scheduling windows has several ranges; the rest have one.
        foreach (var range in g.StartRanges)
        {
            var fit = EarliestFitIn(g, Math.Max(range.From, notBefore), range.To);
            if (fit >= 0)
            {
                return fit;
            }
        }
        return -1;
    }

    /// <summary>The earliest start in [<paramref name="lo"/>, <paramref name="hi"/>] where the option fits every pool it draws on, or -1.</summary>
    private int EarliestFitIn(GridOption g, int lo, int hi)
    {
        var pools = g.Option.Pools.Where(p => !p.Pool.IsUnlimited).ToList();
        while (lo <= hi)
        {
            var agreed = true;
            foreach (var pool in pools)
            {
                var fit = TimelineOf(pool.Pool).EarliestFit(lo, hi, g.DurationSteps, pool.Demand);
                if (fit < 0)
                {
                    return -1;
                }
                agreed &= fit == lo;
                lo = fit;
            }
            if (agreed)
            {
                return lo;
            }
        }
        return -1;
    }

    public void Reserve(GridOption g, int start)
    {
        foreach (var pool in g.Option.Pools.Where(p => !p.Pool.IsUnlimited))
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
