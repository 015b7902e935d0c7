using System.Globalization;

namespace Spotwise.Core;

/// <summary>
/// Whether a job's numbers fit the planning model at all: durations and times within the planning horizon, a
/// priority the objective can weigh. Past these, date arithmetic overflows (a deadline minus 1e15 hours), grid steps
/// leave the int range and costs become infinite; such a job is refused with the field and the value, and the rest of
/// the queue is planned. The option builder asks before it builds anything and the validator before it checks an
/// assignment, so every planner and every check downstream only ever sees jobs inside these bounds.
/// </summary>
/// <remarks>The intake refuses these values; this guards what reaches a planner by another way (old stored data, another caller).</remarks>
public static class PlanningBounds
{
    /// <summary>Why the job cannot be planned at all, naming the field and its value; null when it fits.</summary>
    public static string? WhyOutOfBounds(Job job, PlanningProblem problem)
    {
        var horizon = problem.Settings.Horizon;
        if (job.Priority is < Job.MinPriority or > Job.MaxPriority)
        {
            return Invariant($"priority {job.Priority} is outside {Job.MinPriority}..{Job.MaxPriority}");
        }
        if (job.DurationHours is not > 0)
        {
            return Invariant($"estimatedDurationHours {job.DurationHours:G6} is not a positive number of hours");
        }
        if (job.DurationHours > horizon.TotalHours)
        {
            return Invariant($"estimatedDurationHours {job.DurationHours:G6} is beyond the planning horizon of {Days(horizon)}");
        }
        if (OutOfRange(job.RestartOverheadHours, horizon) is { } restart)
        {
            return Invariant($"restartOverheadMinutes {job.RestartOverheadHours * 60:G6} {restart}");
        }
        if (job.Checkpointable && job.CheckpointIntervalHours is { } interval && OutOfRange(interval, horizon) is { } checkpoint)
        {
            return Invariant($"checkpointIntervalMinutes {interval * 60:G6} {checkpoint}");
        }
        if (job.EarliestStart is { } earliest && earliest - problem.Now > horizon)
        {
            return Invariant($"earliestStart {Time(earliest)} is beyond the planning horizon of {Days(horizon)}");
        }
        if (job.Deadline is { } deadline && (deadline - problem.Now).Duration() > horizon)
        {
            return Invariant($"deadline {Time(deadline)} is beyond the planning horizon of {Days(horizon)} either side of now");
        }
        return null;
    }

    /// <summary>Whether a moment lies within the planning horizon either side of now: a plan's start outside it cannot be a real one.</summary>
    public static bool IsWithinHorizon(DateTimeOffset t, PlanningProblem problem) => (t - problem.Now).Duration() <= problem.Settings.Horizon;

    /// <summary>Null for a number of hours in [0, horizon]; otherwise what is wrong with it.</summary>
    private static string? OutOfRange(double hours, TimeSpan horizon) =>
        hours is not >= 0 ? "is not a number >= 0"
        : hours > horizon.TotalHours ? $"is beyond the planning horizon of {Days(horizon)}"
        : null;

    private static string Days(TimeSpan horizon) => Invariant($"{horizon.TotalDays:0.##} days");

    private static string Time(DateTimeOffset t) => t.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => FormattableString.Invariant(text);
}
