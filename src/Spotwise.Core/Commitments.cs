using System.Collections.Immutable;

namespace Spotwise.Core;

/// <summary>
/// Capacity and money the account has already committed (docs/limits.md, docs/teams.md): reserved instances, whose fee
/// is paid whether they run or not, and a compute savings plan, a discount on on-demand spend up to a committed rate.
/// Named so, not "reservations": <see cref="PlanningProblem.Reservations"/> is capacity held by running jobs.
/// </summary>
public sealed record Commitments
{
    public static Commitments None { get; } = new();

    public ImmutableArray<ReservedInstance> ReservedInstances { get; init; } = [];

    public SavingsPlan? SavingsPlan { get; init; }

    public bool IsEmpty => ReservedInstances.IsDefaultOrEmpty && SavingsPlan is null;

    /// <summary>The reserved instances of a type in a zone, or null.</summary>
    public ReservedInstance? ReservedFor(string instanceType, string zone) => ReservedInstances.IsDefaultOrEmpty ? null
        : ReservedInstances.FirstOrDefault(r => string.Equals(r.InstanceType, instanceType, StringComparison.Ordinal)
            && string.Equals(r.Zone, zone, StringComparison.Ordinal));

    /// <summary>
    /// The offer a commitment sells, from the catalog's on-demand offer it applies to, or why there is none: what the
    /// option builder offers and what the validator checks a plan's assignment against, so both price alike.
    /// Reserved: the on-demand offer of the type in the reservation's region, moved to its zone, at 0 $/h (the fee is
    /// sunk). Savings plan: the on-demand offer at its discounted price (on-demand only: AWS Compute Savings Plans do not
    /// apply to spot).
    /// </summary>
    public CommittedOffer OfferFor(Catalog catalog, CatalogEntry entry, Market market, string zone, string commitment)
    {
        if (market != Market.OnDemand)
        {
            return CommittedOffer.None($"commitment '{commitment}' applies to on-demand capacity only; spot is not covered");
        }
        if (commitment == SavingsPlan.Name)
        {
            return SavingsPlan is not { } plan ? CommittedOffer.None("the limits file declares no savingsPlan")
                : catalog.OfferFor(entry, Market.OnDemand, zone) is { } offer ? CommittedOffer.Of(plan.Apply(offer))
                : CommittedOffer.None($"zone '{zone}' sells no on-demand {entry.Type.Name}");
        }
        var reserved = ReservedFor(entry.Type.Name, zone);
        if (reserved is null || !string.Equals(reserved.Name, commitment, StringComparison.Ordinal))
        {
            return CommittedOffer.None($"the limits file declares no reserved instance '{commitment}' for {entry.Type.Name} in {zone}");
        }
        return reserved.Apply(catalog, entry) is { } r ? CommittedOffer.Of(r)
            : CommittedOffer.None($"zone '{zone}' is in no region of the catalog that sells {entry.Type.Name}");
    }

    /// <summary>
    /// The commitment a held on-demand instance runs under, read from the price it was placed at (the store keeps the
    /// price, not the commitment): 0 $/h on a reserved type and zone is the reservation, the plan's discounted price is
    /// the savings plan. Anything else is plain on-demand.
    /// </summary>
    public Offer Recognise(Offer catalogOffer, double paidPricePerHourUsd)
    {
        if (catalogOffer.Market != Market.OnDemand)
        {
            return catalogOffer;
        }
        if (paidPricePerHourUsd <= 1e-9 && ReservedFor(catalogOffer.InstanceType.Name, catalogOffer.Zone) is { } reserved)
        {
            return catalogOffer with { PricePerHourUsd = 0, Commitment = reserved.Name };
        }
        return SavingsPlan is { } plan && catalogOffer.PricePerHourUsd > 0
            && Math.Abs(plan.Apply(catalogOffer).PricePerHourUsd - paidPricePerHourUsd) < 1e-6
            ? plan.Apply(catalogOffer) : catalogOffer;
    }
}

/// <summary>A commitment's offer, or why the commitment sells none.</summary>
public readonly record struct CommittedOffer(Offer? Offer, string? WhyNone)
{
    public static CommittedOffer Of(Offer offer) => new(offer, null);

    public static CommittedOffer None(string why) => new(null, why);
}

/// <summary>
/// Reserved instances of one type in one zone: <see cref="Count"/> of them run at no further cost, their
/// <see cref="HourlyFeeUsd"/> already paid (shown, never planned on: a sunk cost changes no decision).
/// </summary>
public sealed record ReservedInstance(string InstanceType, string Zone, int Count, double HourlyFeeUsd)
{
    /// <summary>How a plan names this commitment: <c>reserved:c5.large@us-east-1a</c>.</summary>
    public string Name => $"reserved:{InstanceType}@{Zone}";

    /// <summary>The pool of the reserved instances: capacity <see cref="Count"/>, one instance each.</summary>
    public Pool Pool => new($"reserved:{Zone}:{InstanceType}", Count);

    /// <summary>The type's on-demand offer in the zone's region, in the zone, at 0 $/h; null when the catalog sells none there.</summary>
    public Offer? Apply(Catalog catalog, CatalogEntry entry)
    {
        var region = RegionOf(catalog, Zone);
        var regional = catalog.OnDemandOffersFor(entry).FirstOrDefault(o => string.Equals(o.Region, region, StringComparison.Ordinal));
        return regional is null ? null : regional with { Zone = Zone, PricePerHourUsd = 0, Commitment = Name };
    }

    /// <summary>A zone's region: the catalog's own word, else the region the zone's name extends (AWS: us-east-1a is in us-east-1).</summary>
    public static string? RegionOf(Catalog catalog, string zone) => catalog.RegionOfZone(zone)
        ?? catalog.Regions.Where(r => zone.StartsWith(r, StringComparison.Ordinal) && zone.Length <= r.Length + 2)
            .OrderByDescending(r => r.Length).FirstOrDefault();
}

/// <summary>
/// A compute savings plan: on-demand usage is billed at (1 − <see cref="DiscountRate"/>) of its price, up to
/// <see cref="CommittedUsdPerHour"/> of such discounted spend each hour (as AWS counts the commitment: at the plan's
/// rates); beyond it, full price. Spot is not covered.
/// </summary>
public sealed record SavingsPlan(double CommittedUsdPerHour, double DiscountRate)
{
    /// <summary>How a plan names this commitment.</summary>
    public const string Name = "savings-plan";

    /// <summary>Money on the commitment's pool is counted in these units per dollar an hour (a pool's capacity is whole).</summary>
    public const double UnitsPerUsdPerHour = 10_000;

    /// <summary>
    /// The commitment as a pool: at every moment, the discounted $/h of the on-demand instances on the plan is at most the
    /// commitment. Per moment rather than per billing hour, and a run is on the plan whole or not at all: both only make
    /// the plan's cost an upper bound on the bill (docs/teams.md).
    /// </summary>
    public Pool Pool => new("savings-plan", (int)Math.Min(CapacityLimits.Unlimited - 1, Math.Floor(CommittedUsdPerHour * UnitsPerUsdPerHour + 1e-6)));

    public Offer Apply(Offer onDemand) => onDemand with { PricePerHourUsd = onDemand.PricePerHourUsd * (1 - DiscountRate), Commitment = Name };

    /// <summary>What one instance of a discounted offer draws on the commitment: its $/h, rounded up.</summary>
    public PoolUse UseOf(Offer discounted) => new(Pool, (int)Math.Ceiling(discounted.PricePerHourUsd * UnitsPerUsdPerHour - 1e-6));
}
