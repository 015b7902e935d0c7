namespace Spotwise.Runtime;

/// <summary>Where a job is in its life. Every change is an event with a time and a cause.</summary>
public enum JobState
{
    Queued,
    Planned,
    Launching,
    Running,
    Interrupted,
    Succeeded,
    Failed,
    Cancelled,
}

/// <summary>The job state machine, in one place: which moves are allowed, and which states are final.</summary>
public static class JobStates
{
    private static readonly Dictionary<JobState, JobState[]> Allowed = new()
    {
        [JobState.Queued] = [JobState.Planned, JobState.Failed, JobState.Cancelled],
        // A planned job goes back to the queue when a new plan no longer holds it.
        [JobState.Planned] = [JobState.Queued, JobState.Planned, JobState.Launching, JobState.Failed, JobState.Cancelled],
        // Launching -> Succeeded: the work can finish between two looks; a missed observation must not strand the job.
        [JobState.Launching] = [JobState.Running, JobState.Succeeded, JobState.Interrupted, JobState.Failed, JobState.Cancelled],
        // Running -> Launching is the safety net: the spot instance is given up for an on-demand one.
        [JobState.Running] = [JobState.Succeeded, JobState.Interrupted, JobState.Launching, JobState.Failed, JobState.Cancelled],
        [JobState.Interrupted] = [JobState.Queued, JobState.Launching, JobState.Failed, JobState.Cancelled],
        [JobState.Succeeded] = [],
        [JobState.Failed] = [],
        [JobState.Cancelled] = [],
    };

    public static bool IsFinal(this JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled;

    public static bool CanMove(JobState from, JobState to) => Allowed[from].Contains(to);

    public static string ToWire(this JobState state) => state.ToString().ToLowerInvariant();

    public static bool TryParse(string? text, out JobState state) =>
        Enum.TryParse(text, ignoreCase: true, out state) && Enum.IsDefined(state) && !int.TryParse(text, out _);
}
