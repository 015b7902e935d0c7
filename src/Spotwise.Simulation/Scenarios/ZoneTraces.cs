using System.Collections.Immutable;
using Spotwise.Core;
using Spotwise.Runtime.Policy;
using Spotwise.Runtime.Traces;

namespace Spotwise.Simulation.Scenarios;

/// <summary>
/// The market a scenario plays in: one or more zones' spot traces aligned tick for tick (same tick length and count),
/// each tick's spot availability and price per zone, and the on-demand price (always available). Built once and
/// shared by every run of a sweep; runs only read it. Also holds what the simulated cloud needs to replay it: the
/// traces anchored at <see cref="Origin"/> and a one-entry catalog with the on-demand price and the spot price used
/// where a trace has none.
/// </summary>
public sealed class ZoneTraces
{
    /// <summary>Where tick 0 of every trace lies in virtual time (the recordings' own dates do not matter).</summary>
    public static readonly DateTimeOffset Origin = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly bool[][] _available;
    private readonly double[][] _spotPrice;

    // Prefix sums over "some zone has capacity": ticks available, and spells begun (a tick available after one that was not).
    private readonly int[] _anyAvailableBefore;
    private readonly int[] _spellsBegunBefore;

    public ZoneTraces(
        IReadOnlyList<SpotTrace> traces,
        InstanceType instanceType,
        double onDemandPricePerHourUsd,
        double fallbackSpotPricePerHourUsd,
        string? onDemandZone = null)
    {
        if (traces.Count == 0)
        {
            throw new ArgumentException("a market needs at least one zone's trace", nameof(traces));
        }
        var first = traces[0];
        foreach (var t in traces.Skip(1))
        {
            if (t.Tick != first.Tick || t.TickCount != first.TickCount)
            {
                throw new ArgumentException(
                    $"zones {first.Zone} ({first.TickCount} ticks of {first.Tick.TotalSeconds} s) and {t.Zone} ({t.TickCount} ticks of {t.Tick.TotalSeconds} s) are not aligned in time",
                    nameof(traces));
            }
        }
        if (!(onDemandPricePerHourUsd > 0) || !double.IsFinite(onDemandPricePerHourUsd))
        {
            throw new ArgumentOutOfRangeException(nameof(onDemandPricePerHourUsd), onDemandPricePerHourUsd, "the on-demand price must be > 0");
        }
        InstanceType = instanceType;
        OnDemandPricePerHourUsd = onDemandPricePerHourUsd;
        Tick = first.Tick;
        TickCount = first.TickCount;
        Zones = [.. traces.Select(t => t.Zone)];
        OnDemandZone = onDemandZone ?? Zones[0];
        CloudTraces = [.. traces.Select(t => new SpotTrace(t.Zone, instanceType.Name, Origin, t.Tick, t.Available, t.SpotPricesPerHourUsd))];
        _available = [.. traces.Select(t => t.Available.Select(a => a > 0).ToArray())];
        _spotPrice = [.. traces.Select(t => t.HasPrices ? t.SpotPricesPerHourUsd.ToArray() : Enumerable.Repeat(fallbackSpotPricePerHourUsd, t.TickCount).ToArray())];
        Catalog = new Catalog("simulation", "simulation",
            [new CatalogEntry(instanceType, onDemandPricePerHourUsd, fallbackSpotPricePerHourUsd, InterruptionBand: 0)]);
        (_anyAvailableBefore, _spellsBegunBefore) = PrefixSums();
    }

    public ImmutableArray<string> Zones { get; }

    public int ZoneCount => Zones.Length;

    public TimeSpan Tick { get; }

    public double TickHours => Tick.TotalHours;

    public int TickCount { get; }

    public InstanceType InstanceType { get; }

    public double OnDemandPricePerHourUsd { get; }

    /// <summary>The zone on-demand runs in (the cheapest, where zones' on-demand prices differ).</summary>
    public string OnDemandZone { get; }

    /// <summary>The traces as the simulated cloud replays them: anchored at <see cref="Origin"/>, for <see cref="InstanceType"/>.</summary>
    public ImmutableArray<SpotTrace> CloudTraces { get; }

    /// <summary>Prices the simulated cloud charges: on-demand, and spot where a trace has no prices.</summary>
    public Catalog Catalog { get; }

    public bool Available(int zone, int tick) => _available[zone][tick];

    /// <summary>Whether some zone has spot capacity at <paramref name="tick"/>.</summary>
    public bool AnyAvailable(int tick) => _anyAvailableBefore[tick + 1] > _anyAvailableBefore[tick];

    /// <summary>Availability in any zone over ticks [<paramref name="from"/>, <paramref name="to"/>], in O(1).</summary>
    public AvailabilitySummary AnyZoneSummary(int from, int to) => new(
        to - from + 1,
        _anyAvailableBefore[to + 1] - _anyAvailableBefore[from],
        (AnyAvailable(from) ? 1 : 0) + _spellsBegunBefore[to + 1] - _spellsBegunBefore[from + 1]);

    public double SpotPrice(int zone, int tick) => _spotPrice[zone][tick];

    /// <summary>The moment tick <paramref name="tick"/> begins in virtual time.</summary>
    public DateTimeOffset TimeOf(int tick) => Origin + (Tick * tick);

    private (int[] Available, int[] SpellsBegun) PrefixSums()
    {
        var available = new int[TickCount + 1];
        var begun = new int[TickCount + 1];
        var last = false;
        for (var t = 0; t < TickCount; t++)
        {
            var any = false;
            for (var z = 0; z < ZoneCount && !any; z++)
            {
                any = _available[z][t];
            }
            available[t + 1] = available[t] + (any ? 1 : 0);
            begun[t + 1] = begun[t] + (any && !last ? 1 : 0);
            last = any;
        }
        return (available, begun);
    }

    /// <summary>The fraction of ticks in [from, to) with spot capacity in <paramref name="zone"/>.</summary>
    public double AvailabilityFraction(int zone, int from, int to)
    {
        var n = 0;
        for (var t = from; t < to; t++)
        {
            n += _available[zone][t] ? 1 : 0;
        }
        return to > from ? (double)n / (to - from) : 0;
    }
}
