using System.Diagnostics.Metrics;
using Spotwise.Core;

namespace Spotwise.Runtime;

/// <summary>
/// What the control loop has done since start: planning cycles and the last one's duration, interruptions seen, spot
/// launches refused, safety-net moves to on-demand, and the figures of the last plan a cycle stored. Thread-safe; one
/// instance per service. The dashboard and the queue simulation read the properties; given a meter factory (the
/// service's), every figure is also recorded on the <see cref="MeterName"/> meter that <c>/metrics</c> exports.
/// </summary>
public sealed class RuntimeCounters
{
    /// <summary>The one meter of Spotwise's own instruments (docs/server.md lists them).</summary>
    public const string MeterName = "Spotwise";

    private readonly RuntimeInstruments? _instruments;
    private long _cycles;
    private long _lastCycleTicks;
    private long _interruptions;
    private long _fallbacks;
    private long _refusals;
    private long _notices;
    private PlanTotals? _latestPlan;

    /// <param name="meters">The service's meter factory; without one (simulations, unit tests) nothing is recorded on a meter.</param>
    public RuntimeCounters(IMeterFactory? meters = null)
    {
        _instruments = meters is null ? null : new RuntimeInstruments(meters.Create(MeterName), this);
    }

    public long Cycles => Interlocked.Read(ref _cycles);

    public TimeSpan LastCycle => TimeSpan.FromTicks(Interlocked.Read(ref _lastCycleTicks));

    public long Interruptions => Interlocked.Read(ref _interruptions);

    public long Fallbacks => Interlocked.Read(ref _fallbacks);

    /// <summary>Spot launches the market refused outright (no capacity): not interruptions, nothing ran.</summary>
    public long SpotRefusals => Interlocked.Read(ref _refusals);

    /// <summary>
    /// Spot interruption notices acted on: the job's next attempt launched before the noticed instance was taken back.
    /// Each is counted in <see cref="Interruptions"/> too.
    /// </summary>
    public long InterruptionNotices => Interlocked.Read(ref _notices);

    /// <summary>The totals of the last plan a cycle stored since start (null before the first).</summary>
    public PlanTotals? LatestPlan => Volatile.Read(ref _latestPlan);

    public void CycleDone(TimeSpan took)
    {
        Interlocked.Increment(ref _cycles);
        Interlocked.Exchange(ref _lastCycleTicks, took.Ticks);
        _instruments?.CycleDuration.Record(took.TotalSeconds);
    }

    public void Interrupted() => Interlocked.Increment(ref _interruptions);

    public void FellBack() => Interlocked.Increment(ref _fallbacks);

    public void SpotRefused() => Interlocked.Increment(ref _refusals);

    public void Noticed() => Interlocked.Increment(ref _notices);

    /// <summary>
    /// A cycle stored a plan with these totals. Kept here so that reading the plan's figures (a scrape) never reads
    /// the stored document, which is compressed and may hold 100,000 jobs.
    /// </summary>
    public void PlanStored(PlanTotals totals) => Volatile.Write(ref _latestPlan, totals);

    /// <summary>
    /// The plan stored before this start, if no cycle has stored one since: seen once at start-up, so that the plan's
    /// figures do not go missing until the first cycle plans something.
    /// </summary>
    public void PlanFound(PlanTotals totals) => Interlocked.CompareExchange(ref _latestPlan, totals, null);
}
