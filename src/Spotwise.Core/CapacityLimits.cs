using System.Collections.Immutable;

namespace Spotwise.Core;

/// <summary>
/// How much can run at once. On-demand: running vCPUs per AWS quota class (as AWS Service Quotas count them), per
/// region. Spot: how many instances of a type the market will give us at once in one zone (the spot pool, keyed by
/// zone and type).
/// </summary>
public sealed record CapacityLimits
{
    public const int Unlimited = int.MaxValue;

    public ImmutableDictionary<string, int> OnDemandVcpuQuotas { get; init; } = ImmutableDictionary<string, int>.Empty;

    /// <summary>vCPU quota for a quota class not named in <see cref="OnDemandVcpuQuotas"/>.</summary>
    public int DefaultOnDemandVcpuQuota { get; init; } = Unlimited;

    public ImmutableDictionary<string, int> SpotPoolSizes { get; init; } = ImmutableDictionary<string, int>.Empty;

    /// <summary>Instances per spot pool for an instance type not named in <see cref="SpotPoolSizes"/>.</summary>
    public int DefaultSpotPoolSize { get; init; } = Unlimited;

    /// <summary>
    /// One zone's pool of a type, sized apart from the type's other zones (<see cref="SpotPoolSizes"/> sizes every zone's
    /// pool of a type alike): a zone that just refused a launch plans with none for its cool-down, the others keep theirs.
    /// </summary>
    public ImmutableDictionary<SpotPoolKey, int> ZoneSpotPoolSizes { get; init; } = ImmutableDictionary<SpotPoolKey, int>.Empty;

    /// <summary>Reserved instances and a savings plan (docs/limits.md): they add pools of their own and cheaper offers.</summary>
    public Commitments Commitments { get; init; } = Commitments.None;

    public static CapacityLimits None { get; } = new();

    /// <summary>
    /// Defaults when the user gives no limits file: a mid-sized account's quotas (documented in docs/limits.md).
    /// </summary>
    public static CapacityLimits Default { get; } = new()
    {
        OnDemandVcpuQuotas = new Dictionary<string, int>
        {
            [QuotaClasses.Standard] = 2048,
            ["g"] = 1024,
            ["p"] = 768,
        }.ToImmutableDictionary(),
        DefaultOnDemandVcpuQuota = 256,
        DefaultSpotPoolSize = 32,
    };

    public bool IsUnlimited => DefaultOnDemandVcpuQuota == Unlimited && DefaultSpotPoolSize == Unlimited
        && OnDemandVcpuQuotas.Values.All(v => v == Unlimited) && SpotPoolSizes.Values.All(v => v == Unlimited)
        && ZoneSpotPoolSizes.Values.All(v => v == Unlimited);

    /// <summary>
    /// The pool an offer draws from and how much of it one instance uses. An offer on reserved instances draws on their
    /// pool only: the instances are already bought and reserved in their zone.
    /// </summary>
    public PoolUse PoolOf(Offer offer) => offer.Commitment is { } c && c != SavingsPlan.Name
        ? new PoolUse(ReservedPool(offer), 1)
        : offer.Market == Market.Spot
        ? new PoolUse(new Pool($"spot:{offer.Zone}:{offer.InstanceType.Name}", SpotPoolSize(new SpotPoolKey(offer.Zone, offer.InstanceType.Name))), 1)
        : new PoolUse(new Pool($"on-demand:{offer.Region}:{offer.InstanceType.QuotaClass}",
            OnDemandVcpuQuotas.GetValueOrDefault(offer.InstanceType.QuotaClass, DefaultOnDemandVcpuQuota)), offer.InstanceType.Vcpus);

    /// <summary>
    /// The second pool an offer draws from, if any: an offer on the savings plan draws its discounted $/h on the plan's
    /// commitment as well as its vCPUs on the on-demand quota.
    /// </summary>
    public PoolUse? CommitmentPoolOf(Offer offer) =>
        offer.Commitment == SavingsPlan.Name && Commitments.SavingsPlan is { } plan ? plan.UseOf(offer) : null;

    /// <summary>Every pool an offer draws from: <see cref="PoolOf"/>, then <see cref="CommitmentPoolOf"/>.</summary>
    public IEnumerable<PoolUse> PoolsOf(Offer offer) =>
        CommitmentPoolOf(offer) is { } commitment ? [PoolOf(offer), commitment] : [PoolOf(offer)];

    /// <summary>A reserved offer's pool: the declared count, or none when the limits declare no such reservation.</summary>
    private Pool ReservedPool(Offer offer) =>
        Commitments.ReservedFor(offer.InstanceType.Name, offer.Zone)?.Pool ?? new Pool($"reserved:{offer.Zone}:{offer.InstanceType.Name}", 0);

    /// <summary>
    /// The limits with each zone's spot pool no larger than what the catalog says its market holds now
    /// (<see cref="ZoneSpotPrice.Available"/>): a zone with nothing is not planned on, and one with a single instance
    /// takes a single job at a time, instead of launches the market refuses. When every zone of a type is empty the
    /// pools are left as configured: the present then says nothing about where spot comes back, and giving up spot is the
    /// spot policy's call at launch (it waits or moves to on-demand on its forecast), not the plan's.
    /// </summary>
    public CapacityLimits WithSpotAvailable(Catalog catalog)
    {
        var sizes = ZoneSpotPoolSizes;
        foreach (var entry in catalog.Entries.Where(e => e.SpotZones.Any(z => z.Available > 0)))
        {
            foreach (var zone in entry.SpotZones.Where(z => z.Available is not null))
            {
                var pool = new SpotPoolKey(zone.Zone, entry.Type.Name);
                sizes = sizes.SetItem(pool, Math.Min(SpotPoolSize(pool), Math.Max(0, zone.Available!.Value)));
            }
        }
        return ReferenceEquals(sizes, ZoneSpotPoolSizes) ? this : this with { ZoneSpotPoolSizes = sizes };
    }

    /// <summary>The size of one zone's pool of a type: its own, else the type's, else the default.</summary>
    public int SpotPoolSize(SpotPoolKey pool) => ZoneSpotPoolSizes.TryGetValue(pool, out var own) ? own
        : SpotPoolSizes.GetValueOrDefault(pool.InstanceType, DefaultSpotPoolSize);
}

/// <summary>A spot pool's key: one instance type in one zone.</summary>
public readonly record struct SpotPoolKey(string Zone, string InstanceType)
{
    public override string ToString() => $"{InstanceType} in {Zone}";
}

/// <summary>A pool of capacity shared by the jobs that draw on it: its capacity is the most in use at any moment.</summary>
public sealed record Pool(string Id, int Capacity)
{
    public bool IsUnlimited => Capacity == CapacityLimits.Unlimited;
}

/// <summary>One instance's draw on a pool: 1 instance of a spot pool, or its vCPUs of an on-demand quota.</summary>
public sealed record PoolUse(Pool Pool, int Demand);
