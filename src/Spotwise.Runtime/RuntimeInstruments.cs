using System.Diagnostics.Metrics;
using Spotwise.Core;

namespace Spotwise.Runtime;

/// <summary>
/// The control loop's instruments on the Spotwise meter. Names and units are chosen so that the Prometheus exporter's
/// rules (dots become underscores, a unit's word is appended unless the name holds it, counters end in <c>_total</c>,
/// a unit in braces is only an annotation) give back exactly the names <c>/metrics</c> has always had:
/// <c>spotwise.cycles</c> is <c>spotwise_cycles_total</c>, <c>spotwise.cycle_seconds</c> (unit s) is
/// <c>spotwise_cycle_seconds</c>.
/// </summary>
internal sealed class RuntimeInstruments
{
    /// <summary>Cycle durations, in seconds: a greedy cycle takes milliseconds, a model's up to its two-minute limit.</summary>
    private static readonly double[] CycleBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    public RuntimeInstruments(Meter meter, RuntimeCounters counters)
    {
        CycleDuration = meter.CreateHistogram("spotwise.cycle.duration", "s", "How long planning cycles took, in seconds.",
            tags: null, advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = CycleBuckets });
        // Observed, not added to: the counters' own tallies are the one count, and a series is there (at 0) from the
        // start, as it always was, not only after the first event.
        meter.CreateObservableCounter("spotwise.cycles", () => counters.Cycles, "{cycle}", "Planning cycles since start.");
        meter.CreateObservableCounter("spotwise.interruptions", () => counters.Interruptions, "{interruption}",
            "Spot interruptions seen since start.");
        meter.CreateObservableCounter("spotwise.interruption_notices", () => counters.InterruptionNotices, "{notice}",
            "Spot interruption notices acted on since start: the next attempt launched before the instance was taken back.");
        meter.CreateObservableCounter("spotwise.spot_refusals", () => counters.SpotRefusals, "{refusal}",
            "Spot launches refused for want of capacity since start (nothing ran).");
        meter.CreateObservableCounter("spotwise.fallbacks", () => counters.Fallbacks, "{fallback}",
            "Safety-net moves of spot jobs to on-demand since start.");
        meter.CreateObservableGauge("spotwise.cycle_seconds", () => counters.LastCycle.TotalSeconds, "s",
            "How long the last planning cycle took, in seconds.");
        meter.CreateObservableGauge("spotwise.plan.expected_cost_usd", () => Plan(counters, t => t.ExpectedCostUsd), "{USD}",
            "Expected cost of the latest plan, in USD.");
        meter.CreateObservableGauge("spotwise.plan.savings_pct", () => Plan(counters, t => t.SavingsPct), "{percent}",
            "Savings of the latest plan against all on-demand, in percent.");
        meter.CreateObservableGauge("spotwise.plan.solve_seconds", () => Plan(counters, t => t.SolveSeconds), "s",
            "How long the planner took for the latest plan, in seconds.");
        meter.CreateObservableGauge("spotwise.plan.jobs", () => PlanJobs(counters), "{job}",
            "Jobs the latest plan placed (outcome=planned) and could not place (outcome=unplanned).");
    }

    public Histogram<double> CycleDuration { get; }

    /// <summary>One figure of the latest plan; none before a plan exists (the series is then absent, as it always was).</summary>
    private static IEnumerable<Measurement<double>> Plan(RuntimeCounters counters, Func<PlanTotals, double> figure) =>
        counters.LatestPlan is { } totals ? [new(figure(totals))] : [];

    private static IEnumerable<Measurement<int>> PlanJobs(RuntimeCounters counters) => counters.LatestPlan is { } totals
        ? [new(totals.JobsPlanned, new KeyValuePair<string, object?>("outcome", "planned")),
            new(totals.JobsUnplanned, new KeyValuePair<string, object?>("outcome", "unplanned"))]
        : [];
}
