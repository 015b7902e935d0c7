namespace Spotwise.Core;

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
    public DateTimeOffset? FallbackAt => Offer.Market == Market.Spot ? CostModel.FallbackAt(Job) : null;
}

/// <summary>The options of one job, cheapest first, or why it has none.</summary>
public sealed record JobOptions(Job Job, IReadOnlyList<JobOption> Options, string? WhyNone, double? AllOnDemandCostUsd)
{
    public bool IsPlannable => Options.Count > 0;

    public JobOption? Cheapest => Options.Count > 0 ? Options[0] : null;
}
