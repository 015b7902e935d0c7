using Spotwise.Simulation.Scenarios.Policies;

namespace Spotwise.Simulation.Scenarios;

/// <summary>
/// One cell of a single-zone sweep (a deadline × changeover): every policy's runs over all zones and starts,
/// summarised. The bench prints these as the sweep table and plots them from the same values.
/// </summary>
public sealed record SweepCell(double DeadlineHours, double OverheadHours, int Runs, IReadOnlyDictionary<string, PolicySummary> Summaries)
{
    /// <summary>
    /// The share of the uniform-progress → omniscient cost gap spotwise closes, (UP − spotwise) / (UP − omniscient), over
    /// the summed costs of the cells; null when one of the three policies was not run or the gap is empty.
    /// </summary>
    public static double? GapClosed(IEnumerable<SweepCell> cells)
    {
        double up = 0, spotwise = 0, omniscient = 0;
        foreach (var c in cells)
        {
            if (!c.Summaries.TryGetValue(SpotwisePolicy.Name, out var s) || !c.Summaries.TryGetValue(UniformProgressPolicy.Name, out var u)
                || !c.Summaries.TryGetValue(OmniscientPolicy.Name, out var o))
            {
                return null;
            }
            (up, spotwise, omniscient) = (up + (u.MeanCostUsd * c.Runs), spotwise + (s.MeanCostUsd * c.Runs), omniscient + (o.MeanCostUsd * c.Runs));
        }
        return up - omniscient > 1e-9 ? (up - spotwise) / (up - omniscient) : null;
    }
}

/// <summary>
/// One cell of a multi-zone comparison on one market (a set of zones together): mean $ per job per policy.
/// <paramref name="Misses"/> counts the online policies' missed deadlines (the omniscient schedule never misses).
/// </summary>
public sealed record MultiZoneCell(string Market, double DeadlineHours, double OverheadHours, IReadOnlyDictionary<string, double> MeanCostUsd, int Misses)
{
    /// <summary>Spotwise's mean cost over omniscient's, minus one (0.03 = 3% above); null when either was not run.</summary>
    public double? SpotwiseAboveOmniscient =>
        MeanCostUsd.TryGetValue(SpotwisePolicy.Name, out var s) && MeanCostUsd.TryGetValue(OmniscientPolicy.Name, out var o) && o > 0
            ? (s / o) - 1
            : null;
}
