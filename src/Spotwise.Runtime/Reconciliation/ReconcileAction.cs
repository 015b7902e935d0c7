namespace Spotwise.Runtime.Reconciliation;

/// <summary>
/// Something the reconciler decided must happen. Keyed by job (team and id) + attempt, so carrying out an action twice
/// (a retry after a crash, a tick that sees the same world again) does what it did once.
/// </summary>
public abstract record ReconcileAction(JobKey Job, int Attempt)
{
    public string Key => FormattableString.Invariant($"{Job}#{Attempt}:{GetType().Name}");
}

/// <summary>
/// Start the job's next attempt: on the instance its plan names, or where the spot policy moves it. <c>Attempt</c> is
/// the new attempt.
/// </summary>
public sealed record Launch(JobKey Job, int Attempt, LaunchRequest Request) : ReconcileAction(Job, Attempt)
{
    /// <summary>The work saved when a running or interrupted job moves to this attempt; null for a planned launch.</summary>
    public double? SavedHours { get; init; }

    /// <summary>The spot instance whose interruption notice this launch answers (it is left to end by itself); null otherwise.</summary>
    public InstanceStatus? Noticed { get; init; }
}

/// <summary>Stop an instance that should not be running (job cancelled or done, or an attempt given up).</summary>
public sealed record Terminate(JobKey Job, int Attempt, string InstanceId, string Why) : ReconcileAction(Job, Attempt);

/// <summary>
/// The spot policy moves the job to on-demand (its safety net, or spot is away while the job is behind): stop the spot
/// attempt (if it is still up) and run the rest of the work on on-demand as attempt <c>Attempt</c>.
/// </summary>
public sealed record SwitchToOnDemand(JobKey Job, int Attempt, string? SpotInstanceId, double SavedHours, LaunchRequest Request)
    : ReconcileAction(Job, Attempt)
{
    /// <summary>Who asked for the move: the safety net (a job the plan put on on-demand) or the spot policy.</summary>
    public string By { get; init; } = "safety net";

    /// <summary>The spot instance whose interruption notice this move answers (it is left to end by itself); null otherwise.</summary>
    public InstanceStatus? Noticed { get; init; }
}

/// <summary>Write down what the backend reports about the job's current attempt (running, done, interrupted).</summary>
public sealed record RecordObservation(JobKey Job, int Attempt, JobState NewState, InstanceStatus Instance, string Cause)
    : ReconcileAction(Job, Attempt);

/// <summary>Give up on the job, saying why.</summary>
public sealed record MarkFailed(JobKey Job, int Attempt, string Reason) : ReconcileAction(Job, Attempt);

/// <summary>Send the job back to the scheduler with the work it has left (it lost its spot instance, say).</summary>
public sealed record Replan(JobKey Job, int Attempt, double SavedHours, string Why) : ReconcileAction(Job, Attempt);

/// <summary>Tell the team something about the job without moving it (the safety net found no on-demand capacity): its last error.</summary>
public sealed record Warn(JobKey Job, int Attempt, string Why) : ReconcileAction(Job, Attempt);
