namespace Spotwise.Simulation.Scenarios;

/// <summary>What one run of one policy on one scenario came to. Costs in USD, times in hours since the job's start.</summary>
public sealed record RunResult(
    double CostUsd,
    double OnDemandCostUsd,
    double AllSpotCostUsd,
    double FinishHours,
    bool MissedDeadline,
    int Preemptions,
    int Changeovers,
    double SpotHours,
    double OnDemandHours,
    double PlannerSeconds,
    RunTimeline? Timeline);

/// <summary>Per tick of one run, for plots: what the job ran on (zone index, -1 on-demand, -2 idle) and the work done at its start.</summary>
public sealed record RunTimeline(int StartTick, IReadOnlyList<int> Placement, IReadOnlyList<double> DoneHours);
