using Spotwise.Core;
using Spotwise.Runtime.Policy;

namespace Spotwise.Runtime.Traces;

/// <summary>
/// Spot prices and capacity that move with traces, per zone: the catalog, with every traced instance type sold on spot in
/// each traced zone at its trace's price at the moment and with the instances the trace says the zone holds then
/// (<see cref="CatalogEntry.SpotZones"/>; the planners size the zone's pool by it). The entry's regional
/// <see cref="CatalogEntry.SpotPricePerHourUsd"/> is the cheapest among the zones that have capacity then (what a buyer
/// could get), or the cheapest of all zones when none has. The planners choose among the zones, so a plan's zone is a
/// real one. Traces without prices change nothing. One catalog is built per trace tick and reused until the next one.
/// It also says how much spot capacity every traced pool has at a moment (<see cref="ISpotPoolFeed"/>), which the spot
/// policy's history records: the same traces the simulated cloud replays.
/// </summary>
public sealed class TracePriceFeed : IPriceFeed, ISpotPoolFeed
{
    private readonly Lock _lock = new();
    private readonly Catalog _catalog;
    private readonly IReadOnlyList<SpotTrace> _traces;
    private readonly IReadOnlyList<SpotTrace> _pools;
    private (DateTimeOffset From, DateTimeOffset Until, Catalog Catalog)? _cached;

    public TracePriceFeed(Catalog catalog, IEnumerable<SpotTrace> traces)
    {
        _catalog = catalog;
        _pools = [.. traces];
        _traces = [.. _pools.Where(t => t.HasPrices)];
        var unknown = _traces.Select(t => t.InstanceType).Distinct().Where(t => catalog.Find(t) is null).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException(
                $"traced instance type(s) {string.Join(", ", unknown)} are not in the catalog; the feed can only reprice what it lists",
                nameof(traces));
        }
    }

    public Task<Catalog> PricesAtAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (_traces.Count == 0)
        {
            return Task.FromResult(_catalog);
        }
        lock (_lock)
        {
            if (_cached is { } c && at >= c.From && at < c.Until)
            {
                return Task.FromResult(c.Catalog);
            }
            var catalog = Build(at);
            var (from, until) = ValidityAround(at);
            _cached = (from, until, catalog);
            return Task.FromResult(catalog);
        }
    }

    /// <summary>The regional spot price the feed gives <paramref name="instanceType"/> at <paramref name="at"/>, or null if no trace prices it.</summary>
    public double? SpotPriceAt(string instanceType, DateTimeOffset at) => RegionalPrice(SpotZonesAt(instanceType, at));

    /// <summary>
    /// Every traced zone of <paramref name="instanceType"/> at <paramref name="at"/>, in zone order, with its price and the
    /// instances it holds then. Empty when no trace prices the type.
    /// </summary>
    public IReadOnlyList<ZoneSpotPrice> SpotZonesAt(string instanceType, DateTimeOffset at) =>
        [.. _traces.Where(t => t.InstanceType == instanceType)
            .Select(t => new ZoneSpotPrice(t.Zone, t.SpotPriceAt(at)!.Value) { Available = t.AvailableAt(at) })
            .OrderBy(z => z.Zone, StringComparer.Ordinal)];

    // The cheapest where spot can be had, or the cheapest of all when none can; null without zones.
    private static double? RegionalPrice(IReadOnlyList<ZoneSpotPrice> zones)
    {
        var selling = zones.Where(z => z.Available > 0).ToList();
        return (selling.Count > 0 ? selling : zones).Select(z => (double?)z.PricePerHourUsd).Min();
    }

    /// <summary>Every traced pool at <paramref name="at"/>, in the order the traces were given: capacity, and price where traced.</summary>
    public IReadOnlyList<SpotPoolReading> PoolsAt(DateTimeOffset at) =>
        [.. _pools.Select(t => new SpotPoolReading(t.Zone, t.InstanceType, t.AvailableAt(at), t.SpotPriceAt(at)))];

    private Catalog Build(DateTimeOffset at)
    {
        var entries = _catalog.Entries.Select(e => SpotZonesAt(e.Type.Name, at) is { Count: > 0 } zones
            ? e with { SpotPricePerHourUsd = RegionalPrice(zones)!.Value, SpotZones = [.. zones] }
            : e);
        return new Catalog(_catalog.Provider, _catalog.Region, entries) { Transfer = _catalog.Transfer };
    }

    // The span around `at` in which no trace moves to another tick: [latest tick start, earliest tick end). Outside a
    // trace's recording its edge tick holds, so that trace does not bound the span on that side.
    private (DateTimeOffset From, DateTimeOffset Until) ValidityAround(DateTimeOffset at)
    {
        var from = DateTimeOffset.MinValue;
        var until = DateTimeOffset.MaxValue;
        foreach (var t in _traces)
        {
            if (at < t.StartTime)
            {
                until = Min(until, t.StartTime + t.Tick);
                continue;
            }
            var index = t.TickIndexAt(at);
            var start = t.TickStart(index);
            from = Max(from, index == 0 ? DateTimeOffset.MinValue : start);
            if (index < t.TickCount - 1)
            {
                until = Min(until, start + t.Tick);
            }
        }
        return (from, until);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
