using Spotwise.Core.Serialization;

namespace Spotwise.Runtime;

/// <summary>
/// The durable queue: jobs, their state history, plans. A job acknowledged by <see cref="SubmitAsync"/> is on disk
/// before the call returns and is never lost. Implementations pass <c>JobStoreContract</c> (tests).
/// </summary>
public interface IJobStore
{
    /// <summary>
    /// Stores a batch in one transaction. Idempotent by (team, job id): the same body again is <see cref="SubmitOutcome.Duplicate"/>
    /// (with the stored record), a different body under an id the team used is <see cref="SubmitOutcome.Conflict"/> and stores
    /// nothing for that job. Another team's ids never conflict. Each created job starts <see cref="JobState.Queued"/> with a
    /// first event.
    /// </summary>
    Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<Submission> batch, DateTimeOffset now, CancellationToken cancellationToken);

    Task<JobRecord?> GetAsync(JobKey key, CancellationToken cancellationToken);

    /// <exception cref="ArgumentException">The query pages (<see cref="JobQuery.After"/>) without a team.</exception>
    Task<IReadOnlyList<JobRecord>> ListAsync(JobQuery query, CancellationToken cancellationToken);

    /// <summary>How many jobs are in each state (for a team, or all).</summary>
    Task<IReadOnlyDictionary<JobState, int>> CountByStateAsync(string? team, CancellationToken cancellationToken);

    /// <summary>What jobs have cost so far, summed in the store (for a team, or all), in USD.</summary>
    Task<double> SpendSoFarUsdAsync(string? team, CancellationToken cancellationToken);

    /// <summary>A job's events, oldest first.</summary>
    Task<IReadOnlyList<JobEvent>> EventsAsync(JobKey key, CancellationToken cancellationToken);

    /// <summary>
    /// Writes <paramref name="updated"/> (found by its <see cref="JobRecord.Key"/>) if the stored version is still <paramref name="updated"/>.Version (then stores
    /// Version + 1), and an event when the state changed (the move must be allowed by <see cref="JobStates.CanMove"/>).
    /// Returns the stored record, or null when another writer got there first (nothing is written).
    /// </summary>
    Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>
    /// Many <see cref="TryUpdateAsync"/>s in one durable transaction (a planning cycle's placements): each guarded by
    /// its own version, each result in order (null where another writer got there first).
    /// </summary>
    Task<IReadOnlyList<JobRecord?>> TryUpdateManyAsync(IReadOnlyList<(JobRecord Updated, string Cause)> updates, DateTimeOffset at,
        CancellationToken cancellationToken);

    /// <summary>Keeps the latest plan (the document the API shows); older plans may be kept as history.</summary>
    Task SavePlanAsync(PlanDocument plan, DateTimeOffset at, CancellationToken cancellationToken);

    Task<PlanDocument?> LatestPlanAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Per spot pool, the running hours and interruptions of the attempts that ended at or after <paramref name="since"/>:
    /// the attempt log, which <see cref="TryUpdateAsync"/> and <see cref="TryUpdateManyAsync"/> write in the update's own
    /// transaction by the one rule (<see cref="History.AttemptLog"/>), once per (team, job, attempt).
    /// </summary>
    Task<IReadOnlyList<History.PoolExposure>> SpotExposureAsync(DateTimeOffset since, CancellationToken cancellationToken);
}

/// <summary>The rule of <see cref="IJobStore.TryUpdateAsync"/>, one for every store: version guard, state machine, what stays as stored.</summary>
public static class JobUpdates
{
    public static InvalidOperationException NotInStore(JobKey key) => new($"job '{key.Id}' of team '{key.Team}' is not in the store: it cannot be updated");

    /// <summary>
    /// What updating <paramref name="stored"/> with <paramref name="updated"/> stores: null when the version is stale
    /// (another writer got there first); else the record, with the submitted job, team and submission time kept as
    /// stored and the version bumped, and whether the state moved (an event is then owed).
    /// </summary>
    /// <exception cref="InvalidOperationException">The state machine forbids the move.</exception>
    public static (JobRecord Record, bool Moved)? Apply(JobRecord stored, JobRecord updated, string cause)
    {
        if (stored.Version != updated.Version)
        {
            return null;
        }
        var moved = stored.State != updated.State;
        if (moved && !JobStates.CanMove(stored.State, updated.State))
        {
            throw new InvalidOperationException(
                $"job '{updated.Id}' cannot move from {stored.State.ToWire()} to {updated.State.ToWire()} (cause: {cause})");
        }
        return (updated with { Job = stored.Job, Team = stored.Team, SubmittedAt = stored.SubmittedAt, Version = stored.Version + 1 }, moved);
    }
}
