using System.Collections.Immutable;

namespace Spotwise.Core;

/// <summary>Starts from <paramref name="From"/> to <paramref name="To"/>, both included.</summary>
public readonly record struct StartRange(DateTimeOffset From, DateTimeOffset To);

/// <summary>
/// One way to run a job: an offer, what it is expected to cost, the window its start must fall in, and the pool
/// it draws on. Options are the planners' whole vocabulary.
/// </summary>
public sealed record JobOption(
    Job Job,
    Offer Offer,
    double ExpectedCostUsd,
    DateTimeOffset EarliestStart,
    DateTimeOffset? LatestStart,
    PoolUse Pool)
{
    /// <summary>
    /// Hours the run spends moving the job's input to the offer's region before its work (<see cref="DataTransfer"/>);
    /// 0 when the data is where the offer is. The run holds its instance for <see cref="RunHours"/>.
    /// </summary>
    public double TransferHours { get; init; }

    /// <summary>
    /// A second pool the option draws on, besides <see cref="Pool"/>: the savings plan's commitment
    /// (<see cref="CapacityLimits.CommitmentPoolOf"/>); null for most options.
    /// </summary>
    public PoolUse? CommitmentPool { get; init; }

    /// <summary>Every pool the option draws on: <see cref="Pool"/>, then <see cref="CommitmentPool"/>.</summary>
    public IEnumerable<PoolUse> Pools => CommitmentPool is { } c ? [Pool, c] : [Pool];

    /// <summary>
    /// Where the job has scheduling windows (<see cref="Job.Windows"/>), the ranges its start may take, each inside
    /// [<see cref="EarliestStart"/>, <see cref="LatestStart"/>] and such that the whole run ends inside the same allowed
    /// interval; empty means the whole window from earliest to latest start.
    /// </summary>
    public ImmutableArray<StartRange> StartRanges { get; init; } = [];

    /// <summary>How long the run holds its instance: the job as planned (work and launch allowance), plus the transfer.</summary>
    public double RunHours => Job.DurationHours + TransferHours;

    /// <summary>The job as this option runs it: its duration is the run's (<see cref="RunHours"/>).</summary>
    public Job RunJob => TransferHours > 0 ? Job with { DurationHours = RunHours } : Job;

    public DateTimeOffset? FallbackAt => Offer.Market == Market.Spot ? CostModel.FallbackAt(RunJob) : null;
}

/// <summary>The options of one job, cheapest first, or why it has none.</summary>
public sealed record JobOptions(Job Job, IReadOnlyList<JobOption> Options, string? WhyNone, double? AllOnDemandCostUsd)
{
    public bool IsPlannable => Options.Count > 0;

    public JobOption? Cheapest => Options.Count > 0 ? Options[0] : null;
}
