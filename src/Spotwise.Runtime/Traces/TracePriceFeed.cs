using Spotwise.Core;
using Spotwise.Runtime.Policy;

namespace Spotwise.Runtime.Traces;

/// <summary>
/// Spot prices that move with a trace: the catalog, with the spot price of every traced instance type replaced by the
/// trace's price at the moment. A <see cref="Catalog"/> is regional and keeps one spot price per type, so when several
/// zones trace the same type the price is the cheapest among the zones that have spot capacity then (what a buyer could
/// get), or the cheapest of all zones when none has. Traces without prices change nothing. One catalog is built per
/// trace tick and reused until the next one. It also says how much spot capacity every traced pool has at a moment
/// (<see cref="ISpotPoolFeed"/>), which the spot policy's history records: the same traces the simulated cloud replays.
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

    /// <summary>The spot price the feed gives <paramref name="instanceType"/> at <paramref name="at"/>, or null if no trace prices it.</summary>
    public double? SpotPriceAt(string instanceType, DateTimeOffset at)
    {
        var zones = _traces.Where(t => t.InstanceType == instanceType).ToList();
        if (zones.Count == 0)
        {
            return null;
        }
        var withCapacity = zones.Where(t => t.AvailableAt(at) > 0).ToList();
        return (withCapacity.Count > 0 ? withCapacity : zones).Min(t => t.SpotPriceAt(at)!.Value);
    }

    /// <summary>Every traced pool at <paramref name="at"/>, in the order the traces were given: capacity, and price where traced.</summary>
    public IReadOnlyList<SpotPoolReading> PoolsAt(DateTimeOffset at) =>
        [.. _pools.Select(t => new SpotPoolReading(t.Zone, t.InstanceType, t.AvailableAt(at), t.SpotPriceAt(at)))];

    private Catalog Build(DateTimeOffset at)
    {
        var entries = _catalog.Entries.Select(e => SpotPriceAt(e.Type.Name, at) is { } price ? e with { SpotPricePerHourUsd = price } : e);
        return new Catalog(_catalog.Provider, _catalog.Region, entries);
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
