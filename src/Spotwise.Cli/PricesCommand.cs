using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.Runtime;
using Spotwise.Compute.Aws;
using Spotwise.Compute.Aws.Prices;
using Spotwise.Core;

namespace Spotwise.Cli;

/// <summary>
/// <c>spotwise prices</c>: what the instance types cost now, per zone and market. With <c>--live</c>, spot from EC2
/// (DescribeSpotPriceHistory per zone, the zones from DescribeInstanceTypeOfferings) on the SDK's default credential
/// chain, region and endpoint settings; on-demand from the shipped catalog. Without it, the shipped catalog alone.
/// </summary>
public static class PricesCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, TimeProvider time)
    {
        var live = new Option<bool>("--live") { Description = "Spot prices from EC2 now, per zone (AWS SDK credentials, AWS_REGION, AWS_ENDPOINT_URL_EC2 apply); without it, the shipped catalog's snapshot (one regional figure per market)" };
        var region = new Option<string?>("--region") { Description = "The AWS region (default: the SDK's, e.g. AWS_REGION; the shipped catalog's us-east-1 without --live)" };
        var types = new Option<string>("--types") { Description = "Instance types, comma-separated (p3.2xlarge,g5.xlarge)", Required = true };
        var format = new Option<string>("--format") { Description = "Output: table or json", DefaultValueFactory = _ => "table" };
        var catalog = new Option<string?>("--catalog") { Description = "Price catalog CSV for on-demand prices (default: the shipped data/catalog/aws-us-east-1.csv)" };
        var command = new Command("prices", "Spot and on-demand prices per zone: live from EC2 with --live, else the shipped catalog")
        {
            live, region, types, format, catalog,
        };
        command.SetAction((parse, ct) => RunAsync(new PricesRequest(parse.GetValue(live), parse.GetValue(region), parse.GetValue(types)!,
            parse.GetValue(format)!, parse.GetValue(catalog)), stdout, stderr, time, ct));
        return command;
    }

    public static async Task<int> RunAsync(PricesRequest request, TextWriter stdout, TextWriter stderr, TimeProvider time, CancellationToken ct)
    {
        var errors = new List<string>();
        if (request.Format is not ("table" or "json"))
        {
            errors.Add($"--format: '{request.Format}' is not a format; choose table or json");
        }
        var loaded = Inputs.LoadCatalog(request.CatalogPath);
        errors.AddRange(loaded.Errors.Select(e => e.ToString()));
        var types = loaded.Value is { } c ? InstanceTypes.Parse(request.Types, c, "--types", errors) : [];
        if (!request.Live && request.Region is { } r && loaded.Value is { } shipped && r != shipped.Region)
        {
            errors.Add($"--region: the catalog prices {shipped.Region} only; '{r}' needs --live");
        }
        if (errors.Count > 0 || loaded.Value is null)
        {
            return AwsErrors.Refuse(errors, stderr);
        }
        try
        {
            var rows = request.Live
                ? await LiveRowsAsync(request.Region, types, loaded.Value, time, ct)
                : CatalogRows(types, loaded.Value);
            stdout.Write(request.Format == "json" ? PriceRows.Json(rows) : PriceRows.Table(rows));
            return ExitCodes.Ok;
        }
        catch (Exception e) when (AwsErrors.Classify(e) is { } failure)
        {
            await stderr.WriteLineAsync($"error: {failure.Message}");
            return failure.ExitCode;
        }
    }

    /// <summary>Each zone that offers a type: its spot price now (where EC2 sells spot there) and the catalog's on-demand price.</summary>
    private static async Task<List<PriceRow>> LiveRowsAsync(string? region, IReadOnlyList<string> types, Catalog catalog, TimeProvider time, CancellationToken ct)
    {
        using var ec2 = Ec2Clients.Create(region);
        var regionName = region ?? ec2.Config.RegionEndpoint?.SystemName
            ?? throw new AmazonClientException("no AWS region: give --region or set AWS_REGION");
        var now = time.GetUtcNow();
        var market = await Ec2SpotMarket.ReadAsync(ec2, regionName, types, now, TimeSpan.FromHours(1), ct);
        var rows = new List<PriceRow>();
        foreach (var type in types)
        {
            var spot = market.SpotZones(type).ToDictionary(z => z.Zone, z => z.PricePerHourUsd, StringComparer.Ordinal);
            foreach (var zone in market.ZonesOffering(type))
            {
                if (spot.TryGetValue(zone, out var price))
                {
                    rows.Add(new PriceRow(regionName, zone, type, PriceRow.Spot, price, now));
                }
                rows.Add(new PriceRow(regionName, zone, type, PriceRow.OnDemand, catalog.Find(type)!.OnDemandPricePerHourUsd, now));
            }
        }
        return rows;
    }

    /// <summary>The catalog knows the region, not its zones: one row per market with zone = region, and no moment.</summary>
    private static List<PriceRow> CatalogRows(IReadOnlyList<string> types, Catalog catalog) =>
        [.. types.Select(catalog.Find).SelectMany(e => new[]
        {
            new PriceRow(catalog.Region, catalog.Region, e!.Type.Name, PriceRow.Spot, e.SpotPricePerHourUsd, null),
            new PriceRow(catalog.Region, catalog.Region, e.Type.Name, PriceRow.OnDemand, e.OnDemandPricePerHourUsd, null),
        })];
}

/// <summary>The prices command's arguments, as the user gave them.</summary>
public sealed record PricesRequest(bool Live, string? Region, string Types, string Format, string? CatalogPath);

/// <summary>One price: <c>{"region","zone","instanceType","market","pricePerHourUsd","asOf"}</c>.</summary>
public sealed record PriceRow(
    [property: JsonPropertyName("region")] string Region,
    [property: JsonPropertyName("zone")] string Zone,
    [property: JsonPropertyName("instanceType")] string InstanceType,
    [property: JsonPropertyName("market")] string Market,
    [property: JsonPropertyName("pricePerHourUsd")] double PricePerHourUsd,
    [property: JsonPropertyName("asOf")] DateTimeOffset? AsOf)
{
    public const string Spot = "spot";
    public const string OnDemand = "on-demand";
}

/// <summary>How the prices command prints its rows.</summary>
public static class PriceRows
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static string Json(IReadOnlyList<PriceRow> rows) => JsonSerializer.Serialize(rows, Indented) + "\n";

    public static string Table(IReadOnlyList<PriceRow> rows)
    {
        string[] header = ["region", "zone", "instance type", "market", "$/h", "as of"];
        var cells = rows.Select(r => new[]
        {
            r.Region, r.Zone, r.InstanceType, r.Market, r.PricePerHourUsd.ToString("0.0000", CultureInfo.InvariantCulture),
            r.AsOf?.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture) ?? "shipped catalog",
        }).ToList();
        var widths = header.Select((h, i) => cells.Select(c => c[i].Length).Append(h.Length).Max()).ToArray();
        string Line(string[] c) => string.Join("  ", c.Select((v, i) => v.PadRight(widths[i]))).TrimEnd() + "\n";
        return Line(header) + Line([.. widths.Select(w => new string('-', w))]) + string.Concat(cells.Select(Line));
    }
}
