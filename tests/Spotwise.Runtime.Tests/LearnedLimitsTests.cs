using Spotwise.Core;

namespace Spotwise.Runtime.Tests;

public class LearnedLimitsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static Catalog Catalog => ShippedData.Catalog;

    private static InstanceStatus Instance(string id, Market market, string type, string zone, InstanceState state = InstanceState.Running) =>
        new(id, id, "ml", id, 1, market, type, zone, state, Now, Now, null, null, 0, 0, 0, null);

    private static InstanceStatus Refused(Market market, string type, string zone, string code) =>
        Instance("refused:x", market, type, zone, InstanceState.Interrupted) with { Refusal = new LaunchRefusal(RefusalKind.Quota, code) };

    private static double OnDemandQuota(CapacityLimits limits, string type) =>
        limits.PoolOf(Catalog.OfferFor(Catalog.Find(type)!, Market.OnDemand)).Pool.Capacity;

    [Fact]
    public void An_on_demand_quota_refusal_caps_the_class_at_the_vcpus_running_in_it_and_leaves_other_classes_alone()
    {
        var learned = new LearnedLimits();
        // Two g5.xlarge (4 vCPUs each) run; a p3 and an ended g5 do not count toward G.
        var running = new[]
        {
            Instance("i-1", Market.OnDemand, "g5.xlarge", "us-east-1"),
            Instance("i-2", Market.OnDemand, "g5.xlarge", "us-east-1"),
            Instance("i-3", Market.OnDemand, "p3.2xlarge", "us-east-1"),
            Instance("i-4", Market.OnDemand, "g5.xlarge", "us-east-1", InstanceState.Succeeded),
            Instance("i-5", Market.Spot, "g4dn.xlarge", "us-east-1a"),
        };

        var quota = learned.QuotaReached(Refused(Market.OnDemand, "g4dn.xlarge", "us-east-1", "VcpuLimitExceeded"), running, Catalog, Now);
        var limits = learned.Apply(CapacityLimits.Default, Catalog, Now);

        Assert.Equal(("g", 8), (quota.QuotaClass, quota.OnDemandVcpus));
        Assert.Equal(8, OnDemandQuota(limits, "g4dn.xlarge"));
        Assert.Equal(OnDemandQuota(CapacityLimits.Default, "p3.2xlarge"), OnDemandQuota(limits, "p3.2xlarge"));
        Assert.Equal(CapacityLimits.Default.SpotPoolSize(new SpotPoolKey("us-east-1a", "g5.xlarge")), limits.SpotPoolSize(new SpotPoolKey("us-east-1a", "g5.xlarge")));
    }

    [Fact]
    public void A_spot_quota_refusal_keeps_each_pool_of_the_class_to_what_it_held_and_closes_the_others()
    {
        var learned = new LearnedLimits();
        var running = new[] { Instance("i-1", Market.Spot, "p3.2xlarge", "us-east-1a"), Instance("i-2", Market.Spot, "p3.2xlarge", "us-east-1a") };
        var configured = CapacityLimits.Default with
        {
            ZoneSpotPoolSizes = CapacityLimits.Default.ZoneSpotPoolSizes.SetItem(new SpotPoolKey("us-east-1b", "p3.2xlarge"), 5),
        };

        learned.QuotaReached(Refused(Market.Spot, "p3.2xlarge", "us-east-1b", "MaxSpotInstanceCountExceeded"), running, Catalog, Now);
        var limits = learned.Apply(configured, Catalog, Now);

        Assert.Equal(2, limits.SpotPoolSize(new SpotPoolKey("us-east-1a", "p3.2xlarge")));
        Assert.Equal(0, limits.SpotPoolSize(new SpotPoolKey("us-east-1b", "p3.2xlarge")));
        Assert.Equal(0, limits.SpotPoolSize(new SpotPoolKey("us-east-1c", "p3.8xlarge")));
        Assert.Equal(32, limits.SpotPoolSize(new SpotPoolKey("us-east-1a", "g5.xlarge")));
        Assert.Equal(OnDemandQuota(configured, "p3.2xlarge"), OnDemandQuota(limits, "p3.2xlarge"));
    }

    [Fact]
    public void A_learnt_quota_is_forgotten_after_its_memory_because_the_quota_may_have_been_raised()
    {
        var learned = new LearnedLimits(TimeSpan.FromHours(1));
        learned.QuotaReached(Refused(Market.OnDemand, "g5.xlarge", "us-east-1", "VcpuLimitExceeded"), [], Catalog, Now);

        Assert.Equal(0, OnDemandQuota(learned.Apply(CapacityLimits.Default, Catalog, Now.AddMinutes(59)), "g5.xlarge"));
        Assert.Same(CapacityLimits.Default, learned.Apply(CapacityLimits.Default, Catalog, Now.AddHours(1)));
        Assert.Empty(learned.At(Now.AddHours(1)));
    }
}
