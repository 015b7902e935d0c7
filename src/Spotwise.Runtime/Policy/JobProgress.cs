using Spotwise.Core;

namespace Spotwise.Runtime.Policy;

/// <summary>
/// A job's saved work, said once. <see cref="JobRecord.DoneHours"/> is the work saved when the current attempt
/// launched (and, once the attempt has ended and is recorded, what it left); while the attempt runs, the backend's
/// <see cref="InstanceStatus.SavedProgressHours"/> counts the attempt's own hours, the changeover first (it is paid
/// running time that saves nothing).
/// </summary>
public static class JobProgress
{
    /// <summary>
    /// The changeover an attempt pays before it makes progress: none for the first (its boot is the planner's launch
    /// allowance), the job's restart overhead for every later one (reload, warm-up), as the Can't Be Late model has it.
    /// </summary>
    public static double ChangeoverHours(Job job, int attempt) => attempt > 1 ? job.RestartOverheadHours : 0;

    /// <summary>Work saved so far: the record's, plus what the current attempt's instance saved beyond its changeover while it runs.</summary>
    public static double SavedHours(JobRecord job, InstanceStatus? instance)
    {
        if (job.State is not (JobState.Launching or JobState.Running) || instance is null || instance.Attempt != job.Attempt || instance.Job != job.Key)
        {
            return job.DoneHours;
        }
        var gained = Math.Max(0, instance.SavedProgressHours - ChangeoverHours(job.Job, job.Attempt) - TransferHours(job, job.Attempt));
        return Math.Min(job.Job.DurationHours, job.DoneHours + gained);
    }

    /// <summary>Changeover the attempt still has to pay before it makes progress.</summary>
    public static double RemainingChangeoverHours(JobRecord job, InstanceStatus instance, DateTimeOffset now)
    {
        var running = instance.RunningSince is { } since ? Math.Max(0, ((instance.EndedAt ?? now) - since).TotalHours) : 0;
        return Math.Max(0, ChangeoverHours(job.Job, instance.Attempt) + TransferHours(job, instance.Attempt) - running);
    }

    /// <summary>
    /// Hours the attempt's instance spends moving the job's input before its work (its launch intent's
    /// <see cref="LaunchRequest.TransferHours"/>): like the changeover, paid running time that saves nothing.
    /// </summary>
    public static double TransferHours(JobRecord job, int attempt) =>
        job.LaunchIntent is { } intent && intent.Attempt == attempt && intent.Job == job.Key ? intent.TransferHours : 0;

    /// <summary>The work a launch for <paramref name="attempt"/> asks of the instance: what is left, plus its changeover.</summary>
    public static double LaunchWorkHours(Job job, int attempt, double savedHours) =>
        Math.Max(0, job.DurationHours - savedHours) + ChangeoverHours(job, attempt);
}
