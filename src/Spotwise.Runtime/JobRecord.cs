using Spotwise.Core;

namespace Spotwise.Runtime;

/// <summary>
/// A job as the service holds it: what was submitted, by which team, and where it is now. Stored by
/// <see cref="IJobStore"/>; <see cref="Version"/> guards against two writers updating the same job.
/// </summary>
public sealed record JobRecord
{
    public required Job Job { get; init; }

    public required string Team { get; init; }

    public required DateTimeOffset SubmittedAt { get; init; }

    public JobState State { get; init; } = JobState.Queued;

    /// <summary>How many launches were made for this job; a launch's client token is its key + attempt.</summary>
    public int Attempt { get; init; }

    /// <summary>Where the current plan puts the job (or where it runs), if anywhere.</summary>
    public Placement? Placement { get; init; }

    public string? InstanceId { get; init; }

    public DateTimeOffset? StartedAt { get; init; }

    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>
    /// What the job has cost so far, in USD: every attempt's price × running time, accrued by the reconcile loop each
    /// tick (<see cref="Reconciliation.CostAccrual"/>). The one figure the money API, <c>/metrics</c> and the dashboard read.
    /// </summary>
    public double CostSoFarUsd { get; init; }

    /// <summary>Up to when the current attempt's cost is in <see cref="CostSoFarUsd"/>; null until it first accrues.</summary>
    public DateTimeOffset? CostAccruedAt { get; init; }

    /// <summary>
    /// The current attempt's launch, exactly as the backend is (or was) asked: stored before the backend is called, so a
    /// retry asks for the same thing under the same client token, and a cancel that lands meanwhile finds the instance.
    /// </summary>
    public LaunchRequest? LaunchIntent { get; init; }

    /// <summary>Work saved so far (checkpointed progress) in hours; a restart resumes from here.</summary>
    public double DoneHours { get; init; }

    public string? LastError { get; init; }

    /// <summary>Incremented by the store on every successful update.</summary>
    public long Version { get; init; }

    public string Id => Job.Id;

    /// <summary>The job as the service addresses it: ids are unique within a team only.</summary>
    public JobKey Key => new(Team, Id);

    /// <summary>The jobs this one waits for: a job depends on jobs of its own team.</summary>
    public IEnumerable<JobKey> PrerequisiteKeys => Job.DependsOn.Select(id => new JobKey(Team, id));

    public double RemainingHours => Math.Max(0, Job.DurationHours - DoneHours);
}

/// <summary>Where a job is placed: the plan's choice, kept with the job so the reconciler needs nothing else.</summary>
public sealed record Placement(
    Market Market,
    string InstanceType,
    string Zone,
    DateTimeOffset PlannedStart,
    double PricePerHourUsd,
    double ExpectedCostUsd,
    DateTimeOffset? FallbackAt)
{
    /// <summary>The provider of the planned offer; null (placed before providers were kept) means the service's default.</summary>
    public string? Provider { get; init; }
}

/// <summary>One change of a job's state, with when and why.</summary>
public sealed record JobEvent(string Team, string JobId, long Sequence, DateTimeOffset At, JobState? From, JobState To, string Cause)
{
    public JobKey Key => new(Team, JobId);
}

/// <summary>A job handed to the service by a team. <see cref="Body"/> is the submitted JSON, for idempotency.</summary>
public sealed record Submission(Job Job, string Team, string Body);

public enum SubmitOutcome
{
    /// <summary>New: stored, durably, before this answer.</summary>
    Created,

    /// <summary>The team submitted the same job id with the same body before: the same answer again.</summary>
    Duplicate,

    /// <summary>The team's job id is taken by a different body: refused. Another team's ids are never in the way.</summary>
    Conflict,
}

public sealed record SubmitResult(string JobId, SubmitOutcome Outcome, JobRecord? Record);

/// <summary>
/// Which jobs to list, in submission order. Null means any. <paramref name="After"/> pages: only jobs submitted after
/// that job (a job id of <paramref name="Team"/> from the previous page's end; ids are a team's own, so a cursor needs
/// the team). An unknown cursor matches nothing.
/// </summary>
public sealed record JobQuery(string? Team = null, IReadOnlyCollection<JobState>? States = null, int? Limit = null, string? After = null)
{
    /// <summary>
    /// Only jobs that finished at or after this moment, and jobs not finished (no finish time: queued, planned, launched,
    /// interrupted). What a window of use, a budget period or a history look-back needs: a store with a long history
    /// answers from its finish-time index instead of reading every job it ever finished. Stores compare instants, whatever
    /// the offsets, at their own resolution (a millisecond or finer). Null: no bound.
    /// </summary>
    public DateTimeOffset? FinishedSince { get; init; }

    /// <summary>The cursor as a key.</summary>
    /// <exception cref="ArgumentException"><see cref="After"/> is set without <see cref="Team"/>.</exception>
    public JobKey? AfterKey() => After is null ? null
        : Team is null ? throw new ArgumentException($"after '{After}' names a job id, which is a team's own: set Team too", nameof(After))
        : new JobKey(Team, After);
}
