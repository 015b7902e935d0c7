using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Server.Why;

/// <summary>One job's hold on a pool: from its (planned) start until it is expected to free it.</summary>
public readonly record struct Hold(DateTimeOffset From, DateTimeOffset To, int Demand);

/// <summary>
/// Who holds each pool, as the store has it: every planned, launching and running job's placement, over the time the
/// planner counts it (<see cref="Scheduler.ExpectedEnd"/>). Enough to say "full until" for one job; the plan itself is
/// the planner's, this only reads it back.
/// </summary>
public sealed class PoolHolds
{
    private static readonly JobState[] Holding = [JobState.Planned, JobState.Launching, JobState.Running];

    /// <summary>The starts tried for one pool: past this many holders' ends the pool is reported full through the last.</summary>
    private const int MaxStartsTried = 500;

    private readonly Dictionary<string, List<Hold>> _byPool;

    private PoolHolds(Dictionary<string, List<Hold>> byPool) => _byPool = byPool;

    public static async Task<PoolHolds> ReadAsync(IJobStore store, JobKey except, Catalog catalog, CapacityLimits limits, DateTimeOffset now,
        TimeSpan launchAllowance, CancellationToken ct)
    {
        var byPool = new Dictionary<string, List<Hold>>(StringComparer.Ordinal);
        foreach (var j in await store.ListAsync(new JobQuery(States: Holding), ct))
        {
            if (j.Key == except || j.Placement is not { } p || catalog.Find(p.InstanceType) is not { } entry)
            {
                continue;
            }
            // A spot instance draws on its own zone's pool, as the scheduler counts it.
            var use = limits.PoolOf(catalog.OfferFor(entry, p.Market) with { Zone = p.Zone });
            var from = j.StartedAt ?? p.PlannedStart;
            var hold = new Hold(from < now ? now : from, Scheduler.ExpectedEnd(j, now, launchAllowance), use.Demand);
            (byPool.TryGetValue(use.Pool.Id, out var list) ? list : byPool[use.Pool.Id] = []).Add(hold);
        }
        return new PoolHolds(byPool);
    }

    /// <summary>How many of <paramref name="pool"/> other jobs hold at <paramref name="at"/>.</summary>
    public int InUse(string pool, DateTimeOffset at) => _byPool.GetValueOrDefault(pool)?.Where(h => h.From <= at && h.To > at).Sum(h => h.Demand) ?? 0;

    /// <summary>
    /// The first moment from <paramref name="ready"/> at which <paramref name="use"/> fits its pool for <paramref name="runHours"/>
    /// beside the other holders; null when it never does (it needs more than the pool has, or past every start tried).
    /// </summary>
    public DateTimeOffset? FreeFrom(PoolUse use, DateTimeOffset ready, double runHours)
    {
        if (use.Pool.IsUnlimited)
        {
            return ready;
        }
        if (use.Demand > use.Pool.Capacity)
        {
            return null;
        }
        var holds = _byPool.GetValueOrDefault(use.Pool.Id) ?? [];
        var starts = holds.Select(h => h.To).Where(t => t > ready).Append(ready).Distinct().Order().Take(MaxStartsTried);
        foreach (var start in starts)
        {
            var end = start.AddHours(runHours);
            var points = holds.Where(h => h.From > start && h.From < end).Select(h => h.From).Append(start);
            if (points.All(at => holds.Where(h => h.From <= at && h.To > at).Sum(h => h.Demand) + use.Demand <= use.Pool.Capacity))
            {
                return start;
            }
        }
        return null;
    }
}
