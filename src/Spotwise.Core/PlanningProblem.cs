using System.Collections.Immutable;

namespace Spotwise.Core;

/// <summary>Everything a planner needs: the moment of planning, the jobs, what capacity costs and how much there is.</summary>
public sealed record PlanningProblem(
    DateTimeOffset Now,
    ImmutableArray<Job> Jobs,
    Catalog Catalog,
    CapacityLimits Limits,
    PlanningSettings Settings)
{
    public PlanningProblem(DateTimeOffset now, IEnumerable<Job> jobs, Catalog catalog, CapacityLimits limits)
        : this(now, [.. jobs], catalog, limits, PlanningSettings.Default)
    {
    }

    /// <summary>Capacity already held when planning starts (jobs running now): every planner and the validator count it.</summary>
    public ImmutableArray<CapacityReservation> Reservations { get; init; } = [];

    /// <summary>What each team with a dollar budget may still spend on this problem's jobs; a team not listed has no limit.</summary>
    public ImmutableArray<TeamBudget> Budgets { get; init; } = [];

    /// <summary>The budget that binds <paramref name="job"/> (by its team), or null.</summary>
    public TeamBudget? BudgetOf(Job job) =>
        Budgets.IsDefaultOrEmpty || job.Team is not { } team ? null : Budgets.FirstOrDefault(b => string.Equals(b.Team, team, StringComparison.Ordinal));

    /// <summary>
    /// How contested capacity is shared between teams (<see cref="Core.FairShare"/>), by each job's <see cref="Job.Team"/>;
    /// null plans without fair share (one team, <c>plan</c>).
    /// </summary>
    public FairShare? FairShare { get; init; }
}

/// <summary>Capacity held outside the plan: a running job's instance, from now until it is expected to end.</summary>
public sealed record CapacityReservation(string JobId, Offer Offer, DateTimeOffset From, DateTimeOffset To);

/// <summary>Knobs of the planning model shared by every planner.</summary>
public sealed record PlanningSettings
{
    public static PlanningSettings Default { get; } = new();

    /// <summary>Starts fall on a grid of this many minutes from "now".</summary>
    public int GridMinutes { get; init; } = 5;

    /// <summary>How many options per market each job keeps after exact pruning (cheapest first).</summary>
    public int OptionsPerMarket { get; init; } = 4;

    /// <summary>How far ahead a job without a deadline may be placed.</summary>
    public TimeSpan OpenHorizon { get; init; } = TimeSpan.FromDays(14);

    /// <summary>
    /// The farthest any job's times and durations may reach from "now" (<see cref="PlanningBounds"/>). Beyond the
    /// intake's own bounds (366 days, 8,760 h), so it only stops what would overflow: two years on a one-minute grid
    /// is about a million steps, far inside an int.
    /// </summary>
    public TimeSpan Horizon { get; init; } = TimeSpan.FromDays(730);

    /// <summary>
    /// Time from launch until a job's work runs (boot, image pull): every planner and the validator hold each job's
    /// instance this much longer than its work (<see cref="AsPlanned"/>), so the work still ends by the deadline and a
    /// job whose slack is shorter is refused up front with the reason instead of launched to miss. Zero means the work
    /// starts at launch (local processes); a cloud backend plans with <see cref="CloudLaunchAllowance"/>.
    /// </summary>
    public TimeSpan LaunchAllowance { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// The bandwidth a job's input moves between regions at, in Gbit/s (<see cref="DataTransfer"/>): 1 Gbit/s (450 GB an
    /// hour), on purpose below what a copy may reach: EC2 caps one flow at 5 Gbit/s outside a cluster placement group, an
    /// inter-region round trip of tens of milliseconds keeps one stream well under that, and the copy shares the
    /// instance's network. A plan that counts on less than it gets finishes early; one that counts on more misses.
    /// </summary>
    public double TransferGbps { get; init; } = 1.0;

    /// <summary>A cloud instance's boot, the allowance <c>plan</c>, <c>serve</c> and <c>simulate</c> use by default: a typical EC2 boot, and the simulated cloud's launch delay.</summary>
    public static TimeSpan CloudLaunchAllowance { get; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// The job as planners place and price it: its work plus the launch allowance. The one place the allowance enters
    /// planning: options, grid, costs, fallback moments, the validator and the model's proposals all read this job.
    /// </summary>
    public Job AsPlanned(Job job) =>
        LaunchAllowance <= TimeSpan.Zero ? job : job with { DurationHours = job.DurationHours + LaunchAllowance.TotalHours };
}
