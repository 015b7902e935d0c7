using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Spotwise.Compute.Aws.Pricing;

/// <summary>
/// An EC2 product of the Price List API, reduced to what the catalog needs: its instance type, shape (attributes
/// <c>vcpu</c>, <c>memory</c> "16 GiB", <c>gpu</c>) and on-demand $/h (the OnDemand term's hourly USD price).
/// </summary>
public sealed record Ec2Product(string InstanceType, int Vcpus, double MemoryGiB, int Gpus, double OnDemandPricePerHourUsd)
{
    /// <summary>The product one PriceList item (a JSON string) describes, or null when it is no priced instance type.</summary>
    public static Ec2Product? Parse(string priceListItem)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(priceListItem);
        }
        catch (JsonException)
        {
            return null;
        }
        var attributes = root?["product"]?["attributes"];
        var type = Text(attributes, "instanceType");
        var price = OnDemandHourly(root?["terms"]?["OnDemand"]);
        if (type is null || price is not > 0 || !int.TryParse(Text(attributes, "vcpu"), CultureInfo.InvariantCulture, out var vcpus))
        {
            return null;
        }
        var memory = Text(attributes, "memory")?.Replace("GiB", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal).Trim();
        return new Ec2Product(type, vcpus,
            double.TryParse(memory, NumberStyles.Float, CultureInfo.InvariantCulture, out var gib) ? gib : 0,
            int.TryParse(Text(attributes, "gpu"), CultureInfo.InvariantCulture, out var gpus) ? gpus : 0,
            price.Value);
    }

    private static string? Text(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;

    /// <summary>terms.OnDemand.{offer}.priceDimensions.{rate}.pricePerUnit.USD of the hourly dimension.</summary>
    private static double? OnDemandHourly(JsonNode? onDemand) =>
        (onDemand as JsonObject)?.Select(o => o.Value?["priceDimensions"]).OfType<JsonObject>()
            .SelectMany(d => d.Select(p => p.Value))
            .Where(p => Text(p, "unit") is "Hrs" or null)
            .Select(p => double.TryParse(Text(p?["pricePerUnit"], "USD"), NumberStyles.Float, CultureInfo.InvariantCulture, out var usd) ? usd : (double?)null)
            .FirstOrDefault(p => p is not null);
}
