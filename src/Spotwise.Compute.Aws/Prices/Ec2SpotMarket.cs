using System.Collections.Immutable;
using System.Globalization;
using Amazon.EC2;
using Amazon.EC2.Model;

namespace Spotwise.Compute.Aws.Prices;

/// <summary>
/// Reads a region's spot market from EC2: DescribeInstanceTypeOfferings (location type availability-zone) for which
/// zones offer which types, then DescribeSpotPriceHistory per zone (Linux/UNIX, the watched types) over a window ending
/// now. EC2 answers price changes, not a series (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSpotPriceHistory.html),
/// so each (zone, type) takes the latest change at or before now: one inside the window, or the one before it that EC2
/// returns as the price in force when the window opens (forward fill). Every call is paged with NextToken.
/// </summary>
public static class Ec2SpotMarket
{
    public const string LinuxUnix = "Linux/UNIX";

    /// <summary>The page size asked of both calls (EC2's largest).</summary>
    public const int PageSize = 1000;

    /// <summary>The market of <paramref name="region"/> now; <paramref name="instanceTypes"/> null reads every type EC2 lists (no type filter).</summary>
    public static async Task<SpotMarketReading> ReadAsync(IAmazonEC2 ec2, string region, IReadOnlyCollection<string>? instanceTypes,
        DateTimeOffset now, TimeSpan lookback, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        var zonesByType = await OfferingsAsync(ec2, instanceTypes, cancellationToken).ConfigureAwait(false);
        var zones = zonesByType.Values.SelectMany(z => z).Distinct().Order(StringComparer.Ordinal).ToList();
        var perZone = await Task.WhenAll(zones.Select(z => ZonePricesAsync(ec2, z, instanceTypes, now, lookback, cancellationToken))).ConfigureAwait(false);
        var prices = perZone.SelectMany(p => p)
            .Where(p => zonesByType.GetValueOrDefault(p.Key.InstanceType, []).Contains(p.Key.Zone))
            .ToImmutableDictionary();
        return new SpotMarketReading(region, now, zonesByType, prices);
    }

    /// <summary>Which zones offer each type (types no zone offers are absent).</summary>
    private static async Task<ImmutableDictionary<string, ImmutableArray<string>>> OfferingsAsync(IAmazonEC2 ec2,
        IReadOnlyCollection<string>? instanceTypes, CancellationToken cancellationToken)
    {
        var offerings = new List<InstanceTypeOffering>();
        string? next = null;
        do
        {
            var page = await ec2.DescribeInstanceTypeOfferingsAsync(new DescribeInstanceTypeOfferingsRequest
            {
                LocationType = LocationType.AvailabilityZone,
                Filters = instanceTypes is null ? null : [new Filter("instance-type", [.. instanceTypes])],
                MaxResults = PageSize,
                NextToken = next,
            }, cancellationToken).ConfigureAwait(false);
            offerings.AddRange(page.InstanceTypeOfferings ?? []);
            next = page.NextToken;
        }
        while (!string.IsNullOrEmpty(next));
        return offerings
            .Where(o => o.InstanceType?.Value is { Length: > 0 } && o.Location is { Length: > 0 })
            .GroupBy(o => o.InstanceType.Value, StringComparer.Ordinal)
            .ToImmutableDictionary(g => g.Key, g => g.Select(o => o.Location).Distinct().Order(StringComparer.Ordinal).ToImmutableArray(), StringComparer.Ordinal);
    }

    /// <summary>The spot price in force now for each type in one zone: the latest change at or before now.</summary>
    private static async Task<Dictionary<(string Zone, string InstanceType), double>> ZonePricesAsync(IAmazonEC2 ec2, string zone,
        IReadOnlyCollection<string>? instanceTypes, DateTimeOffset now, TimeSpan lookback, CancellationToken cancellationToken)
    {
        var latest = new Dictionary<string, (DateTime At, double Price)>(StringComparer.Ordinal);
        string? next = null;
        do
        {
            var page = await ec2.DescribeSpotPriceHistoryAsync(new DescribeSpotPriceHistoryRequest
            {
                AvailabilityZone = zone,
                InstanceTypes = instanceTypes is null ? null : [.. instanceTypes],
                ProductDescriptions = [LinuxUnix],
                StartTime = (now - lookback).UtcDateTime,
                EndTime = now.UtcDateTime,
                MaxResults = PageSize,
                NextToken = next,
            }, cancellationToken).ConfigureAwait(false);
            foreach (var p in page.SpotPriceHistory ?? [])
            {
                Keep(latest, p, now);
            }
            next = page.NextToken;
        }
        while (!string.IsNullOrEmpty(next));
        return latest.ToDictionary(p => (zone, p.Key), p => p.Value.Price);
    }

    private static void Keep(Dictionary<string, (DateTime At, double Price)> latest, SpotPrice p, DateTimeOffset now)
    {
        if (p.InstanceType?.Value is not { Length: > 0 } type || p.Timestamp is not { } at
            || !double.TryParse(p.Price, NumberStyles.Float, CultureInfo.InvariantCulture, out var price))
        {
            return;
        }
        var utc = at.Kind == DateTimeKind.Local ? at.ToUniversalTime() : DateTime.SpecifyKind(at, DateTimeKind.Utc);
        if (utc <= now.UtcDateTime && (!latest.TryGetValue(type, out var held) || utc > held.At))
        {
            latest[type] = (utc, price);
        }
    }
}
