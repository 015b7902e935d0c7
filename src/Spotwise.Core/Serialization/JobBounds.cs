namespace Spotwise.Core.Serialization;

/// <summary>
/// The hard limits of a job's fields, in one place (docs/server.md lists them). Each keeps the numbers every later
/// step computes with (times, grids, costs) far from overflow, and names fit to be a Kubernetes name, a Slurm job name
/// and an EC2 tag.
/// </summary>
public static class JobBounds
{
    public const int MaxNameLength = 128;

    /// <summary>A year of run time: a longer estimate is a typo, and it would overflow the planners' time grids.</summary>
    public const double MaxDurationHours = 8760;

    public const double MaxRestartOverheadMinutes = 1440;

    public const double MaxCheckpointIntervalMinutes = 10080;

    public const double MaxInputDataSizeGB = 1e6;

    /// <summary>A command's length in UTF-8 bytes (what a shell, user data or a Slurm script receives).</summary>
    public const int MaxCommandBytes = 64 * 1024;

    /// <summary>A container image reference's length (registry, repository, tag and digest together).</summary>
    public const int MaxImageLength = 1024;

    /// <summary>The most prerequisites one job may name, and the most instance types one request may list.</summary>
    public const int MaxListLength = 1_000;

    public const int MaxVcpus = 100_000;

    public const int MaxGpus = 1_000;

    public const double MaxMemoryGiB = 1e6;

    /// <summary>How far from now a time may lie: a deadline or a start beyond a year (and a day) is refused.</summary>
    public static readonly TimeSpan Horizon = TimeSpan.FromDays(366);

    /// <summary>
    /// Why a job already read (a stored one, written before these bounds) breaks them; null when it keeps them. Times
    /// are allowed twice the horizon, since the clock has moved on since they were accepted.
    /// </summary>
    public static string? Violation(Job job, DateTimeOffset now)
    {
        static bool Within(double value, double max) => double.IsFinite(value) && value >= 0 && value <= max;
        var far = Horizon + Horizon;
        return job switch
        {
            _ when !Within(job.DurationHours, MaxDurationHours) || job.DurationHours <= 0 =>
                FormattableString.Invariant($"estimatedDurationHours {job.DurationHours:G4} is outside (0, {MaxDurationHours}]"),
            _ when !Within(job.RestartOverheadHours * 60, MaxRestartOverheadMinutes) =>
                FormattableString.Invariant($"restartOverheadMinutes {job.RestartOverheadHours * 60:G4} is outside [0, {MaxRestartOverheadMinutes}]"),
            { CheckpointIntervalHours: { } interval } when !Within(interval * 60, MaxCheckpointIntervalMinutes) =>
                FormattableString.Invariant($"checkpointIntervalMinutes {interval * 60:G4} is outside (0, {MaxCheckpointIntervalMinutes}]"),
            { Deadline: { } deadline } when deadline - now > far =>
                FormattableString.Invariant($"deadline {deadline:yyyy-MM-dd} is more than {far.TotalDays:0} days away"),
            { EarliestStart: { } start } when start - now > far =>
                FormattableString.Invariant($"earliestStart {start:yyyy-MM-dd} is more than {far.TotalDays:0} days away"),
            _ => null,
        };
    }

    /// <summary>Why <paramref name="name"/> is not a valid job id or team name; null when it is.</summary>
    public static string? NameProblem(string name)
    {
        if (name.Length is 0 or > MaxNameLength)
        {
            return $"must be 1 to {MaxNameLength} characters, found {name.Length}";
        }
        foreach (var c in name)
        {
            if (!IsNameChar(c))
            {
                return $"may hold only letters, digits and . _ : - (found {Describe(c)})";
            }
        }
        return null;
    }

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-';

    private static string Describe(char c) => char.IsControl(c) || char.IsWhiteSpace(c) || !char.IsAscii(c)
        ? $"U+{(int)c:X4}"
        : $"'{c}'";
}
