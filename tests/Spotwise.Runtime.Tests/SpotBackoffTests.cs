using Spotwise.Core;

namespace Spotwise.Runtime.Tests;

public class SpotBackoffTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_refusing_pool_plans_with_no_capacity_until_the_cool_down_passes()
    {
        var backoff = new SpotBackoff(TimeSpan.FromMinutes(15));
        backoff.Refused("p3.2xlarge", Now);

        Assert.Equal(0, backoff.Apply(CapacityLimits.Default, Now.AddMinutes(14)).SpotPoolSizes["p3.2xlarge"]);
        Assert.Same(CapacityLimits.Default, backoff.Apply(CapacityLimits.Default, Now.AddMinutes(15)));
    }

    [Fact]
    public void Other_pools_keep_their_limits()
    {
        var backoff = new SpotBackoff();
        backoff.Refused("p3.2xlarge", Now);

        var limits = backoff.Apply(CapacityLimits.Default, Now);

        Assert.False(limits.SpotPoolSizes.ContainsKey("g5.xlarge"));
        Assert.Equal(CapacityLimits.Default.OnDemandVcpuQuotas, limits.OnDemandVcpuQuotas);
    }
}
