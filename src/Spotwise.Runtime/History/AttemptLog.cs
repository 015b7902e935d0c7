using Spotwise.Core;

namespace Spotwise.Runtime.History;

/// <summary>How an attempt ended, by wire name (the <c>attempts</c> table's <c>outcome</c>).</summary>
public enum AttemptOutcome
{
    /// <summary>The backend reported the instance taken back or stopped: for spot, one interruption of its pool.</summary>
    Interrupted,

    Succeeded,

    /// <summary>The job moved to its next attempt while this one ran (the safety net giving up spot for on-demand).</summary>
    Moved,

    Cancelled,

    Failed,
}

/// <summary>
/// The pool an attempt ran in: where its launch went (<see cref="LaunchRequest"/>), else where it was placed. The provider
/// is empty for a placement from before providers were kept (the service's default).
/// </summary>
public sealed record AttemptPool(string Provider, string Zone, string InstanceType, Market Market);

/// <summary>
/// One write to the store's attempt log that a job update implies: <see cref="Outcome"/> null when the attempt was first
/// seen running (its exposure starts <see cref="At"/>), else its end. Keyed by (team, job, attempt): a store writes it in
/// the update's own transaction, inserting a start once and ending an attempt only while it has no end, so a retried
/// update never counts an attempt twice.
/// </summary>
public sealed record AttemptLogWrite(JobKey Job, int Attempt, AttemptPool Pool, AttemptOutcome? Outcome, DateTimeOffset At);

/// <summary>
/// The rule every store applies to an update (like <see cref="JobUpdates.Apply"/>): which attempt started running or
/// ended, read from the stored record and the update. Exposure is counted from the write that first sees the attempt
/// running (a reconcile tick after the instance started) to the write that ends it. An attempt that ends without ever
/// having been seen running counts only when it was interrupted (an interruption with no exposure); one that succeeded
/// unseen adds nothing, since its running time is unknown.
/// </summary>
public static class AttemptLog
{
    /// <summary>The log write <paramref name="updated"/> implies over <paramref name="stored"/>, or null.</summary>
    public static AttemptLogWrite? For(JobRecord stored, JobRecord updated, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(stored);
        ArgumentNullException.ThrowIfNull(updated);
        if (stored.State != JobState.Running && updated.State == JobState.Running && PoolOf(updated) is { } starting)
        {
            return new AttemptLogWrite(updated.Key, updated.Attempt, starting, null, at);
        }
        if (stored.State is not (JobState.Running or JobState.Launching) || PoolOf(stored) is not { } pool
            || Ending(stored, updated) is not { } outcome)
        {
            return null;
        }
        return stored.State == JobState.Running || outcome == AttemptOutcome.Interrupted
            ? new AttemptLogWrite(stored.Key, stored.Attempt, pool, outcome, at)
            : null;
    }

    /// <summary>How the stored attempt ends with this update, or null when it goes on.</summary>
    private static AttemptOutcome? Ending(JobRecord stored, JobRecord updated) =>
        updated.Attempt > stored.Attempt ? AttemptOutcome.Moved
        : updated.State == stored.State ? null
        : updated.State switch
        {
            JobState.Interrupted => AttemptOutcome.Interrupted,
            JobState.Succeeded => AttemptOutcome.Succeeded,
            JobState.Cancelled => AttemptOutcome.Cancelled,
            JobState.Failed => AttemptOutcome.Failed,
            _ => null,
        };

    private static AttemptPool? PoolOf(JobRecord r) =>
        r.LaunchIntent is { } launch && launch.Attempt == r.Attempt ? new AttemptPool(launch.Provider ?? "", launch.Zone, launch.InstanceType, launch.Market)
        : r.Placement is { } p ? new AttemptPool(p.Provider ?? "", p.Zone, p.InstanceType, p.Market)
        : null;

    public static string ToWire(this AttemptOutcome outcome) => outcome.ToString().ToLowerInvariant();
}

/// <summary>
/// What the attempt log says about one spot pool over a look-back: the running hours of its ended attempts and how many
/// of them were interrupted, of how many ended attempts. The store sums it (<see cref="IJobStore.SpotExposureAsync"/>). The
/// provider is empty for attempts placed before providers were kept (the service's default provider).
/// </summary>
public sealed record PoolExposure(string Provider, string Zone, string InstanceType, double RunningHours, int Interruptions, int Attempts)
{
    /// <summary>How the attempt log keeps a moment in both stores: Unix seconds, so SQL compares and subtracts them whatever the writer's offset.</summary>
    public static double UnixSeconds(DateTimeOffset t) => (t - DateTimeOffset.UnixEpoch).TotalSeconds;

    /// <summary>
    /// The rows of the stores' one query (provider, zone, type, running hours, interruptions, attempts, in that order):
    /// the SQL differs by dialect, the reading does not.
    /// </summary>
    public static async Task<IReadOnlyList<PoolExposure>> ReadAllAsync(System.Data.Common.DbDataReader reader, CancellationToken cancellationToken)
    {
        var pools = new List<PoolExposure>();
        while (await reader.ReadAsync(cancellationToken))
        {
            pools.Add(new PoolExposure(reader.GetString(0), reader.GetString(1), reader.GetString(2), reader.GetDouble(3), reader.GetInt32(4), reader.GetInt32(5)));
        }
        return pools;
    }
}
