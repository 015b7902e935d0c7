using System.Collections.Immutable;
using CsCheck;

namespace Spotwise.Core.Tests;

public class OptionBuilderTests
{
    private static readonly DateTimeOffset Now = TestData.Now;

    private static JobOptions OptionsFor(Job job, CapacityLimits? limits = null, PlanningSettings? settings = null) =>
        OptionBuilder.ForJob(new PlanningProblem(Now, [job], TestData.Catalog, limits ?? CapacityLimits.None, settings ?? PlanningSettings.Default), job);

    [Fact]
    public void A_job_whose_deadline_is_too_close_has_no_options_and_a_reason_naming_the_deadline()
    {
        var job = TestData.Job("late", 4, deadline: Now.AddHours(3));

        var options = OptionsFor(job);

        Assert.False(options.IsPlannable);
        Assert.Empty(options.Options);
        Assert.Contains("deadline 2026-11-24T11:00:00+00:00 cannot be met", options.WhyNone, StringComparison.Ordinal);
        Assert.Contains("4 h", options.WhyNone, StringComparison.Ordinal);
    }

    [Fact]
    public void A_deadline_too_close_to_a_later_earliest_start_is_measured_from_that_start()
    {
        var job = TestData.Job("late", 2, deadline: Now.AddHours(5), earliestStart: Now.AddHours(4));

        var options = OptionsFor(job);

        Assert.Empty(options.Options);
        Assert.Contains("after 2026-11-24T12:00:00+00:00", options.WhyNone, StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_that_exactly_fits_before_its_deadline_gets_on_demand_options_ending_on_the_deadline()
    {
        var job = TestData.Job("tight", 4, deadline: Now.AddHours(4));

        var options = OptionsFor(job);

        Assert.NotEmpty(options.Options);
        Assert.All(options.Options, o => Assert.Equal((Market.OnDemand, Now, Now), (o.Offer.Market, o.EarliestStart, o.LatestStart!.Value)));
    }

    [Fact]
    public void Spot_is_not_offered_when_slack_cannot_absorb_a_fallback()
    {
        // 4 h of work that cannot checkpoint, due in 6 h: an interruption at 3h59 would need 4h06 more.
        var job = TestData.Job("rigid", 4, deadline: Now.AddHours(6));

        var options = OptionsFor(job);

        Assert.NotEmpty(options.Options);
        Assert.All(options.Options, o => Assert.Equal(Market.OnDemand, o.Offer.Market));
        Assert.All(options.Options, o => Assert.Null(o.FallbackAt));
    }

    [Fact]
    public void A_checkpointable_job_with_modest_slack_gets_spot_with_its_safety_net()
    {
        // Same 4 h due in 5 h, but checkpointing every 30 min: it risks 30 min + 6 min restart, so it fits.
        var job = TestData.Job("resumable", 4, deadline: Now.AddHours(5), checkpointable: true);

        var options = OptionsFor(job);

        var spot = options.Options.Where(o => o.Offer.Market == Market.Spot).ToList();
        Assert.NotEmpty(spot);
        Assert.All(spot, o => Assert.Equal(CostModel.LatestSafeSpotStart(job), o.LatestStart));
        Assert.All(spot, o => Assert.Equal(CostModel.FallbackAt(job), o.FallbackAt));
        Assert.Equal(Market.Spot, options.Cheapest!.Offer.Market);
        Assert.DoesNotContain(OptionsFor(job with { Checkpointable = false }).Options, o => o.Offer.Market == Market.Spot);
    }

    [Fact]
    public void Spot_is_offered_when_the_slack_exactly_absorbs_a_fallback()
    {
        var job = TestData.Job("edge", 4, deadline: Now.AddHours(8.25)) with { RestartOverheadHours = 0.25 };

        var spot = OptionsFor(job).Options.Where(o => o.Offer.Market == Market.Spot).ToList();

        Assert.NotEmpty(spot);
        Assert.All(spot, o => Assert.Equal(Now, o.LatestStart));
        Assert.DoesNotContain(OptionsFor(job with { Deadline = Now.AddHours(8.2) }).Options, o => o.Offer.Market == Market.Spot);
    }

    [Fact]
    public void A_job_without_deadline_has_open_windows_on_both_markets()
    {
        var options = OptionsFor(TestData.Job("open", 3, resourceClass: "gpu_large"));

        Assert.Contains(options.Options, o => o.Offer.Market == Market.Spot);
        Assert.Contains(options.Options, o => o.Offer.Market == Market.OnDemand);
        Assert.All(options.Options, o => Assert.Null(o.LatestStart));
        Assert.All(options.Options, o => Assert.Null(o.FallbackAt));
    }

    [Fact]
    public void A_request_no_catalog_type_satisfies_has_no_options_and_says_what_was_asked()
    {
        var job = TestData.Job("ghost", 1) with { Resources = ResourceRequest.ForInstanceTypes(["zz9.mega"]) };

        var options = OptionsFor(job);

        Assert.Empty(options.Options);
        Assert.Contains("zz9.mega", options.WhyNone, StringComparison.Ordinal);
        Assert.Null(options.AllOnDemandCostUsd);
    }

    [Fact]
    public void A_type_whose_spot_price_saves_nothing_is_offered_on_demand_only()
    {
        // a1.large: spot_savings_pct 0 in the shipped catalog.
        var job = TestData.Job("arm", 1) with { Resources = ResourceRequest.ForInstanceTypes(["a1.large"]) };

        var option = Assert.Single(OptionsFor(job).Options);

        Assert.Equal(Market.OnDemand, option.Offer.Market);
    }

    [Fact]
    public void A_spot_option_is_priced_with_the_cheapest_on_demand_type_as_its_fallback()
    {
        var job = TestData.Job("train", 6, resourceClass: "gpu_large", checkpointable: true);
        var fallback = TestData.Catalog.CheapestOnDemandPricePerHourUsd(job.Resources)!.Value;

        var options = OptionsFor(job);

        Assert.Equal(fallback * 6, options.AllOnDemandCostUsd!.Value, 9);
        Assert.All(options.Options, o => Assert.Equal(CostModel.ExpectedCostUsd(job, o.Offer, fallback), o.ExpectedCostUsd, 12));
    }

    [Fact]
    public void Options_draw_on_the_pools_of_the_limits()
    {
        var limits = new CapacityLimits
        {
            OnDemandVcpuQuotas = new Dictionary<string, int> { ["p"] = 64 }.ToImmutableDictionary(),
            SpotPoolSizes = new Dictionary<string, int> { ["p3.2xlarge"] = 3 }.ToImmutableDictionary(),
        };
        var job = TestData.Job("train", 2) with { Resources = ResourceRequest.ForInstanceTypes(["p3.2xlarge"]) };

        var options = OptionsFor(job, limits);

        var spot = options.Options.Single(o => o.Offer.Market == Market.Spot);
        var onDemand = options.Options.Single(o => o.Offer.Market == Market.OnDemand);
        Assert.Equal(new PoolUse(new Pool("spot:us-east-1:p3.2xlarge", 3), 1), spot.Pool);
        Assert.Equal(new PoolUse(new Pool("on-demand:us-east-1:p", 64), 8), onDemand.Pool);
    }

    [Fact]
    public void An_on_demand_type_priced_like_a_smaller_one_of_its_quota_class_is_pruned()
    {
        // Regression: x1.16xlarge (64 vCPUs) and x2iedn.8xlarge (32 vCPUs) both cost 6.669 $/h on-demand and count
        // against quota class x; pruning met them in name order and kept both.
        var job = TestData.Job("mem", 2) with { Resources = ResourceRequest.ForInstanceTypes(["x1.16xlarge", "x2iedn.8xlarge"]) };

        var onDemand = OptionsFor(job, CapacityLimits.Default).Options.Where(o => o.Offer.Market == Market.OnDemand);

        Assert.Equal("x2iedn.8xlarge", Assert.Single(onDemand).Offer.InstanceType.Name);
    }

    [Fact]
    public void Options_are_cheapest_first_and_at_most_options_per_market_per_market() =>
        Gen.Select(Generators.SingleJob, Gen.Int[1, 6]).Sample((job, perMarket) =>
        {
            var jo = OptionsFor(job, settings: PlanningSettings.Default with { OptionsPerMarket = perMarket });

            Assert.Equal(jo.Options.OrderBy(o => o.ExpectedCostUsd), jo.Options);
            Assert.All(jo.Options.GroupBy(o => o.Offer.Market), g => Assert.InRange(g.Count(), 1, perMarket));
            Assert.Equal(jo.Options.Count, jo.Options.Distinct().Count());
        }, iter: 200);

    [Fact]
    public void No_on_demand_option_is_dominated_by_a_cheaper_one_with_no_more_vcpus_in_the_same_quota_class() =>
        Gen.Select(Generators.SingleJob, Gen.Int[1, 8]).Sample((job, perMarket) =>
        {
            var jo = OptionsFor(job, CapacityLimits.Default, PlanningSettings.Default with { OptionsPerMarket = perMarket });

            var onDemand = jo.Options.Where(o => o.Offer.Market == Market.OnDemand).ToList();
            foreach (var a in onDemand)
            {
                Assert.DoesNotContain(onDemand, b => !ReferenceEquals(a, b) && b.Pool.Pool == a.Pool.Pool
                    && b.ExpectedCostUsd <= a.ExpectedCostUsd && b.Pool.Demand <= a.Pool.Demand);
            }
        }, iter: 200);

    [Fact]
    public void Pruning_keeps_the_cheapest_safe_option_of_the_whole_catalog() =>
        Generators.SingleJob.Sample(job =>
        {
            var catalog = TestData.Catalog;
            var ready = job.EarliestStart > Now ? job.EarliestStart.Value : Now;
            var spotSafe = CostModel.LatestSafeSpotStart(job) is not { } latest || latest >= ready;
            var fallback = catalog.CheapestOnDemandPricePerHourUsd(job.Resources);
            var offers = catalog.Entries.Where(e => job.Resources.IsSatisfiedBy(e.Type))
                .SelectMany(e => spotSafe && e.SpotPricePerHourUsd < e.OnDemandPricePerHourUsd
                    ? new[] { catalog.OfferFor(e, Market.OnDemand), catalog.OfferFor(e, Market.Spot) }
                    : [catalog.OfferFor(e, Market.OnDemand)])
                .ToList();

            var jo = OptionsFor(job);

            if (jo.IsPlannable)
            {
                Assert.Equal(offers.Min(o => CostModel.ExpectedCostUsd(job, o, fallback!.Value)), jo.Cheapest!.ExpectedCostUsd, 12);
            }
        }, iter: 200);

    [Fact]
    public void Every_option_window_starts_when_the_job_is_ready_and_ends_in_time_for_the_deadline() =>
        Generators.SingleJob.Sample(job =>
        {
            var ready = job.EarliestStart > Now ? job.EarliestStart.Value : Now;

            var jo = OptionsFor(job);

            Assert.Equal(jo.Options.Count == 0, jo.WhyNone is not null);
            foreach (var o in jo.Options)
            {
                Assert.Equal(ready, o.EarliestStart);
                Assert.True(o.LatestStart is null || o.LatestStart >= o.EarliestStart);
                Assert.True(job.Resources.IsSatisfiedBy(o.Offer.InstanceType));
                Assert.Equal(
                    o.Offer.Market == Market.Spot ? CostModel.LatestSafeSpotStart(job) : job.Deadline?.AddHours(-job.DurationHours),
                    o.LatestStart);
            }
        }, iter: 200);
}
