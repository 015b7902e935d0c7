using Spotwise.Runtime.Traces;
using Spotwise.Simulation.Scenarios;

namespace Spotwise.Simulation.Tests.Scenarios;

public class MarketLoaderTests
{
    private static string Data(string relative) => Path.Combine(RepoPaths.Root, "data", "traces", relative);

    [Fact]
    public void A_single_aws_zone_takes_its_spot_prices_from_the_price_file_beside_it()
    {
        var errors = new List<string>();
        var market = MarketLoader.FromFile(Data("aws-v100/us-west-2a_v100_1.json"), new MarketSource(), ShippedData.Catalog, errors);

        Assert.Empty(errors);
        Assert.Equal("p3.2xlarge", market!.InstanceType.Name);
        Assert.Equal(3.06, market.OnDemandPricePerHourUsd, 6);
        Assert.InRange(market.SpotPrice(0, 0), 0.9, 1.1);
        Assert.Equal(20_158, market.TickCount);
    }

    [Fact]
    public void The_gcp_h100_zones_read_1_as_unavailable_with_their_own_prices()
    {
        var errors = new List<string>();
        var market = MarketLoader.FromDirectory(Data("gcp-h100"), new MarketSource(TraceFormat.Preempted), ShippedData.Catalog, errors);

        Assert.Empty(errors);
        Assert.Equal(13, market!.ZoneCount);
        Assert.Equal("a3-highgpu-8g", market.InstanceType.Name);
        Assert.Equal(82.5254, market.OnDemandPricePerHourUsd, 3); // the cheapest zone's on-demand price
        var east = market.Zones.IndexOf("us-east4-a");
        Assert.Equal(14.8534, market.SpotPrice(east, 0), 3);
        Assert.True(market.Available(east, 0)); // data[0] = 0: not preempted
    }

    [Fact]
    public void Flags_override_the_trace_prices()
    {
        var errors = new List<string>();
        var market = MarketLoader.FromFile(Data("aws-v100/us-west-2a_v100_1.json"), new MarketSource(OnDemandPricePerHourUsd: 5, SpotPricePerHourUsd: 0.5),
            ShippedData.Catalog, errors);

        Assert.Equal(5, market!.OnDemandPricePerHourUsd);
        Assert.Equal(0.5, market.SpotPrice(0, 1234));
    }

    [Fact]
    public void An_instance_type_outside_the_catalog_without_prices_is_refused_naming_the_flag()
    {
        var errors = new List<string>();
        var market = MarketLoader.FromFile(Data("aws-v100/us-west-2a_v100_1.json"), new MarketSource(InstanceType: "p9.huge"), ShippedData.Catalog, errors);

        Assert.Null(market);
        Assert.Contains(errors, e => e.StartsWith("--instance-type: 'p9.huge'", StringComparison.Ordinal));
    }
}
