using Amazon.EC2;
using Spotwise.Compute.Aws.Prices;
using Spotwise.Core;

namespace Spotwise.Compute.Aws.Pricing;

/// <summary>
/// A region's catalog from AWS itself: types and on-demand prices from the Price List API (Linux, shared tenancy, no
/// pre-installed software, capacity used), spot from EC2 now (the median of the zones' prices), GPU models and
/// interruption bands from the shipped catalog where it knows the type (else no model, and band 4, the worst: AWS
/// publishes bands only through the Spot Advisor page, not an API).
/// </summary>
public static class CatalogRefresh
{
    public const int UnknownBand = 4;

    public static IReadOnlyList<(string Field, string Value)> Filters(string region) =>
    [
        ("regionCode", region),
        ("operatingSystem", "Linux"),
        ("tenancy", "Shared"),
        ("preInstalledSw", "NA"),
        ("capacitystatus", "Used"),
    ];

    public static async Task<Catalog> BuildAsync(string region, PriceListClient prices, IAmazonEC2 ec2, Catalog shipped, TimeProvider time,
        Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prices);
        ArgumentNullException.ThrowIfNull(shipped);
        ArgumentNullException.ThrowIfNull(progress);
        var items = await prices.GetProductsAsync("AmazonEC2", Filters(region), cancellationToken).ConfigureAwait(false);
        // A type can come as several products (license models, marketoption): the cheapest hourly price is its on-demand price.
        var products = items.Select(Ec2Product.Parse).OfType<Ec2Product>()
            .GroupBy(p => p.InstanceType, StringComparer.Ordinal)
            .Select(g => g.MinBy(p => p.OnDemandPricePerHourUsd)!)
            .ToList();
        progress($"{region}: {products.Count} instance types from {items.Count} Price List products");
        var market = await Ec2SpotMarket.ReadAsync(ec2, region, null, time.GetUtcNow(), TimeSpan.FromHours(1), cancellationToken).ConfigureAwait(false);
        progress($"{region}: spot prices for {market.SpotPrices.Count} (zone, type) pools in {market.ZonesByType.Values.SelectMany(z => z).Distinct().Count()} zones");
        return new Catalog("aws", region, products.Select(p => Entry(p, market, shipped.Find(p.InstanceType))));
    }

    private static CatalogEntry Entry(Ec2Product p, SpotMarketReading market, CatalogEntry? known)
    {
        var zones = market.SpotZones(p.InstanceType).Select(z => z.PricePerHourUsd).ToList();
        var spot = zones.Count > 0 ? Median(zones) : p.OnDemandPricePerHourUsd;
        return new CatalogEntry(new Core.InstanceType(p.InstanceType, p.Vcpus, p.MemoryGiB, p.Gpus, p.Gpus > 0 ? known?.Type.GpuModel : null),
            p.OnDemandPricePerHourUsd, spot, known?.InterruptionBand ?? UnknownBand);
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        var mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
