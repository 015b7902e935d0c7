using System.Collections.Concurrent;
using System.Collections.Immutable;
using Spotwise.Core;

namespace Spotwise.Runtime;

/// <summary>
/// Quotas the cloud told us about by refusing a launch (EC2's <c>VcpuLimitExceeded</c>, <c>MaxSpotInstanceCountExceeded</c>,
/// <c>InstanceLimitExceeded</c>). The configured limits are a guess at the account's quotas (a new account has none for
/// GPU classes at all); a refusal says better: the quota class on that market holds at most what is running in it now.
/// That is remembered for <see cref="Memory"/> and applied on top of the configured limits, so the scheduler's next cycle
/// and the reconciler's on-demand fallback plan into capacity that exists instead of being refused again. As instances of
/// the class end, their room comes back under the learnt limit, as it does under AWS's. It is forgotten after
/// <see cref="Memory"/> because the quota may have been raised meanwhile, and instances outside Spotwise that shared
/// it may have gone. Thread-safe; one instance per service.
/// </summary>
public sealed class LearnedLimits(TimeSpan memory)
{
    public static TimeSpan DefaultMemory { get; } = TimeSpan.FromHours(1);

    private readonly ConcurrentDictionary<(Market Market, string QuotaClass), LearnedQuota> _quotas = new();

    public LearnedLimits()
        : this(DefaultMemory)
    {
    }

    public TimeSpan Memory { get; } = memory;

    /// <summary>
    /// <paramref name="refused"/> was refused for its quota at <paramref name="at"/>; <paramref name="instances"/> are what
    /// the backends report (the live ones count). Returns what was learnt.
    /// </summary>
    public LearnedQuota QuotaReached(InstanceStatus refused, IEnumerable<InstanceStatus> instances, Catalog catalog, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(refused);
        ArgumentNullException.ThrowIfNull(catalog);
        var quotaClass = ClassOf(refused.InstanceType, catalog);
        var live = instances.Where(i => !i.IsEnded && i.Market == refused.Market && i.InstanceId != refused.InstanceId
            && ClassOf(i.InstanceType, catalog) == quotaClass).ToList();
        var learned = new LearnedQuota(refused.Market, quotaClass,
            OnDemandVcpus: live.Sum(i => catalog.Find(i.InstanceType)?.Type.Vcpus ?? 0),
            SpotPools: live.GroupBy(i => new SpotPoolKey(i.Zone, i.InstanceType)).ToImmutableDictionary(g => g.Key, g => g.Count()),
            at, refused.Refusal?.Code ?? "quota");
        _quotas[(learned.Market, learned.QuotaClass)] = learned;
        return learned;
    }

    /// <summary>What is known now (older lessons are forgotten).</summary>
    public IReadOnlyList<LearnedQuota> At(DateTimeOffset now)
    {
        foreach (var old in _quotas.Where(q => q.Value.At + Memory <= now))
        {
            _quotas.TryRemove(old);
        }
        return [.. _quotas.Values.OrderBy(q => q.Market).ThenBy(q => q.QuotaClass, StringComparer.Ordinal)];
    }

    /// <summary>
    /// The limits to plan with now: an on-demand class's vCPU quota no larger than what ran in it when it was refused; a
    /// spot class's pools (every type of the class, every zone) no larger than what each held then, none where nothing ran.
    /// </summary>
    public CapacityLimits Apply(CapacityLimits limits, Catalog catalog, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ArgumentNullException.ThrowIfNull(catalog);
        var learned = At(now);
        return learned.Count == 0 ? limits : learned.Aggregate(limits, (l, q) => q.Market == Market.OnDemand ? OnDemand(l, q) : Spot(l, q, catalog));
    }

    private static CapacityLimits OnDemand(CapacityLimits limits, LearnedQuota quota) => limits with
    {
        OnDemandVcpuQuotas = limits.OnDemandVcpuQuotas.SetItem(quota.QuotaClass,
            Math.Min(limits.OnDemandVcpuQuotas.GetValueOrDefault(quota.QuotaClass, limits.DefaultOnDemandVcpuQuota), quota.OnDemandVcpus)),
    };

    private static CapacityLimits Spot(CapacityLimits limits, LearnedQuota quota, Catalog catalog)
    {
        var types = catalog.Entries.Where(e => e.Type.QuotaClass == quota.QuotaClass).Select(e => e.Type.Name)
            .Concat(quota.SpotPools.Keys.Select(k => k.InstanceType)).ToHashSet(StringComparer.Ordinal);
        // Every pool a zone size names (the feed's, the backoff's) is capped; then the pools that held instances keep those.
        var zones = limits.ZoneSpotPoolSizes;
        foreach (var pool in zones.Keys.Where(k => types.Contains(k.InstanceType)))
        {
            zones = zones.SetItem(pool, Math.Min(zones[pool], quota.SpotPools.GetValueOrDefault(pool)));
        }
        foreach (var (pool, held) in quota.SpotPools)
        {
            zones = zones.SetItem(pool, Math.Min(limits.SpotPoolSize(pool), held));
        }
        return limits with
        {
            SpotPoolSizes = types.Aggregate(limits.SpotPoolSizes, (sizes, type) => sizes.SetItem(type, 0)),
            ZoneSpotPoolSizes = zones,
        };
    }

    private static string ClassOf(string instanceType, Catalog catalog) =>
        catalog.Find(instanceType)?.Type.QuotaClass ?? QuotaClasses.Of(instanceType.Split('.')[0]);
}

/// <summary>
/// One quota learnt from a refusal: on <paramref name="Market"/>, class <paramref name="QuotaClass"/> held
/// <paramref name="OnDemandVcpus"/> vCPUs (on-demand) or <paramref name="SpotPools"/> instances per pool (spot) when
/// <paramref name="Code"/> refused a launch at <paramref name="At"/>.
/// </summary>
public sealed record LearnedQuota(Market Market, string QuotaClass, int OnDemandVcpus, ImmutableDictionary<SpotPoolKey, int> SpotPools,
    DateTimeOffset At, string Code)
{
    public override string ToString() => Market == Market.OnDemand
        ? FormattableString.Invariant($"{Code}: on-demand {QuotaClass} holds at most {OnDemandVcpus} vCPUs")
        : FormattableString.Invariant($"{Code}: spot {QuotaClass} holds at most {SpotPools.Values.Sum()} instances");
}
