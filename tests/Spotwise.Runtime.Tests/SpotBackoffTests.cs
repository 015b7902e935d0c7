using Spotwise.Core;

namespace Spotwise.Runtime.Tests;

public class SpotBackoffTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static readonly SpotPoolKey V100InA = new("us-east-1a", "p3.2xlarge");
    private static readonly SpotPoolKey V100InB = new("us-east-1b", "p3.2xlarge");

    [Fact]
    public void A_refusing_pool_plans_with_no_capacity_until_the_cool_down_passes()
    {
        var backoff = new SpotBackoff(TimeSpan.FromMinutes(15));
        backoff.Refused(V100InA.Zone, V100InA.InstanceType, Now);

        Assert.Equal(0, backoff.Apply(CapacityLimits.Default, Now.AddMinutes(14)).SpotPoolSize(V100InA));
        Assert.Same(CapacityLimits.Default, backoff.Apply(CapacityLimits.Default, Now.AddMinutes(15)));
    }

    [Fact]
    public void A_refusal_in_one_zone_cools_down_that_zone_only()
    {
        var backoff = new SpotBackoff();
        backoff.Refused(V100InA.Zone, V100InA.InstanceType, Now);

        var limits = backoff.Apply(CapacityLimits.Default, Now);

        Assert.Equal(0, limits.SpotPoolSize(V100InA));
        Assert.Equal(CapacityLimits.Default.DefaultSpotPoolSize, limits.SpotPoolSize(V100InB));
        Assert.Equal([V100InA], backoff.BlockedAt(Now));
    }

    [Fact]
    public void Other_types_and_on_demand_keep_their_limits()
    {
        var backoff = new SpotBackoff();
        backoff.Refused(V100InA.Zone, V100InA.InstanceType, Now);

        var limits = backoff.Apply(CapacityLimits.Default, Now);

        Assert.Equal(CapacityLimits.Default.DefaultSpotPoolSize, limits.SpotPoolSize(V100InA with { InstanceType = "g5.xlarge" }));
        Assert.Equal(CapacityLimits.Default.OnDemandVcpuQuotas, limits.OnDemandVcpuQuotas);
    }
}
