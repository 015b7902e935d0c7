using System.Collections.Immutable;

namespace Spotwise.Runtime.Alerting;

/// <summary>
/// Something a team or an operator should hear of now, as every webhook receives it (docs/teams.md#alerts). The
/// <see cref="Figures"/> are the numbers behind the <see cref="Message"/> (a deadline, a count, dollars), so a receiver
/// can act on them without parsing text. <see cref="Team"/> and <see cref="JobId"/> are null for alerts about the
/// service as a whole (the planner's).
/// </summary>
public sealed record Alert(string Kind, string Severity, string? Team, string? JobId, string Message, DateTimeOffset At)
{
    public ImmutableSortedDictionary<string, object> Figures { get; init; } = ImmutableSortedDictionary<string, object>.Empty.WithComparers(StringComparer.Ordinal);
}

/// <summary>The alert kinds, by their wire names (the plain JSON body's <c>kind</c>).</summary>
public static class AlertKinds
{
    public const string DeadlineAtRisk = "deadlineAtRisk";
    public const string PlannerFallback = "plannerFallback";
    public const string OptimizerTimeout = "optimizerTimeout";
    public const string RepeatedInterruptions = "repeatedInterruptions";
    public const string BudgetThreshold = "budgetThreshold";

    public static IReadOnlyList<string> All { get; } = [DeadlineAtRisk, PlannerFallback, OptimizerTimeout, RepeatedInterruptions, BudgetThreshold];
}

public static class AlertSeverities
{
    public const string Warning = "warning";
    public const string Critical = "critical";
}

/// <summary>
/// Where raised alerts go. <see cref="Publish"/> must return at once and never throw: it is called from inside the
/// planning cycle and the reconcile tick, which must not wait on a webhook.
/// </summary>
public interface IAlertSink
{
    void Publish(Alert alert);
}
