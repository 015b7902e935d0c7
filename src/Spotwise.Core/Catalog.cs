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

    /// <summary>
    /// The on-demand price in each region other than the catalog's own (<see cref="Catalog.Combine"/>); empty for a
    /// single-region catalog. A region not named does not sell the type on demand.
    /// </summary>
    public ImmutableDictionary<string, double> OnDemandByRegion { get; init; } = ImmutableDictionary<string, double>.Empty.WithComparers(StringComparer.Ordinal);
}

/// <summary>The spot price of one instance type in one zone, and how many instances its market holds now where the feed knows.</summary>
public sealed record ZoneSpotPrice(string Zone, double PricePerHourUsd)
{
    /// <summary>The region the zone belongs to; null means the catalog's own region (<see cref="Catalog.Region"/>).</summary>
    public string? Region { get; init; }

    /// <summary>
    /// Instances the zone's spot market holds at the moment, ours included (a trace's count); null when the feed does not
    /// know. The planners take it as the zone's pool size (<see cref="CapacityLimits.WithSpotAvailable"/>).
    /// </summary>
    public int? Available { get; init; }
}

/// <summary>
/// What capacity costs: the instance types of a home region (<see cref="Region"/>) with their on-demand and spot prices,
/// and, for a catalog that spans regions (<see cref="Combine"/>), their prices in other regions too, plus what moving data
/// between regions costs (<see cref="Transfer"/>).
/// </summary>
public sealed class Catalog
{
    private readonly ImmutableDictionary<string, CatalogEntry> _byName;

    public Catalog(string provider, string region, IEnumerable<CatalogEntry> entries)
    {
        Provider = provider;
        Region = region;
        Entries = [.. entries.OrderBy(e => e.Type.Name, StringComparer.Ordinal)];
        _byName = Entries.ToImmutableDictionary(e => e.Type.Name, StringComparer.Ordinal);
        var others = Entries.SelectMany(e => e.OnDemandByRegion.Keys.Concat(e.SpotZones.Select(z => z.Region).OfType<string>()))
            .Where(r => !string.Equals(r, region, StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
        Regions = [region, .. others];
    }

    public string Provider { get; }

    /// <summary>The home region: where on-demand fallbacks run and where a job's data lives unless it says otherwise.</summary>
    public string Region { get; }

    /// <summary>Every region the catalog sells something in, the home region first.</summary>
    public ImmutableArray<string> Regions { get; }

    /// <summary>$/GB between regions, for jobs whose input lives elsewhere than where they run; none by default.</summary>
    public TransferPrices Transfer { get; init; } = TransferPrices.None;

    /// <summary>The same prices with another transfer table.</summary>
    public Catalog WithTransfer(TransferPrices transfer) => new(Provider, Region, Entries) { Transfer = transfer, SpotRates = SpotRates };

    /// <summary>
    /// Interruption rates per hour learned for some spot pools from the service's own history, in force over the type's
    /// Spot Advisor band (<see cref="CatalogEntry.SpotInterruptionRatePerHour"/>) for the offers of those pools. Empty: every
    /// pool at its band's rate.
    /// </summary>
    public ImmutableDictionary<SpotPoolKey, double> SpotRates { get; init; } = ImmutableDictionary<SpotPoolKey, double>.Empty;

    /// <summary>The same prices with these pools' learned interruption rates (the others at their band's).</summary>
    public Catalog WithSpotRates(ImmutableDictionary<SpotPoolKey, double> rates) =>
        new(Provider, Region, Entries) { Transfer = Transfer, SpotRates = rates };

    /// <summary>The interruption rate spot offers of <paramref name="entry"/> in <paramref name="zone"/> carry: the pool's learned one, else the band's.</summary>
    public double SpotRateOf(CatalogEntry entry, string zone) =>
        SpotRates.TryGetValue(new SpotPoolKey(zone, entry.Type.Name), out var learned) ? learned : entry.SpotInterruptionRatePerHour;

    /// <summary>
    /// One catalog over several single-region ones, the first one's region being home. The home catalog's types are the
    /// catalog's types; each other region adds its on-demand price and its spot zones (or its regional spot price as one
    /// zone named like the region) for the types it sells: a type missing in a region is not offered there, and a type the
    /// home region lacks is left out (the fallback and the quota classes are the home region's). Zones share the type's
    /// interruption band from the home region (the Spot Advisor rates a type per region; we keep one band per type).
    /// </summary>
    /// <exception cref="ArgumentException">No catalog, catalogs of different providers, or one region twice.</exception>
    public static Catalog Combine(IEnumerable<Catalog> catalogs, TransferPrices? transfer = null)
    {
        var all = catalogs.ToList();
        if (all.Count == 0)
        {
            throw new ArgumentException("no catalog to combine", nameof(catalogs));
        }
        var home = all[0];
        if (all.FirstOrDefault(c => !string.Equals(c.Provider, home.Provider, StringComparison.Ordinal)) is { } stranger)
        {
            throw new ArgumentException($"catalogs of providers '{home.Provider}' and '{stranger.Provider}' cannot be combined", nameof(catalogs));
        }
        if (all.GroupBy(c => c.Region, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            throw new ArgumentException($"region '{twice.Key}' is given twice", nameof(catalogs));
        }
        var entries = home.Entries.Select(e => CombinedEntry(e, home.Region, all.Skip(1)));
        return new Catalog(home.Provider, home.Region, entries) { Transfer = transfer ?? home.Transfer };
    }

    private static CatalogEntry CombinedEntry(CatalogEntry home, string homeRegion, IEnumerable<Catalog> others)
    {
        var onDemand = home.OnDemandByRegion;
        var zones = home.SpotZones.IsDefaultOrEmpty ? [new ZoneSpotPrice(homeRegion, home.SpotPricePerHourUsd)] : home.SpotZones;
        var addedZones = false;
        foreach (var other in others)
        {
            if (other.Find(home.Type.Name) is not { } there)
            {
                continue;
            }
            onDemand = onDemand.SetItem(other.Region, there.OnDemandPricePerHourUsd);
            zones = zones.AddRange(there.SpotZones.IsDefaultOrEmpty
                ? [new ZoneSpotPrice(other.Region, there.SpotPricePerHourUsd) { Region = other.Region }]
                : there.SpotZones.Select(z => z with { Region = other.Region }));
            addedZones = true;
        }
        return addedZones ? home with { OnDemandByRegion = onDemand, SpotZones = zones } : home;
    }

    /// <summary>The region of one of the catalog's zones (a region is its own zone where no zone is known); null when unknown.</summary>
    public string? RegionOfZone(string zone)
    {
        if (Regions.Contains(zone, StringComparer.Ordinal))
        {
            return zone;
        }
        foreach (var e in Entries)
        {
            foreach (var z in e.SpotZones)
            {
                if (string.Equals(z.Zone, zone, StringComparison.Ordinal))
                {
                    return z.Region ?? Region;
                }
            }
        }
        return null;
    }

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
        ? new Offer(Provider, Region, Region, entry.Type, Market.Spot, entry.SpotPricePerHourUsd, SpotRateOf(entry, Region))
        : new Offer(Provider, Region, Region, entry.Type, Market.OnDemand, entry.OnDemandPricePerHourUsd, 0.0);

    /// <summary>
    /// The spot offers of an entry: one per zone at the zone's price when the feed knows zones, else the regional one.
    /// Zones share the type's interruption band (the Spot Advisor rates a type per region) unless a pool's own rate was
    /// learned (<see cref="SpotRates"/>).
    /// </summary>
    public IEnumerable<Offer> SpotOffersFor(CatalogEntry entry) => entry.SpotZones.IsDefaultOrEmpty
        ? [OfferFor(entry, Market.Spot)]
        : entry.SpotZones.Select(z => new Offer(Provider, z.Region ?? Region, z.Zone, entry.Type, Market.Spot, z.PricePerHourUsd, SpotRateOf(entry, z.Zone)));

    /// <summary>
    /// The on-demand offers of an entry: the home region's, then one per other region that sells the type, each with
    /// zone = its region (on-demand is bought, and its quota counted, per region).
    /// </summary>
    public IEnumerable<Offer> OnDemandOffersFor(CatalogEntry entry) =>
        [OfferFor(entry, Market.OnDemand), .. entry.OnDemandByRegion.OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => new Offer(Provider, r.Key, r.Key, entry.Type, Market.OnDemand, r.Value, 0.0))];

    /// <summary>The offer of an entry on a market in <paramref name="zone"/>, or null when the catalog sells none there.</summary>
    public Offer? OfferFor(CatalogEntry entry, Market market, string zone) =>
        (market == Market.Spot ? SpotOffersFor(entry) : OnDemandOffersFor(entry)).FirstOrDefault(o => string.Equals(o.Zone, zone, StringComparison.Ordinal));
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
