using System.Collections.Concurrent;
using Spotwise.Core;

namespace Spotwise.Runtime;

/// <summary>
/// Spot pools that just refused a launch or took an instance back. The catalog cannot say that a pool is empty
/// right now; without this memory the scheduler re-plans the job onto the same empty pool every cycle (hundreds of
/// refused launches an hour on the real V100 traces). For a cool-down the pool plans with no capacity, so jobs take
/// the best other option meanwhile. Thread-safe; one instance per service.
/// </summary>
public sealed class SpotBackoff(TimeSpan coolDown)
{
    public static TimeSpan DefaultCoolDown { get; } = TimeSpan.FromMinutes(15);

    private readonly ConcurrentDictionary<string, DateTimeOffset> _blockedUntil = new(StringComparer.Ordinal);

    public SpotBackoff()
        : this(DefaultCoolDown)
    {
    }

    /// <summary>The pool of <paramref name="instanceType"/> said no (or took an instance back) at <paramref name="at"/>.</summary>
    public void Refused(string instanceType, DateTimeOffset at) => _blockedUntil[instanceType] = at + coolDown;

    public IReadOnlyList<string> BlockedAt(DateTimeOffset now) => [.. _blockedUntil.Where(kv => kv.Value > now).Select(kv => kv.Key).Order(StringComparer.Ordinal)];

    /// <summary>The limits to plan with now: blocked spot pools hold nothing.</summary>
    public CapacityLimits Apply(CapacityLimits limits, DateTimeOffset now)
    {
        var blocked = BlockedAt(now);
        return blocked.Count == 0 ? limits : limits with
        {
            SpotPoolSizes = blocked.Aggregate(limits.SpotPoolSizes, (sizes, type) => sizes.SetItem(type, 0)),
        };
    }
}
