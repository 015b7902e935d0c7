using System.Collections.Immutable;
using System.Globalization;

namespace Spotwise.Core;

/// <summary>
/// One instance type's prices in a region. <see cref="SpotPricePerHourUsd"/> is the regional figure (what a buyer could
/// get somewhere in the region); when the feed knows zones, <see cref="SpotZones"/> prices each zone's spot pool.
/// </summary>
public sealed record CatalogEntry(
    InstanceType Type,
    double OnDemandPricePerHourUsd,
    double SpotPricePerHourUsd,
    int InterruptionBand)
{
    public double SpotInterruptionRatePerHour => InterruptionBands.HourlyRate(InterruptionBand);

    /// <summary>The zones that sell this type on spot now, each at its own price; empty when the feed knows only the region.</summary>
    public ImmutableArray<ZoneSpotPrice> SpotZones { get; init; } = [];
}

/// <summary>The spot price of one instance type in one zone, and how many instances its market holds now where the feed knows.</summary>
public sealed record ZoneSpotPrice(string Zone, double PricePerHourUsd)
{
    /// <summary>
    /// Instances the zone's spot market holds at the moment, ours included (a trace's count); null when the feed does not
    /// know. The planners take it as the zone's pool size (<see cref="CapacityLimits.WithSpotAvailable"/>).
    /// </summary>
    public int? Available { get; init; }
}

/// <summary>What capacity costs: the instance types of one region with their on-demand and spot prices.</summary>
public sealed class Catalog
{
    private readonly ImmutableDictionary<string, CatalogEntry> _byName;

    public Catalog(string provider, string region, IEnumerable<CatalogEntry> entries)
    {
        Provider = provider;
        Region = region;
        Entries = [.. entries.OrderBy(e => e.Type.Name, StringComparer.Ordinal)];
        _byName = Entries.ToImmutableDictionary(e => e.Type.Name, StringComparer.Ordinal);
    }

    public string Provider { get; }

    public string Region { get; }

    public ImmutableArray<CatalogEntry> Entries { get; }

    public CatalogEntry? Find(string instanceType) => _byName.GetValueOrDefault(instanceType);

    /// <summary>What an on-demand fallback for this request runs on: the cheapest type that satisfies it.</summary>
    public CatalogEntry? CheapestOnDemandFor(ResourceRequest request)
    {
        CatalogEntry? best = null;
        foreach (var e in Entries)
        {
            if (request.IsSatisfiedBy(e.Type) && (best is null || e.OnDemandPricePerHourUsd < best.OnDemandPricePerHourUsd))
            {
                best = e;
            }
        }
        return best;
    }

    /// <summary>What an on-demand fallback for this request costs per hour.</summary>
    public double? CheapestOnDemandPricePerHourUsd(ResourceRequest request) => CheapestOnDemandFor(request)?.OnDemandPricePerHourUsd;

    /// <summary>
    /// The regional offer of an entry: zone = region, at the regional price. On-demand is bought per region (its quota
    /// is regional), so this is the on-demand offer; for spot it stands for the region where no zone is known.
    /// </summary>
    public Offer OfferFor(CatalogEntry entry, Market market) => market == Market.Spot
        ? new Offer(Provider, Region, Region, entry.Type, Market.Spot, entry.SpotPricePerHourUsd, entry.SpotInterruptionRatePerHour)
        : new Offer(Provider, Region, Region, entry.Type, Market.OnDemand, entry.OnDemandPricePerHourUsd, 0.0);

    /// <summary>
    /// The spot offers of an entry: one per zone at the zone's price when the feed knows zones, else the regional one.
    /// Zones share the type's interruption band (the Spot Advisor rates a type per region).
    /// </summary>
    public IEnumerable<Offer> SpotOffersFor(CatalogEntry entry) => entry.SpotZones.IsDefaultOrEmpty
        ? [OfferFor(entry, Market.Spot)]
        : entry.SpotZones.Select(z => new Offer(Provider, Region, z.Zone, entry.Type, Market.Spot, z.PricePerHourUsd, entry.SpotInterruptionRatePerHour));

    /// <summary>The offer of an entry on a market in <paramref name="zone"/>, or null when the catalog sells none there.</summary>
    public Offer? OfferFor(CatalogEntry entry, Market market, string zone) => market == Market.Spot
        ? SpotOffersFor(entry).FirstOrDefault(o => string.Equals(o.Zone, zone, StringComparison.Ordinal))
        : string.Equals(zone, Region, StringComparison.Ordinal) ? OfferFor(entry, market) : null;
}

/// <summary>
/// Reads the catalog CSV (header: instance_type,vcpus,memory_gib,gpus,gpu_model,on_demand_usd_per_hour,
/// spot_savings_pct,spot_usd_per_hour_typical,interruption_band,...).
/// </summary>
public static class CatalogCsv
{
    private static readonly string[] RequiredColumns =
        ["instance_type", "vcpus", "memory_gib", "gpus", "gpu_model", "on_demand_usd_per_hour", "spot_usd_per_hour_typical", "interruption_band"];

    public static Catalog Parse(TextReader reader, string source, string provider = "aws", string region = "us-east-1")
    {
        var header = reader.ReadLine() ?? throw new FormatException($"{source}: the catalog is empty");
        var columns = header.Split(',').Select(c => c.Trim()).ToList();
        var missing = RequiredColumns.Where(c => !columns.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new FormatException($"{source}: the catalog header lacks {string.Join(", ", missing)}");
        }
        int Col(string name) => columns.IndexOf(name);
        var entries = new List<CatalogEntry>();
        var firstLineOf = new Dictionary<string, int>(StringComparer.Ordinal);
        var lineNumber = 1;
        while (reader.ReadLine() is { } line)
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var f = line.Split(',');
            if (f.Length < columns.Count)
            {
                throw new FormatException($"{source}:{lineNumber}: expected {columns.Count} fields, found {f.Length}");
            }
            double Num(string name)
            {
                var text = f[Col(name)];
                return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                    ? v
                    : throw new FormatException($"{source}:{lineNumber}: {name} '{text}' is not a number");
            }
            var gpuModel = f[Col("gpu_model")].Trim();
            var type = new InstanceType(f[Col("instance_type")].Trim(), (int)Num("vcpus"), Num("memory_gib"), (int)Num("gpus"),
                gpuModel.Length == 0 ? null : gpuModel);
            if (!firstLineOf.TryAdd(type.Name, lineNumber))
            {
                throw new FormatException($"{source}:{lineNumber}: instance_type '{type.Name}' is listed already, on line {firstLineOf[type.Name]}");
            }
            entries.Add(new CatalogEntry(type, Num("on_demand_usd_per_hour"), Num("spot_usd_per_hour_typical"), (int)Num("interruption_band")));
        }
        return new Catalog(provider, region, entries);
    }

    /// <summary>The header <see cref="Write"/> writes: the shipped catalog's.</summary>
    public const string Header =
        "instance_type,vcpus,memory_gib,gpus,gpu_model,on_demand_usd_per_hour,spot_savings_pct,spot_usd_per_hour_typical,interruption_band,interruption_freq_per_month";

    private static readonly string[] BandLabels = ["<5%", "5-10%", "10-15%", "15-20%", ">20%"];

    /// <summary>Writes <paramref name="catalog"/> in the shipped format (one region per file: the format has no region column), for <see cref="Parse"/> to read back.</summary>
    public static void Write(Catalog catalog, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine(Header);
        foreach (var e in catalog.Entries)
        {
            var t = e.Type;
            var savings = e.OnDemandPricePerHourUsd > 0 ? Math.Max(0, Math.Round(100 * (1 - (e.SpotPricePerHourUsd / e.OnDemandPricePerHourUsd)))) : 0;
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{t.Name},{t.Vcpus},{t.MemoryGiB:0.0##},{t.Gpus},{t.GpuModel},{e.OnDemandPricePerHourUsd:0.000000},{savings:0},{e.SpotPricePerHourUsd:0.000000},{e.InterruptionBand},{BandLabels[e.InterruptionBand]}"));
        }
    }
}
