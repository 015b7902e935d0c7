namespace Spotwise.Server.Why;

/// <summary>
/// <c>GET /api/jobs/{id}/why</c>: where the job is and why. <see cref="Placement"/> explains the plan's choice of market,
/// type, zone and start (null while the job has none); <see cref="Waiting"/> lists what holds it back now, each with its
/// figures and, where known, until when.
/// </summary>
public sealed record WhyView(string JobId, string State, string Summary, PlacementWhy? Placement, IReadOnlyList<WaitingWhy> Waiting);

/// <summary>
/// The job's placement and the options it was chosen from, priced now: the cheapest few per market and where the job's
/// input must move (<see cref="DataTransfer"/>). <see cref="Reason"/> is the plan's own reason for the choice.
/// </summary>
public sealed record PlacementWhy(
    string Market,
    string InstanceType,
    string Zone,
    DateTimeOffset Start,
    double PricePerHourUsd,
    double ExpectedCostUsd,
    DateTimeOffset? FallbackAt,
    string Reason,
    double? CheapestSpotExpectedCostUsd,
    double? CheapestOnDemandExpectedCostUsd,
    IReadOnlyList<OptionWhy> Options,
    TransferWhy? DataTransfer)
{
    /// <summary>For a spot placement: the interruption rate its pool is priced with now, learned or the band's (null on demand).</summary>
    public SpotRateWhy? SpotRate { get; init; }
}

/// <summary>
/// The interruption rate a spot pool is priced with: <see cref="Source"/> <c>learned</c> (from <see cref="ExposureHours"/> of the
/// service's own attempts there, <see cref="Interruptions"/> of them interrupted) or <c>band</c> (the Spot Advisor's
/// <see cref="Band"/>); <see cref="Text"/> says it for people, e.g. "learned 0.0918/h from 42 h on us-east-1a/p3.2xlarge".
/// </summary>
public sealed record SpotRateWhy(double RatePerHour, string Source, int Band, double BandRatePerHour, double ExposureHours, int Interruptions, string Text)
{
    public static SpotRateWhy From(Runtime.History.SpotRateUsed used)
    {
        ArgumentNullException.ThrowIfNull(used);
        return new(used.RatePerHour, used.Learned ? "learned" : "band", used.Band, used.BandRatePerHour, Math.Round(used.ExposureHours, 2),
            used.Interruptions, used.Describe());
    }
}

/// <summary>One way the job could run, priced now; <see cref="Note"/> says why it was not taken when the plan says more than its price.</summary>
public sealed record OptionWhy(string Market, string InstanceType, string Zone, double PricePerHourUsd, double ExpectedCostUsd, bool Chosen, string? Note)
{
    /// <summary>For a spot option: the interruption rate its expected cost is priced with (null on demand).</summary>
    public SpotRateWhy? SpotRate { get; init; }
}

/// <summary>The input's move to the placement's region: how much, from where, how long and what it costs.</summary>
public sealed record TransferWhy(double InputDataSizeGB, string FromRegion, string ToRegion, double Hours, double CostUsd);

/// <summary>
/// One thing the job waits for: <see cref="Kind"/> is one of <see cref="WaitingKinds"/>; <see cref="Detail"/> holds the
/// figures; <see cref="Until"/> is when it is expected to end, where that is known.
/// </summary>
public sealed record WaitingWhy(string Kind, string Detail, DateTimeOffset? Until = null);

/// <summary>What a job can wait for, by wire name.</summary>
public static class WaitingKinds
{
    /// <summary>Every pool the job fits is full (until a time, or past its deadline).</summary>
    public const string Capacity = "capacity";

    /// <summary>The team's budget (a <c>budget:</c> reason).</summary>
    public const string Budget = "budget";

    /// <summary>Other teams' fair share of contested capacity (a <c>fair share:</c> reason).</summary>
    public const string FairShare = "fairShare";

    /// <summary>The job's scheduling windows (a <c>window:</c> reason).</summary>
    public const string Window = "window";

    /// <summary>Reserved capacity or a savings plan (a <c>reservation:</c> reason).</summary>
    public const string Reservation = "reservation";

    /// <summary>Jobs it depends on have not succeeded yet.</summary>
    public const string Prerequisites = "prerequisites";

    /// <summary>Its earliest start has not come.</summary>
    public const string EarliestStart = "earliestStart";

    /// <summary>A spot pool it fits refused a launch or took an instance back, and cools down.</summary>
    public const string SpotBackoff = "spotBackoff";

    /// <summary>The cloud refused a launch for a quota, which the planner keeps within for a while.</summary>
    public const string Quota = "quota";

    /// <summary>A backend cannot act (a missing permission, no credentials).</summary>
    public const string Backend = "backend";

    /// <summary>Submitted, not yet planned: the next cycle plans it.</summary>
    public const string Queued = "queued";

    /// <summary>No plan can hold it as it is (too late for its deadline, nothing in the catalog fits): the reason says what to change.</summary>
    public const string Unplannable = "unplannable";

    /// <summary>The kind an unplanned reason's tag names (the reasons' shared convention), or null for an untagged reason.</summary>
    public static string? OfTag(string reason) =>
        reason.StartsWith("budget:", StringComparison.Ordinal) ? Budget
        : reason.StartsWith("window:", StringComparison.Ordinal) ? Window
        : reason.StartsWith("fair share:", StringComparison.Ordinal) ? FairShare
        : reason.StartsWith("reservation:", StringComparison.Ordinal) ? Reservation
        : null;
}
