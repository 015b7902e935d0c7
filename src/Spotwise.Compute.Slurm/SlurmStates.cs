using System.Globalization;
using Spotwise.Runtime;

namespace Spotwise.Compute.Slurm;

/// <summary>How a Slurm job's state reads as an instance's (docs/slurm.md names each).</summary>
internal static class SlurmStates
{
    /// <summary>States of a job Slurm has put back in the queue after taking its node (preemption by requeue, a node lost).</summary>
    private static readonly HashSet<string> Requeued = new(StringComparer.Ordinal) { "PREEMPTED", "REQUEUED", "REQUEUE_HOLD", "REQUEUE_FED" };

    private static readonly HashSet<string> Waiting = new(StringComparer.Ordinal) { "PENDING", "CONFIGURING" };

    private static readonly HashSet<string> Active = new(StringComparer.Ordinal)
    {
        "RUNNING", "COMPLETING", "SUSPENDED", "STOPPED", "SIGNALING", "STAGE_OUT", "RESIZING",
    };

    private static readonly HashSet<string> Failures = new(StringComparer.Ordinal)
    {
        "FAILED", "TIMEOUT", "OUT_OF_MEMORY", "NODE_FAIL", "BOOT_FAIL", "DEADLINE", "SPECIAL_EXIT",
    };

    /// <summary>
    /// The instance state of <paramref name="job"/>. A job Slurm requeued (its restart count is above 0, or its state says
    /// so) was interrupted, whatever it does next: its node was taken by a higher tier, and the runtime, not Slurm's
    /// requeue, decides where it runs again (the backend cancels the requeued job).
    /// </summary>
    public static InstanceState Of(SlurmJob job) => job.State switch
    {
        _ when job.Restarts > 0 || Requeued.Contains(job.State) => InstanceState.Interrupted,
        var s when Waiting.Contains(s) => InstanceState.Pending,
        var s when Active.Contains(s) => InstanceState.Running,
        "COMPLETED" => job.ExitCode == 0 ? InstanceState.Succeeded : InstanceState.Failed,
        "CANCELLED" or "REVOKED" => InstanceState.Terminated,
        _ => InstanceState.Failed,
    };

    /// <summary>Whether Slurm would run <paramref name="job"/> again by itself: requeued and not yet ended.</summary>
    public static bool AwaitsRequeue(SlurmJob job) =>
        Of(job) == InstanceState.Interrupted && (Waiting.Contains(job.State) || Requeued.Contains(job.State) || Active.Contains(job.State));

    /// <summary>Why a failed job failed, with its exit code and output file; null for every other state.</summary>
    public static string? Error(SlurmJob job) => Of(job) != InstanceState.Failed ? null : job.State switch
    {
        "TIMEOUT" => $"Slurm job {job.JobId} reached its time limit (TIMEOUT){Output(job)}",
        "DEADLINE" => $"Slurm job {job.JobId} could not finish before the job's deadline (DEADLINE){Output(job)}",
        "OUT_OF_MEMORY" => $"Slurm job {job.JobId} ran out of memory (OUT_OF_MEMORY){Output(job)}",
        "NODE_FAIL" or "BOOT_FAIL" => $"Slurm job {job.JobId}: its node failed ({job.State}){Output(job)}",
        var s when Failures.Contains(s) || s == "COMPLETED" => string.Create(CultureInfo.InvariantCulture, $"exit code {job.ExitCode} (Slurm job {job.JobId} {s}){Output(job)}"),
        var s => $"Slurm job {job.JobId} is in a state the backend does not know: {s}",
    };

    private static string Output(SlurmJob job) => job.OutputPath is { } path ? $"; see {path}" : "";
}
