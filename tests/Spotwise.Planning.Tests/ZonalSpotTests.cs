using Spotwise.Core;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

/// <summary>A feed that knows zones: each zone's spot pool is its own offer, price and capacity.</summary>
public class ZonalSpotTests
{
    private const string Dear = "us-east-1a";
    private const string Cheap = "us-east-1b";

    /// <summary>c5.large on spot in two zones, the second cheaper.</summary>
    private static readonly Catalog TwoZones = Zoned(TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.04)), (Dear, 0.05), (Cheap, 0.03));

    public static TheoryData<string> Planners => ["greedy", "cpsat"];

    private static IPlanner Planner(string name) => name == "greedy" ? new GreedyPlanner() : new CpSatPlanner();

    [Theory, MemberData(nameof(Planners))]
    public void A_job_is_planned_on_spot_in_the_cheaper_zone_at_that_zones_price(string planner)
    {
        var problem = Problem([Job("a", hours: 1, deadlineHours: 12)], TwoZones, CapacityLimits.Default, gridMinutes: 5);

        var a = Scheduled(PlanWith(Planner(planner), problem), "a");

        Assert.Equal((Market.Spot, Cheap, 0.03), (a.Market, a.Offer.Zone, a.Offer.PricePerHourUsd));
    }

    [Theory, MemberData(nameof(Planners))]
    public void A_zone_with_no_capacity_leaves_the_other_zone(string planner)
    {
        var limits = CapacityLimits.Default with { ZoneSpotPoolSizes = CapacityLimits.Default.ZoneSpotPoolSizes.Add(new SpotPoolKey(Cheap, "c5.large"), 0) };
        var problem = Problem([Job("a", hours: 1, deadlineHours: 12)], TwoZones, limits, gridMinutes: 5);

        var a = Scheduled(PlanWith(Planner(planner), problem), "a");

        Assert.Equal((Market.Spot, Dear), (a.Market, a.Offer.Zone));
    }

    [Theory, MemberData(nameof(Planners))]
    public void Each_zone_is_its_own_pool(string planner)
    {
        // One instance per zone's pool, and too little slack to wait for the cheap zone to free up: one job per zone.
        var limits = new CapacityLimits { SpotPoolSizes = CapacityLimits.None.SpotPoolSizes.Add("c5.large", 1) };
        var problem = Problem([Job("a", hours: 1, deadlineHours: 2.5), Job("b", hours: 1, deadlineHours: 2.5)], TwoZones, limits, gridMinutes: 5);

        var plan = PlanWith(Planner(planner), problem);

        Assert.Equal([Dear, Cheap], plan.Schedule.Where(a => a.Market == Market.Spot).Select(a => a.Offer.Zone).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void An_assignment_in_a_zone_the_catalog_does_not_sell_is_refused_naming_the_zones_it_does()
    {
        var problem = Problem([Job("a", hours: 1, deadlineHours: 12)], TwoZones, CapacityLimits.Default, gridMinutes: 5);
        var plan = new GreedyPlanner().Solve(problem, Solve(), CancellationToken.None);
        var moved = plan with { Schedule = [plan.Schedule[0] with { Offer = plan.Schedule[0].Offer with { Zone = "us-east-1z" } }] };

        var violation = Assert.Single(PlanValidator.Validate(moved, problem));

        Assert.Equal(ViolationKind.UnknownZone, violation.Kind);
        Assert.Contains("'us-east-1a', 'us-east-1b'", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_zones_the_spot_offer_is_the_regions_as_before()
    {
        var regional = TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.04));

        var offer = Assert.Single(regional.SpotOffersFor(regional.Entries[0]));

        Assert.Equal((regional.Region, 0.04), (offer.Zone, offer.PricePerHourUsd));
    }

    private static Catalog Zoned(Catalog catalog, params (string Zone, double Price)[] zones) => new(catalog.Provider, catalog.Region,
        catalog.Entries.Select(e => e with { SpotZones = [.. zones.Select(z => new ZoneSpotPrice(z.Zone, z.Price))] }));
}
