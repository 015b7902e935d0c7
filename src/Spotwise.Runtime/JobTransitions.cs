using System.Globalization;

namespace Spotwise.Runtime;

/// <summary>A job's next record and the cause its event (if the state moves) records. Written with <see cref="IJobStore.TryUpdateAsync"/>.</summary>
public sealed record JobTransition(JobRecord Record, string Cause)
{
    public (JobRecord Updated, string Cause) AsUpdate => (Record, Cause);
}

/// <summary>
/// Every change of a job's state, in one place: the API's cancel, the scheduler's plans and failures, the reconcile
/// loop's launches, observations and re-plans all build their next record here. Each method checks the move against
/// <see cref="JobStates"/> (a forbidden move is a bug, and throws before anything is written) and says what else the
/// move changes, so no writer can forget half of it (the instance id, the attempt's cost mark). The store still
/// guards every write by version: a transition built on a stale record loses to the writer that got there first.
/// </summary>
public static class JobTransitions
{
    /// <summary>The plan places the job (again).</summary>
    public static JobTransition Plan(JobRecord job, Placement placement, string reason) =>
        Move(job, JobState.Planned, "planned: " + reason, r => r with { Placement = placement, LastError = null });

    /// <summary>The plan does not place the job; it waits in the queue with the reason.</summary>
    public static JobTransition Unplan(JobRecord job, string reason) =>
        Move(job, JobState.Queued, "not planned: " + reason, r => r with { Placement = null, LastError = reason });

    /// <summary>
    /// The job can never succeed. A job that never launched loses its placement (it holds nothing); a launched one keeps
    /// it, to show where it ran.
    /// </summary>
    public static JobTransition Fail(JobRecord job, string reason, DateTimeOffset now) =>
        Move(job, JobState.Failed, reason, r => r with
        {
            Placement = job.State is JobState.Queued or JobState.Planned ? null : job.Placement,
            LastError = reason,
            FinishedAt = now,
        });

    /// <summary>The team cancels the job. Its instance, if any, is found by the attempt's token and terminated by the loop.</summary>
    public static JobTransition Cancel(JobRecord job, string team, DateTimeOffset now) =>
        Move(job, JobState.Cancelled, $"cancelled by team {team}", r => r with { FinishedAt = now });

    /// <summary>
    /// The launch intent: the attempt and its exact request are written before the backend is called, with no instance
    /// yet and the new attempt's cost not yet accruing. <paramref name="placement"/> replaces the job's (a fallback's).
    /// </summary>
    public static JobTransition Launch(JobRecord job, LaunchRequest request, string why, Placement? placement = null, double? doneHours = null)
    {
        if (request.Job != job.Key || request.Attempt <= job.Attempt)
        {
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"job '{job.Key}' at attempt {job.Attempt} cannot launch attempt {request.Attempt} of job '{request.Job}'"));
        }
        return Move(job, JobState.Launching, why, r => r with
        {
            Attempt = request.Attempt,
            LaunchIntent = request,
            InstanceId = null,
            CostAccruedAt = null,
            Placement = placement ?? job.Placement,
            DoneHours = doneHours ?? job.DoneHours,
        });
    }

    /// <summary>The backend answered the launch intent's request: the instance is written down (the state stays).</summary>
    public static JobTransition Launched(JobRecord job, string instanceId) =>
        new(job with { InstanceId = instanceId }, $"launched {instanceId}");

    /// <summary>What the backend reports about the current attempt: running, done, or interrupted.</summary>
    public static JobTransition Observe(JobRecord job, JobState newState, InstanceStatus instance, string cause, DateTimeOffset now)
    {
        if (newState is not (JobState.Running or JobState.Succeeded or JobState.Interrupted))
        {
            throw new ArgumentOutOfRangeException(nameof(newState), newState, "an observation records running, succeeded or interrupted");
        }
        return Move(job, newState, cause, r => r with
        {
            InstanceId = instance.InstanceId,
            StartedAt = job.StartedAt ?? instance.RunningSince,
            FinishedAt = newState == JobState.Succeeded ? instance.EndedAt ?? now : job.FinishedAt,
            // The record keeps the work saved at the attempt's launch while it runs; an ended attempt adds its own.
            DoneHours = newState switch
            {
                JobState.Succeeded => job.Job.DurationHours,
                JobState.Interrupted => Policy.JobProgress.SavedHours(job, instance),
                _ => job.DoneHours,
            },
        });
    }

    /// <summary>Back to the scheduler with the work saved so far (a lost spot instance, a prerequisite not done yet).</summary>
    public static JobTransition Requeue(JobRecord job, double savedHours, string why) =>
        Move(job, JobState.Queued, why, r => r with { Placement = null, InstanceId = null, DoneHours = savedHours });

    /// <summary>Something the team should know about the job, kept as its last error; the state stays.</summary>
    public static JobTransition Note(JobRecord job, string why) => new(job with { LastError = why }, why);

    /// <summary>The move (staying put is no move), checked against the state machine, with what else it changes.</summary>
    private static JobTransition Move(JobRecord job, JobState to, string cause, Func<JobRecord, JobRecord>? change = null) =>
        job.State != to && !JobStates.CanMove(job.State, to)
            ? throw new InvalidOperationException($"job '{job.Key}' cannot move from {job.State.ToWire()} to {to.ToWire()} (cause: {cause})")
            : new JobTransition((change ?? (r => r))(job with { State = to }), cause);
}
