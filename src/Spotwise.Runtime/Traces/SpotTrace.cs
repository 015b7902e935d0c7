using System.Collections.Immutable;

namespace Spotwise.Runtime.Traces;

/// <summary>
/// What spot capacity of one instance type in one zone did over time: per tick, how many spot instances could be had
/// (0 = none) and, where known, the spot price. Tick <c>i</c> covers [<see cref="StartTime"/> + i·<see cref="Tick"/>,
/// + <see cref="Tick"/>). Outside the recorded ticks the nearest one holds: before the start the first tick's values,
/// after the end the last tick's (a trace is a finite recording; nothing changes after it).
/// </summary>
public sealed class SpotTrace
{
    private readonly int[] _nextChange;
    private readonly double[] _priceCumulativeUsd;

    public SpotTrace(
        string zone,
        string instanceType,
        DateTimeOffset startTime,
        TimeSpan tick,
        ImmutableArray<int> available,
        ImmutableArray<double> spotPricesPerHourUsd = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(zone);
        ArgumentException.ThrowIfNullOrWhiteSpace(instanceType);
        if (tick <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(tick), tick, "a tick must be longer than zero");
        }
        if (available.IsDefaultOrEmpty)
        {
            throw new ArgumentException("a trace needs at least one tick", nameof(available));
        }
        if (available.Any(a => a < 0))
        {
            throw new ArgumentException("availability counts are >= 0", nameof(available));
        }
        spotPricesPerHourUsd = spotPricesPerHourUsd.IsDefault ? [] : spotPricesPerHourUsd;
        if (spotPricesPerHourUsd.Length != 0 && spotPricesPerHourUsd.Length != available.Length)
        {
            throw new ArgumentException(
                $"{spotPricesPerHourUsd.Length} prices for {available.Length} ticks: prices align with the ticks one for one",
                nameof(spotPricesPerHourUsd));
        }
        if (spotPricesPerHourUsd.Any(p => !double.IsFinite(p) || p < 0))
        {
            throw new ArgumentException("spot prices are finite and >= 0", nameof(spotPricesPerHourUsd));
        }

        Zone = zone;
        InstanceType = instanceType;
        StartTime = startTime;
        Tick = tick;
        Available = available;
        SpotPricesPerHourUsd = spotPricesPerHourUsd;

        _nextChange = new int[available.Length];
        var next = -1;
        for (var i = available.Length - 1; i >= 0; i--)
        {
            if (i + 1 < available.Length && available[i + 1] != available[i])
            {
                next = i + 1;
            }
            _nextChange[i] = next;
        }

        _priceCumulativeUsd = new double[spotPricesPerHourUsd.Length + 1];
        for (var i = 0; i < spotPricesPerHourUsd.Length; i++)
        {
            _priceCumulativeUsd[i + 1] = _priceCumulativeUsd[i] + (spotPricesPerHourUsd[i] * tick.TotalHours);
        }
    }

    public string Zone { get; }

    public string InstanceType { get; }

    /// <summary>Where tick 0 begins.</summary>
    public DateTimeOffset StartTime { get; }

    public TimeSpan Tick { get; }

    /// <summary>Spot instances obtainable per tick; 0 = none.</summary>
    public ImmutableArray<int> Available { get; }

    /// <summary>Spot $/h per tick, aligned with <see cref="Available"/>; empty when the trace has no prices.</summary>
    public ImmutableArray<double> SpotPricesPerHourUsd { get; }

    public bool HasPrices => SpotPricesPerHourUsd.Length > 0;

    public int TickCount => Available.Length;

    /// <summary>Where the last tick ends.</summary>
    public DateTimeOffset EndTime => StartTime + (Tick * TickCount);

    /// <summary>The same recording anchored at another start (a simulation replays a trace from its own clock).</summary>
    public SpotTrace StartingAt(DateTimeOffset startTime) =>
        new(Zone, InstanceType, startTime, Tick, Available, SpotPricesPerHourUsd);

    /// <summary>The same recording with a price per tick.</summary>
    public SpotTrace WithPrices(ImmutableArray<double> spotPricesPerHourUsd) =>
        new(Zone, InstanceType, StartTime, Tick, Available, spotPricesPerHourUsd);

    /// <summary>The index of the tick covering <paramref name="at"/>, clamped to the recorded ticks.</summary>
    public int TickIndexAt(DateTimeOffset at)
    {
        if (at <= StartTime)
        {
            return 0;
        }
        var index = (at - StartTime).Ticks / Tick.Ticks;
        return (int)Math.Min(index, TickCount - 1);
    }

    /// <summary>Where tick <paramref name="index"/> begins.</summary>
    public DateTimeOffset TickStart(int index) => StartTime + (Tick * index);

    public int AvailableAt(DateTimeOffset at) => Available[TickIndexAt(at)];

    /// <summary>The spot price in force at <paramref name="at"/>, or null when the trace has no prices.</summary>
    public double? SpotPriceAt(DateTimeOffset at) => HasPrices ? SpotPricesPerHourUsd[TickIndexAt(at)] : null;

    /// <summary>
    /// The first tick boundary after <paramref name="at"/> where availability differs from its value at
    /// <paramref name="at"/>, or null when it never changes again.
    /// </summary>
    public DateTimeOffset? NextChange(DateTimeOffset at)
    {
        if (at >= EndTime)
        {
            return null;
        }
        var next = _nextChange[TickIndexAt(at)];
        return next < 0 ? null : TickStart(next);
    }

    /// <summary>
    /// What running from <paramref name="from"/> to <paramref name="to"/> costs at the trace's spot prices (the first and
    /// last prices hold outside the recording), or null when the trace has no prices.
    /// </summary>
    public double? SpotCostUsd(DateTimeOffset from, DateTimeOffset to)
    {
        if (!HasPrices)
        {
            return null;
        }
        return to <= from ? 0 : CumulativeCostUsd(to) - CumulativeCostUsd(from);
    }

    // The cost of running from StartTime to `at` (negative before the start), with the edge prices held outside.
    private double CumulativeCostUsd(DateTimeOffset at)
    {
        if (at <= StartTime)
        {
            return -(StartTime - at).TotalHours * SpotPricesPerHourUsd[0];
        }
        if (at >= EndTime)
        {
            return _priceCumulativeUsd[TickCount] + ((at - EndTime).TotalHours * SpotPricesPerHourUsd[TickCount - 1]);
        }
        var index = TickIndexAt(at);
        return _priceCumulativeUsd[index] + ((at - TickStart(index)).TotalHours * SpotPricesPerHourUsd[index]);
    }
}
