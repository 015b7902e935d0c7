using System.Text.Json.Serialization;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.History;

namespace Spotwise.Server;

/// <summary>A job as the API shows it: what was submitted, then where it is. States and markets are lowercase.</summary>
public sealed record JobView(
    string JobId,
    string Team,
    int Priority,
    DateTimeOffset? EarliestStart,
    DateTimeOffset? Deadline,
    double EstimatedDurationHours,
    string Resources,
    string State,
    string? Market,
    string? InstanceType,
    string? Zone,
    DateTimeOffset SubmittedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    double CostSoFarUsd,
    DateTimeOffset? PlannedStart,
    DateTimeOffset? FallbackAt,
    string? LastError)
{
    /// <summary>When the job's placement expects it to end: planned start plus the work left (null when not placed).</summary>
    public DateTimeOffset? PlannedEnd { get; init; }

    /// <summary>What the job's placement is expected to cost (null when not placed).</summary>
    public double? ExpectedCostUsd { get; init; }

    /// <summary>Hours between <see cref="PlannedEnd"/> and the deadline; negative when the plan would miss it.</summary>
    public double? SlackHours => PlannedEnd is { } end && Deadline is { } deadline ? Math.Round((deadline - end).TotalHours, 3) : null;

    /// <summary>The job's state changes, oldest first; only in the single-job view.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<EventView>? Events { get; init; }

    /// <summary>The job's scheduling windows as submitted (<see cref="Job.Windows"/>); absent when it has none.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Windows { get; init; }

    /// <summary>
    /// The estimate the plan uses for the work left (<see cref="RuntimeEstimate"/>: submitted hours, the ratio learned for
    /// the team and resource, the hours used, the samples); only in the single-job view.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public RuntimeEstimate? Estimate { get; init; }

    public static JobView From(JobRecord r, IReadOnlyList<JobEvent>? events = null, RuntimeEstimate? estimate = null) => new(
        r.Id,
        r.Team,
        r.Job.Priority,
        r.Job.EarliestStart,
        r.Job.Deadline,
        r.Job.DurationHours,
        r.Job.Resources.Describe(),
        r.State.ToWire(),
        r.Placement?.Market.ToWire(),
        r.Placement?.InstanceType,
        r.Placement?.Zone,
        r.SubmittedAt,
        r.StartedAt,
        r.FinishedAt,
        r.CostSoFarUsd,
        r.Placement?.PlannedStart,
        r.Placement?.FallbackAt,
        r.LastError)
    {
        Events = events?.Select(e => new EventView(e.At, e.From?.ToWire(), e.To.ToWire(), e.Cause)).ToList(),
        PlannedEnd = r.Placement?.PlannedStart.AddHours(estimate?.UsedHours ?? r.RemainingHours),
        Estimate = estimate,
        ExpectedCostUsd = r.Placement?.ExpectedCostUsd,
        Windows = r.Job.Windows.IsDefaultOrEmpty ? null : r.Job.Windows,
    };
}

public sealed record EventView(DateTimeOffset At, string? From, string To, string Cause);

/// <summary>One job of a batch submission: <c>created</c>, <c>duplicate</c> or <c>conflict</c> (then no job).</summary>
public sealed record SubmitItemView(string JobId, string Outcome, JobView? Job);
