using System.Globalization;

namespace Spotwise.Runtime.Backends;

/// <summary>
/// Whether a live instance of this installation belongs to no job: the one rule of every backend's orphan sweep (EC2
/// instances, Kubernetes Jobs), a pure function of the
/// instance, the job's stored record and the moment. An instance is owned while its job is in the store, not finished,
/// and at the instance's attempt, as the reconciler judges the instances it sees (its <c>TerminateStale</c>). With intent
/// first (DESIGN.md), a job's attempt and launch request are stored before EC2 is asked, so an instance launched under an
/// intent is owned even before the record names it; the grace covers a launch retried seconds ago, the races between
/// reading EC2 and reading the store, and an earlier attempt's last minutes after the job moved on.
/// </summary>
public static class OrphanRule
{
    /// <summary>Why <paramref name="instance"/> is an orphan, or null when it is owned or still within grace.</summary>
    /// <param name="instance">A live instance of this installation, with its job's tags.</param>
    /// <param name="record">The stored record of the instance's job (team, id from its tags); null when the store has none.</param>
    /// <param name="currentAttemptSince">
    /// When the job moved to its current attempt (its last move to launching), if the store says; read only for an
    /// instance of an earlier attempt.
    /// </param>
    /// <param name="now">The moment of the sweep.</param>
    /// <param name="grace">
    /// How long after its launch an instance is left alone whatever the store says, and how long after its job moved to
    /// a later attempt: a spot instance under an interruption notice checkpoints in its last two minutes while the next
    /// attempt starts, and the reconcile loop leaves it to the cloud.
    /// </param>
    public static string? Reason(InstanceStatus instance, JobRecord? record, DateTimeOffset? currentAttemptSince, DateTimeOffset now, TimeSpan grace)
    {
        ArgumentNullException.ThrowIfNull(instance);
        if (now - instance.LaunchedAt < grace)
        {
            return null;
        }
        if (record is null)
        {
            return "its job is not in the store";
        }
        if (record.State.IsFinal())
        {
            return $"its job is {record.State.ToWire()}";
        }
        // The launch intent moves the record's attempt (JobTransitions.Launch): an attempt of its own is the current one.
        if (instance.Attempt == record.Attempt || (instance.Attempt < record.Attempt && now - currentAttemptSince < grace))
        {
            return null;
        }
        return string.Create(CultureInfo.InvariantCulture, $"its job is at attempt {record.Attempt}, not {instance.Attempt}");
    }

    /// <summary>
    /// The instances among <paramref name="live"/> that no job owns, each with why. Every record is read before any instance
    /// is judged, so a failing store ends the sweep here, with nothing done.
    /// </summary>
    public static async Task<IReadOnlyList<(InstanceStatus Instance, string Reason)>> FindAsync(IReadOnlyList<InstanceStatus> live, IJobStore store,
        DateTimeOffset now, TimeSpan grace, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(live);
        ArgumentNullException.ThrowIfNull(store);
        var past = live.Where(i => now - i.LaunchedAt >= grace).ToList();
        var records = new Dictionary<JobKey, JobRecord?>();
        foreach (var key in past.Select(i => i.Job).Distinct())
        {
            records[key] = await store.GetAsync(key, ct).ConfigureAwait(false);
        }
        // When a job moved to its current attempt matters only for instances of an earlier one: rare, so read then.
        var since = new Dictionary<JobKey, DateTimeOffset?>();
        foreach (var key in past.Where(i => records[i.Job] is { } r && i.Attempt < r.Attempt).Select(i => i.Job).Distinct())
        {
            since[key] = (await store.EventsAsync(key, ct).ConfigureAwait(false)).LastOrDefault(e => e.To == JobState.Launching)?.At;
        }
        return [.. past
            .Select(i => (Instance: i, Reason: Reason(i, records[i.Job], since.GetValueOrDefault(i.Job), now, grace)))
            .Where(j => j.Reason is not null)
            .Select(j => (j.Instance, j.Reason!))];
    }
}
