using System.Globalization;
using Spotwise.Runtime;

namespace Spotwise.Compute.Aws.Cleanup;

/// <summary>
/// Whether a live instance of this installation belongs to no job: the one rule of the sweep, a pure function of the
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
}
