using System.Collections.Immutable;

namespace Spotwise.Core;

public enum PlanStatus
{
    /// <summary>Every job is planned and no cheaper plan exists (the lower bound is met).</summary>
    Optimal,

    /// <summary>Every job is planned; the plan is valid but not proven cheapest.</summary>
    Feasible,

    /// <summary>Some job could not be planned; see the unplanned list for why.</summary>
    Infeasible,

    /// <summary>The solver's time ran out before it found a plan of its own; the plan is the starting (greedy) plan.</summary>
    Timeout,
}

/// <summary>One job's place in a plan.</summary>
public sealed record Assignment(
    string JobId,
    Offer Offer,
    DateTimeOffset Start,
    DateTimeOffset End,
    double ExpectedCostUsd,
    DateTimeOffset? FallbackAt,
    string Reason)
{
    public Market Market => Offer.Market;

    /// <summary>The commitment the job runs under (<see cref="Offer.Commitment"/>): a reserved instance, the savings plan, or null.</summary>
    public string? Commitment => Offer.Commitment;
}

/// <summary>A job the plan could not place, and why.</summary>
public sealed record UnplannedJob(string JobId, string Reason);

/// <summary>A plan's own account of its quality.</summary>
public sealed record PlanTotals(
    double ExpectedCostUsd,
    double OnDemandCostUsd,
    double SavingsPct,
    double LowerBoundUsd,
    double GapPct,
    double SolveSeconds,
    int JobsPlanned,
    int JobsUnplanned,
    int DeadlinesAtRisk);

/// <summary>For each job, an offer and a start time, or why not; with the plan's quality.</summary>
public sealed record Plan(
    string Planner,
    DateTimeOffset Now,
    PlanStatus Status,
    ImmutableArray<Assignment> Schedule,
    ImmutableArray<UnplannedJob> Unplanned,
    PlanTotals Totals)
{
    /// <summary>A planned job whose slack after its end is under this share of its duration is at risk.</summary>
    public const double AtRiskSlackShare = 0.10;

    /// <summary>What a generative model contributed, when one was asked (planners <c>llm</c> and <c>hybrid</c>).</summary>
    public LlmReport? Llm { get; init; }

    /// <summary>
    /// The launch allowance the plan was made with (<see cref="PlanningSettings.LaunchAllowance"/>): each assignment's
    /// start is its launch, and its work begins this much later, so its end is start + allowance + work.
    /// </summary>
    public TimeSpan LaunchAllowance { get; init; }

    /// <summary>The fair-share figures the plan was made with (<see cref="PlanningProblem.FairShare"/>), for the "why"; null without.</summary>
    public FairShare? FairShare { get; init; }
}
