using System.Collections.Concurrent;
using Spotwise.Core;

namespace Spotwise.Runtime;

/// <summary>
/// Spot pools (an instance type in a zone) that just refused a launch or took an instance back. The catalog cannot say
/// that a pool is empty right now; without this memory the scheduler re-plans the job onto the same empty pool every
/// cycle (hundreds of refused launches an hour on the real V100 traces). For a cool-down the pool plans with no capacity,
/// so jobs take the best other option meanwhile: the same type in another zone, another type, or on-demand. A refusal in
/// one zone says nothing of the others. Thread-safe; one instance per service.
/// </summary>
public sealed class SpotBackoff(TimeSpan coolDown)
{
    public static TimeSpan DefaultCoolDown { get; } = TimeSpan.FromMinutes(15);

    private readonly ConcurrentDictionary<SpotPoolKey, DateTimeOffset> _blockedUntil = new();

    public SpotBackoff()
        : this(DefaultCoolDown)
    {
    }

    /// <summary>The pool of <paramref name="instanceType"/> in <paramref name="zone"/> said no (or took an instance back) at <paramref name="at"/>.</summary>
    public void Refused(string zone, string instanceType, DateTimeOffset at) => _blockedUntil[new SpotPoolKey(zone, instanceType)] = at + coolDown;

    public IReadOnlyList<SpotPoolKey> BlockedAt(DateTimeOffset now) =>
        [.. _blockedUntil.Where(kv => kv.Value > now).Select(kv => kv.Key).OrderBy(k => k.InstanceType, StringComparer.Ordinal).ThenBy(k => k.Zone, StringComparer.Ordinal)];

    /// <summary>The pools cooling down now, each with the moment it plans again with its configured size.</summary>
    public IReadOnlyList<(SpotPoolKey Pool, DateTimeOffset Until)> BlockedUntil(DateTimeOffset now) =>
        [.. _blockedUntil.Where(kv => kv.Value > now).Select(kv => (kv.Key, kv.Value))
            .OrderBy(p => p.Key.InstanceType, StringComparer.Ordinal).ThenBy(p => p.Key.Zone, StringComparer.Ordinal)];

    /// <summary>The limits to plan with now: blocked spot pools hold nothing; the same type's other zones keep their size.</summary>
    public CapacityLimits Apply(CapacityLimits limits, DateTimeOffset now)
    {
        var blocked = BlockedAt(now);
        return blocked.Count == 0 ? limits : limits with
        {
            ZoneSpotPoolSizes = blocked.Aggregate(limits.ZoneSpotPoolSizes, (sizes, pool) => sizes.SetItem(pool, 0)),
        };
    }
}
