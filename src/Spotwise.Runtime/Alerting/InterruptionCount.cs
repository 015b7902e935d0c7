using Spotwise.Runtime.Reconciliation;

namespace Spotwise.Runtime.Alerting;

/// <summary>
/// How often a job was interrupted, read from its events (so a restart forgets nothing): each attempt that ran and was
/// taken back (running → interrupted), and each attempt moved on ahead of an interruption notice. A launch the market
/// refused (launching → interrupted) ran nothing and is not counted, as <c>spotwise_interruptions_total</c> does not count it.
/// </summary>
public static class InterruptionCount
{
    public static int Of(IEnumerable<JobEvent> events) => events.Count(e =>
        (e.From == JobState.Running && e.To == JobState.Interrupted) || e.Cause.Contains(ReconcileLoop.NoticePhrase, StringComparison.Ordinal));
}
