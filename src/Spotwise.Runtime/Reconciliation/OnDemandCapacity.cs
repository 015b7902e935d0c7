using Spotwise.Core;

namespace Spotwise.Runtime.Reconciliation;

/// <summary>
/// The on-demand capacity a safety-net fallback may take this tick, counted as the planner counts it
/// (<see cref="CapacityLimits.PoolOf"/>: vCPUs per quota class): the quota less what launched on-demand jobs and
/// on-demand jobs due to launch now hold. Each fallback taken is held for the rest of the tick, so two jobs falling
/// back at once cannot both take the last room.
/// </summary>
public sealed class OnDemandCapacity
{
    private readonly Catalog _catalog;
    private readonly CapacityLimits _limits;
    private readonly Dictionary<string, int> _used = new(StringComparer.Ordinal);

    private OnDemandCapacity(Catalog catalog, CapacityLimits limits)
    {
        _catalog = catalog;
        _limits = limits;
    }

    /// <summary>Where on-demand fallbacks run when the job's placement names no zone.</summary>
    public string Region => _catalog.Region;

    /// <summary>What is left once the jobs holding on-demand capacity (launched, or due to launch now) are counted.</summary>
    public static OnDemandCapacity Left(IEnumerable<JobRecord> jobs, Catalog catalog, CapacityLimits limits, DateTimeOffset now)
    {
        var capacity = new OnDemandCapacity(catalog, limits);
        foreach (var job in jobs.Where(j => Holds(j, now)))
        {
            if (catalog.Find(job.Placement!.InstanceType) is { } entry)
            {
                capacity.Hold(capacity.PoolOf(entry));
            }
        }
        return capacity;
    }

    /// <summary>The cheapest on-demand type for the request whose quota has room, held for this tick; null when none has.</summary>
    public CatalogEntry? Take(ResourceRequest request)
    {
        var fits = _catalog.Entries.Where(e => request.IsSatisfiedBy(e.Type)).OrderBy(e => e.OnDemandPricePerHourUsd);
        foreach (var entry in fits)
        {
            var use = PoolOf(entry);
            if (use.Pool.IsUnlimited || _used.GetValueOrDefault(use.Pool.Id) + use.Demand <= use.Pool.Capacity)
            {
                Hold(use);
                return entry;
            }
        }
        return null;
    }

    /// <summary>Why <see cref="Take"/> found nothing, for the job's history.</summary>
    public string NoneLeft(ResourceRequest request)
    {
        var pools = _catalog.Entries.Where(e => request.IsSatisfiedBy(e.Type)).Select(PoolOf).DistinctBy(u => u.Pool.Id).ToList();
        if (pools.Count == 0)
        {
            return $"no on-demand type satisfies {request.Describe()}";
        }
        var full = string.Join(", ", pools.Select(u => FormattableString.Invariant($"{u.Pool.Id} {_used.GetValueOrDefault(u.Pool.Id)}/{u.Pool.Capacity} vCPUs in use")));
        return $"no on-demand capacity left for {request.Describe()} ({full})";
    }

    private static bool Holds(JobRecord job, DateTimeOffset now) => job.Placement is { Market: Market.OnDemand } p
        && (job.State is JobState.Launching or JobState.Running || (job.State == JobState.Planned && p.PlannedStart <= now));

    private PoolUse PoolOf(CatalogEntry entry) => _limits.PoolOf(_catalog.OfferFor(entry, Market.OnDemand));

    private void Hold(PoolUse use) => _used[use.Pool.Id] = _used.GetValueOrDefault(use.Pool.Id) + use.Demand;
}
