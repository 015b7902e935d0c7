using System.Collections.Immutable;
using System.Globalization;
using Spotwise.Core;

namespace Spotwise.Runtime.History;

/// <summary>
/// How the service learns each spot pool's interruption rate from its own attempts (docs/teams.md, "Learning from
/// history"). Bound from <c>Spotwise:History:Pools</c>.
/// </summary>
public sealed record PoolHistoryOptions
{
    /// <summary>
    /// How many running hours the Spot Advisor band's rate counts as (the gamma prior's weight): the learned rate is
    /// <c>(interruptions + PriorHours × bandRate) / (runningHours + PriorHours)</c>. 100 h: four days of one instance.
    /// </summary>
    public double PriorHours { get; init; } = 100;

    /// <summary>A pool with fewer running hours than this keeps its band's rate: ten hours say little of a monthly figure.</summary>
    public double MinimumHours { get; init; } = 10;

    /// <summary>Only attempts that ended within this look-back count, so a pool that got better (or worse) shows it.</summary>
    public TimeSpan LookBack { get; init; } = TimeSpan.FromDays(30);

    /// <summary>How often the attempt log is read again from the store.</summary>
    public TimeSpan RefreshEvery { get; init; } = TimeSpan.FromMinutes(10);

    public static PoolHistoryOptions Default { get; } = new();

    /// <summary>Each setting out of its range, named with its value; empty when all are good.</summary>
    public IEnumerable<string> Problems()
    {
        if (!(PriorHours >= 0) || double.IsInfinity(PriorHours))
        {
            yield return Invariant($"{nameof(PriorHours)} is {PriorHours}: the band's rate counts as 0 or more hours");
        }
        if (!(MinimumHours > 0) || double.IsInfinity(MinimumHours))
        {
            yield return Invariant($"{nameof(MinimumHours)} is {MinimumHours}: above 0 (a pool with no running hours has no rate of its own)");
        }
        if (LookBack <= TimeSpan.Zero)
        {
            yield return Invariant($"{nameof(LookBack)} is {LookBack}: above 0");
        }
        if (RefreshEvery < TimeSpan.Zero)
        {
            yield return Invariant($"{nameof(RefreshEvery)} is {RefreshEvery}: not negative");
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The interruption rate spot offers of one pool are priced with, and where it comes from: the pool's own history
/// (<see cref="Learned"/>) or its type's Spot Advisor band.
/// </summary>
/// <param name="Zone">The pool's zone.</param>
/// <param name="InstanceType">The pool's instance type.</param>
/// <param name="RatePerHour">The rate in force.</param>
/// <param name="Band">The type's Spot Advisor band (0-4).</param>
/// <param name="BandRatePerHour">The band's rate (the prior).</param>
/// <param name="ExposureHours">Running hours of the pool's ended spot attempts within the look-back.</param>
/// <param name="Interruptions">How many of them were interrupted.</param>
/// <param name="Learned">True when the pool's history has the minimum exposure and its rate is in force.</param>
public sealed record SpotRateUsed(string Zone, string InstanceType, double RatePerHour, int Band, double BandRatePerHour, double ExposureHours,
    int Interruptions, bool Learned)
{
    /// <summary>For people: "learned 0.31/h from 42 h on us-east-1a/p3.2xlarge (9 interruptions; band 3: 0.00026/h)" or "band 3: 0.00026/h".</summary>
    public string Describe() => Learned
        ? string.Create(CultureInfo.InvariantCulture,
            $"learned {Rate(RatePerHour)}/h from {ExposureHours:0.#} h on {Zone}/{InstanceType} ({Interruptions} interruption{(Interruptions == 1 ? "" : "s")}; band {Band}: {Rate(BandRatePerHour)}/h)")
        : ExposureHours > 0
            ? string.Create(CultureInfo.InvariantCulture, $"band {Band}: {Rate(RatePerHour)}/h ({ExposureHours:0.#} h on {Zone}/{InstanceType} is below the minimum)")
            : string.Create(CultureInfo.InvariantCulture, $"band {Band}: {Rate(RatePerHour)}/h");

    /// <summary>Three significant digits: band rates are ten-thousandths, learned ones may be tenths.</summary>
    private static string Rate(double r) => r.ToString("G3", CultureInfo.InvariantCulture);
}

/// <summary>
/// What the service's own spot attempts say of each pool (zone, instance type): the observed interruptions per running
/// hour, blended with the type's Spot Advisor band as a gamma-Poisson prior worth <see cref="PoolHistoryOptions.PriorHours"/>,
/// in force from <see cref="PoolHistoryOptions.MinimumHours"/> of exposure. A snapshot: immutable, built from the store's
/// sums by <see cref="From"/>.
/// </summary>
/// <remarks>
/// With λ₀ the band's rate, T₀ the prior's hours, n interruptions in T running hours, the posterior mean of a
/// Gamma(λ₀T₀, T₀) prior after Poisson observations is <c>(n + λ₀T₀) / (T + T₀)</c>: the band's rate with no history,
/// the observed n/T with much. Attempts still running are not counted until they end.
/// </remarks>
public sealed class PoolInterruptionHistory
{
    private readonly ImmutableArray<PoolExposure> _pools;
    private readonly PoolHistoryOptions _options;

    private PoolInterruptionHistory(ImmutableArray<PoolExposure> pools, PoolHistoryOptions options)
    {
        _pools = pools;
        _options = options;
    }

    /// <summary>No history: every pool at its band's rate.</summary>
    public static PoolInterruptionHistory Empty { get; } = From([], PoolHistoryOptions.Default);

    /// <summary>The history of the store's per-pool sums.</summary>
    public static PoolInterruptionHistory From(IEnumerable<PoolExposure> pools, PoolHistoryOptions options) => new([.. pools], options);

    /// <summary>Every pool the log knows, as the store summed it.</summary>
    public ImmutableArray<PoolExposure> Pools => _pools;

    /// <summary>
    /// The rate the offers of <paramref name="entry"/> in <paramref name="zone"/> are priced with in a catalog of
    /// <paramref name="provider"/>: attempts placed before providers were kept count as the service's (the catalog's).
    /// </summary>
    public SpotRateUsed RateFor(string provider, CatalogEntry entry, string zone)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var (hours, interruptions) = (0.0, 0);
        foreach (var p in _pools)
        {
            if (string.Equals(p.Zone, zone, StringComparison.Ordinal) && string.Equals(p.InstanceType, entry.Type.Name, StringComparison.Ordinal)
                && (p.Provider.Length == 0 || string.Equals(p.Provider, provider, StringComparison.Ordinal)))
            {
                (hours, interruptions) = (hours + p.RunningHours, interruptions + p.Interruptions);
            }
        }
        var band = entry.SpotInterruptionRatePerHour;
        var learned = hours >= _options.MinimumHours;
        var rate = learned ? (interruptions + (_options.PriorHours * band)) / (hours + _options.PriorHours) : band;
        return new SpotRateUsed(zone, entry.Type.Name, rate, entry.InterruptionBand, band, hours, interruptions, learned);
    }

    /// <summary>The catalog with each pool's learned rate in force (<see cref="Catalog.SpotRates"/>); itself when none is.</summary>
    public Catalog Apply(Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var rates = ImmutableDictionary.CreateBuilder<SpotPoolKey, double>();
        foreach (var pool in _pools.Select(p => new SpotPoolKey(p.Zone, p.InstanceType)).Distinct())
        {
            if (catalog.Find(pool.InstanceType) is { } entry && RateFor(catalog.Provider, entry, pool.Zone) is { Learned: true } used)
            {
                rates[pool] = used.RatePerHour;
            }
        }
        return rates.Count == 0 ? catalog : catalog.WithSpotRates(rates.ToImmutable());
    }
}
