using Spotwise.Core;

namespace Spotwise.Runtime.Tests;

public class CombinedPriceFeedTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static readonly InstanceType C5 = new("c5.large", 2, 4, 0, null);

    private static readonly InstanceType G5 = new("g5.xlarge", 4, 16, 1, "A10G");

    [Fact]
    public async Task Two_regional_feeds_combine_into_one_catalog_with_the_first_as_home()
    {
        var east = new CatalogPriceFeed(new Catalog("aws", "us-east-1",
            [new CatalogEntry(C5, 0.085, 0.035, 0) { SpotZones = [new ZoneSpotPrice("us-east-1a", 0.035)] }, new CatalogEntry(G5, 1.006, 0.40, 1)]));
        var west = new CatalogPriceFeed(new Catalog("aws", "us-west-2", [new CatalogEntry(C5, 0.09, 0.03, 0)]));
        var transfer = new TransferPrices([("us-east-1", "us-west-2", 0.02)]);

        var catalog = await new CombinedPriceFeed([east, west], transfer).PricesAtAsync(Now, CancellationToken.None);

        Assert.Equal("us-east-1", catalog.Region);
        Assert.Equal(["us-east-1", "us-west-2"], catalog.Regions.ToArray());
        Assert.Same(transfer, catalog.Transfer);
        var c5 = catalog.Find("c5.large")!;
        Assert.Equal([("us-east-1a", 0.035), ("us-west-2", 0.03)], catalog.SpotOffersFor(c5).Select(o => (o.Zone, o.PricePerHourUsd)));
        Assert.Equal(0.09, c5.OnDemandByRegion["us-west-2"]);
        Assert.Equal(["us-east-1"], catalog.OnDemandOffersFor(catalog.Find("g5.xlarge")!).Select(o => o.Region));
    }

    [Fact]
    public void A_combined_feed_needs_a_home_feed() =>
        Assert.Contains("at least one feed", Assert.Throws<ArgumentException>(() => new CombinedPriceFeed([])).Message, StringComparison.Ordinal);
}
