using Spotwise.Core;

namespace Spotwise.Simulation.Queue;

/// <summary>What one policy made of a queue. Costs are what the simulated cloud billed, instance by instance.</summary>
public sealed record QueueSimulationResult(
    QueuePolicy Policy,
    string Planner,
    int Jobs,
    double TotalCostUsd,
    double OnDemandBaselineCostUsd,
    int Succeeded,
    int DeadlineMisses,
    int Interruptions,
    int SpotRefusals,
    int Fallbacks,
    int Cycles,
    double PlannerP50Seconds,
    double PlannerP95Seconds,
    TimeSpan VirtualDuration,
    TimeSpan WallTime,
    IReadOnlyList<JobOutcome> Outcomes)
{
    /// <summary>100 × (baseline − cost) / baseline; 0 when the baseline is 0.</summary>
    public double SavingsPct => OnDemandBaselineCostUsd > 0 ? 100 * (OnDemandBaselineCostUsd - TotalCostUsd) / OnDemandBaselineCostUsd : 0;

    /// <summary>Jobs the planner never placed (never launched; see <see cref="JobOutcome.UnplannedReason"/>): each is also a miss.</summary>
    public int Unplanned => Outcomes.Count(o => o.UnplannedReason is not null);
}

/// <summary>
/// One job's fate. <see cref="Markets"/> lists the market of every attempt that ran, in order (spot, spot, on-demand
/// after two interruptions, say); type and zone are those of the last attempt. A job meets its deadline when it
/// succeeded by then (by the end, when it has none).
/// </summary>
public sealed record JobOutcome(
    string JobId,
    JobState State,
    IReadOnlyList<Market> Markets,
    string? InstanceType,
    string? Zone,
    DateTimeOffset? Start,
    DateTimeOffset? Finish,
    DateTimeOffset? Deadline,
    bool MetDeadline,
    double CostUsd,
    int Attempts,
    int Interruptions,
    string? LastError)
{
    /// <summary>
    /// Set when the job was never launched because no plan could place it: the planner's last reason (what
    /// <c>spotwise plan</c> reports for the same queue and clock). Its <see cref="LastError"/> is the runtime's later verdict.
    /// </summary>
    public string? UnplannedReason { get; init; }
}

/// <summary>How far a run is: virtual time reached, and jobs in a final state out of all.</summary>
public readonly record struct QueueProgress(DateTimeOffset VirtualNow, int JobsDone, int Jobs);
