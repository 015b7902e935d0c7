using System.Globalization;
using System.Xml.Linq;

namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// The price side of the loopback EC2: spot price changes seeded per (zone, type) and the instance types each zone
/// offers. Follows the EC2 API reference:
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSpotPriceHistory.html (changes, not a series: a
/// window [StartTime, EndTime] also returns the last change before StartTime, "the effective price as of the start
/// time"; newest first) and
/// https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceTypeOfferings.html (LocationType,
/// filters location / instance-type, MaxResults 5-1000, NextToken).
/// </summary>
public sealed partial class FakeEc2Server
{
    private readonly List<SpotPriceChange> _spotPrices = [];
    private readonly List<(string Zone, string Type)> _offerings = [];
    private string? _priceCallError;

    /// <summary>The spot price of <paramref name="instanceType"/> in <paramref name="zone"/> changes to <paramref name="pricePerHourUsd"/> at <paramref name="at"/>.</summary>
    public void SeedSpotPrice(string zone, string instanceType, DateTimeOffset at, double pricePerHourUsd, string productDescription = "Linux/UNIX")
    {
        lock (_lock)
        {
            _spotPrices.Add(new SpotPriceChange(zone, instanceType, productDescription, at, pricePerHourUsd));
        }
    }

    /// <summary><paramref name="zone"/> offers each of <paramref name="instanceTypes"/> (DescribeInstanceTypeOfferings lists them).</summary>
    public void Offer(string zone, params string[] instanceTypes)
    {
        lock (_lock)
        {
            _offerings.AddRange(instanceTypes.Select(t => (zone, t)));
        }
    }

    /// <summary>
    /// From now on the price actions fail with <paramref name="code"/> (a 403 the SDK does not retry); null heals them.
    /// </summary>
    public void FailPriceCalls(string? code = "UnauthorizedOperation")
    {
        lock (_lock)
        {
            _priceCallError = code;
        }
    }

    /// <summary>How many calls of <paramref name="action"/> the server has answered or refused.</summary>
    public int CallsOf(string action) => Actions.Count(a => a == action);

    private XElement DescribeSpotPriceHistory(Dictionary<string, string> q)
    {
        ThrowIfPriceCallsFail();
        var filters = PriceFilters(q, "availability-zone", "instance-type", "product-description");
        var zones = Values(filters, "availability-zone");
        if (q.TryGetValue("AvailabilityZone", out var zone))
        {
            zones = [.. zones ?? [], zone];
        }
        var types = Union(Values(filters, "instance-type"), Indexed(q, "InstanceType."));
        var products = Union(Values(filters, "product-description"), Indexed(q, "ProductDescription."));
        var start = q.TryGetValue("StartTime", out var s) ? Time(s) : (DateTimeOffset?)null;
        var end = q.TryGetValue("EndTime", out var e) ? Time(e) : _time.GetUtcNow();
        var matching = _spotPrices
            .Where(p => zones is null || zones.Contains(p.Zone))
            .Where(p => types is null || types.Contains(p.InstanceType))
            .Where(p => products is null || products.Contains(p.ProductDescription))
            .Where(p => p.At <= end)
            .ToList();
        // Inside the window, every change; before it, only the one in force when the window opens.
        var inWindow = matching.Where(p => start is null || p.At >= start).ToList();
        var inForceAtStart = start is null ? [] : matching.Where(p => p.At < start)
            .GroupBy(p => (p.Zone, p.InstanceType, p.ProductDescription))
            .Select(g => g.MaxBy(p => p.At)!);
        var all = inWindow.Concat(inForceAtStart).OrderByDescending(p => p.At).ThenBy(p => p.Zone, StringComparer.Ordinal)
            .ThenBy(p => p.InstanceType, StringComparer.Ordinal).ToList();
        var (page, next) = Page(q, all, maxResultsRange: (1, 1000));
        return Paged("DescribeSpotPriceHistoryResponse", "spotPriceHistorySet", page.Select(p => new XElement(Ns + "item",
            new XElement(Ns + "instanceType", p.InstanceType),
            new XElement(Ns + "productDescription", p.ProductDescription),
            new XElement(Ns + "spotPrice", p.PricePerHourUsd.ToString("0.000000", CultureInfo.InvariantCulture)),
            new XElement(Ns + "timestamp", p.At.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture)),
            new XElement(Ns + "availabilityZone", p.Zone))), next);
    }

    private XElement DescribeInstanceTypeOfferings(Dictionary<string, string> q)
    {
        ThrowIfPriceCallsFail();
        var locationType = q.GetValueOrDefault("LocationType") ?? "region";
        if (locationType != "availability-zone")
        {
            throw new Ec2Error(400, "InvalidParameterValue", $"this fake answers LocationType availability-zone only, not '{locationType}'");
        }
        var filters = PriceFilters(q, "location", "instance-type");
        var locations = Values(filters, "location");
        var types = Values(filters, "instance-type");
        var all = _offerings.Distinct()
            .Where(o => locations is null || locations.Contains(o.Zone))
            .Where(o => types is null || types.Contains(o.Type))
            .OrderBy(o => o.Zone, StringComparer.Ordinal).ThenBy(o => o.Type, StringComparer.Ordinal)
            .ToList();
        var (page, next) = Page(q, all, maxResultsRange: (5, 1000));
        return Paged("DescribeInstanceTypeOfferingsResponse", "instanceTypeOfferingSet", page.Select(o => new XElement(Ns + "item",
            new XElement(Ns + "instanceType", o.Type),
            new XElement(Ns + "locationType", locationType),
            new XElement(Ns + "location", o.Zone))), next);
    }

    private void ThrowIfPriceCallsFail()
    {
        if (_priceCallError is { } code)
        {
            throw new Ec2Error(403, code, "You are not authorized to perform this operation.");
        }
    }

    /// <summary>The Filter.N the action knows, by name; any other name is refused as EC2 does.</summary>
    private static Dictionary<string, List<string>> PriceFilters(Dictionary<string, string> q, params string[] known)
    {
        var filters = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        for (var n = 1; q.TryGetValue($"Filter.{n}.Name", out var name); n++)
        {
            if (!known.Contains(name))
            {
                throw new Ec2Error(400, "InvalidParameterValue", $"The filter '{name}' is invalid");
            }
            filters[name] = [.. filters.GetValueOrDefault(name) ?? [], .. Indexed(q, $"Filter.{n}.Value.")];
        }
        return filters;
    }

    private static List<string>? Values(Dictionary<string, List<string>> filters, string name) => filters.GetValueOrDefault(name);

    private static List<string>? Union(List<string>? a, List<string> b) => a is null && b.Count == 0 ? null : [.. a ?? [], .. b];

    private static DateTimeOffset Time(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);

    /// <summary>A page of <paramref name="all"/> from NextToken (an offset here; opaque to the client) and MaxResults.</summary>
    private static (List<T> Page, string? Next) Page<T>(Dictionary<string, string> q, List<T> all, (int Min, int Max) maxResultsRange)
    {
        var maxResults = q.TryGetValue("MaxResults", out var m) ? int.Parse(m, CultureInfo.InvariantCulture) : maxResultsRange.Max;
        if (maxResults < maxResultsRange.Min || maxResults > maxResultsRange.Max)
        {
            throw new Ec2Error(400, "InvalidParameterValue",
                $"Value ( {maxResults} ) for parameter maxResults is invalid. Expecting a value between {maxResultsRange.Min} and {maxResultsRange.Max}.");
        }
        var start = q.TryGetValue("NextToken", out var next) ? int.Parse(next, CultureInfo.InvariantCulture) : 0;
        var page = all.Skip(start).Take(maxResults).ToList();
        return (page, start + page.Count < all.Count ? (start + page.Count).ToString(CultureInfo.InvariantCulture) : null);
    }

    private static XElement Paged(string root, string set, IEnumerable<XElement> items, string? next)
    {
        var response = new XElement(Ns + root, new XElement(Ns + "requestId", Guid.NewGuid()), new XElement(Ns + set, items));
        if (next is not null)
        {
            response.Add(new XElement(Ns + "nextToken", next));
        }
        return response;
    }

    private sealed record SpotPriceChange(string Zone, string InstanceType, string ProductDescription, DateTimeOffset At, double PricePerHourUsd);
}
