using System.Collections.Immutable;
using Spotwise.Core;

namespace Spotwise.Runtime.History;

/// <summary>
/// How the service learns from its own history how long jobs really run (docs/teams.md, "Learning from history").
/// </summary>
public sealed record RunHistoryOptions
{
    /// <summary>What a team's jobs are assumed to run, as a share of their estimate, before any history: as estimated.</summary>
    public double PriorRatio { get; init; } = 1.0;

    /// <summary>
    /// How many jobs the prior counts as: the learned ratio is the history's (geometric) mean pulled toward the prior as
    /// if this many jobs had run exactly at <see cref="PriorRatio"/>. Two: five jobs at 2x give 1.64x, twenty give 1.88x.
    /// </summary>
    public double PriorWeight { get; init; } = 2;

    /// <summary>Fewer finished jobs than this for a team and resource leave the prior in force (by default: the estimate as submitted).</summary>
    public int MinimumSamples { get; init; } = 5;

    /// <summary>Only the latest jobs per team and resource count, so the ratio follows a team whose code changed.</summary>
    public int MaxSamples { get; init; } = 50;

    /// <summary>One job's ratio is bounded to this range either way (x10 or /10): a job that hung for a day is one sample, not the answer.</summary>
    public double MaxJobRatio { get; init; } = 10;

    /// <summary>How often the history is read again from the store (it reads the jobs succeeded within <see cref="LookBack"/>).</summary>
    public TimeSpan RefreshEvery { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// How far back finished jobs are read: a refresh reads only the jobs that succeeded within it, from the store's
    /// finish-time index, so its cost follows recent work and not the store's whole history. Thirty days: the latest
    /// <see cref="MaxSamples"/> of a team that runs weekly, and a ratio that follows a team whose code changed.
    /// </summary>
    public TimeSpan LookBack { get; init; } = TimeSpan.FromDays(30);

    public static RunHistoryOptions Default { get; } = new();

    /// <summary>Each setting out of its range, named with its value; empty when all are good.</summary>
    public IEnumerable<string> Problems()
    {
        if (!(PriorRatio > 0) || double.IsInfinity(PriorRatio))
        {
            yield return Invariant($"{nameof(PriorRatio)} is {PriorRatio}: a ratio of run times must be above 0");
        }
        if (!(PriorWeight >= 0) || double.IsInfinity(PriorWeight))
        {
            yield return Invariant($"{nameof(PriorWeight)} is {PriorWeight}: the prior counts as 0 or more jobs");
        }
        if (MinimumSamples < 1 || MaxSamples < MinimumSamples)
        {
            yield return Invariant($"{nameof(MinimumSamples)} is {MinimumSamples} and {nameof(MaxSamples)} {MaxSamples}: 1 <= MinimumSamples <= MaxSamples");
        }
        if (!(MaxJobRatio >= 1) || double.IsInfinity(MaxJobRatio))
        {
            yield return Invariant($"{nameof(MaxJobRatio)} is {MaxJobRatio}: at least 1");
        }
        if (RefreshEvery < TimeSpan.Zero)
        {
            yield return Invariant($"{nameof(RefreshEvery)} is {RefreshEvery}: not negative");
        }
        if (LookBack <= TimeSpan.Zero)
        {
            yield return Invariant($"{nameof(LookBack)} is {LookBack}: above 0");
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>The estimate a plan uses for a job: the submitted hours times the learned ratio of its team and resource.</summary>
/// <param name="SubmittedHours">The job's own estimate, as submitted (never changed).</param>
/// <param name="Ratio">Actual over estimated run time learned for the team and resource; the prior (1) below the minimum sample.</param>
/// <param name="UsedHours">What the planner is given: <paramref name="SubmittedHours"/> × <paramref name="Ratio"/>.</param>
/// <param name="Samples">How many of the team's finished jobs on this resource the ratio is learned from.</param>
public sealed record RuntimeEstimate(double SubmittedHours, double Ratio, double UsedHours, int Samples);

/// <summary>
/// What the service's finished jobs say about estimates, per (team, resource request): the ratio of actual to estimated
/// run time, shrunk toward a prior and used only from a minimum sample (<see cref="RunHistoryOptions"/>). A snapshot:
/// immutable, built from the store's records by <see cref="From"/>.
/// </summary>
/// <remarks>
/// A sample is a job that succeeded on its first attempt: its run is <c>FinishedAt - StartedAt</c> (from the backend's
/// running to its end). A job that needed more attempts is left out: its wall time mixes waiting, lost and redone work.
/// Ratios are averaged in log space (a job at 2x and one at 0.5x average to 1x) and shrunk there:
/// <c>ratio = exp(n · mean(log r) / (n + PriorWeight) + PriorWeight · log(PriorRatio) / (n + PriorWeight))</c>.
/// </remarks>
public sealed class RunHistory
{
    private readonly ImmutableDictionary<(string Team, string Resources), (double Ratio, int Samples)> _ratios;
    private readonly RunHistoryOptions _options;

    private RunHistory(ImmutableDictionary<(string, string), (double, int)> ratios, RunHistoryOptions options)
    {
        _ratios = ratios;
        _options = options;
    }

    /// <summary>No history: every estimate as submitted.</summary>
    public static RunHistory Empty { get; } = From([], RunHistoryOptions.Default);

    /// <summary>The history of <paramref name="finished"/> (any records: only first-attempt successes count).</summary>
    public static RunHistory From(IEnumerable<JobRecord> finished, RunHistoryOptions options)
    {
        var ratios = finished
            .Select(r => (Record: r, Ratio: JobRatio(r, options)))
            .Where(s => s.Ratio is not null)
            .GroupBy(s => (s.Record.Team, ResourceKey(s.Record.Job)))
            .ToImmutableDictionary(
                g => g.Key,
                g =>
                {
                    var latest = g.OrderByDescending(s => s.Record.FinishedAt).Take(options.MaxSamples).Select(s => s.Ratio!.Value).ToList();
                    return (Shrunk(latest, options), latest.Count);
                });
        return new RunHistory(ratios, options);
    }

    /// <summary>The estimate a plan uses for <paramref name="record"/>'s work left.</summary>
    public RuntimeEstimate EstimateFor(JobRecord record) => EstimateFor(record.Team, record.Job, record.RemainingHours);

    /// <summary>The estimate a plan uses for <paramref name="hours"/> of <paramref name="job"/>'s work, submitted by <paramref name="team"/>.</summary>
    public RuntimeEstimate EstimateFor(string team, Job job, double hours)
    {
        var (ratio, samples) = _ratios.TryGetValue((team, ResourceKey(job)), out var learned) ? learned : (_options.PriorRatio, 0);
        var used = samples >= _options.MinimumSamples ? ratio : _options.PriorRatio;
        return new RuntimeEstimate(hours, used, hours * used, samples);
    }

    /// <summary>What the history is kept by: the resource request as the job page shows it (a class name, types, or needs).</summary>
    public static string ResourceKey(Job job) => job.Resources.Describe();

    /// <summary>Actual over estimated run time of one first-attempt success, bounded; null when the record is no sample.</summary>
    private static double? JobRatio(JobRecord r, RunHistoryOptions options)
    {
        if (r.State != JobState.Succeeded || r.Attempt != 1 || r.StartedAt is not { } started || r.FinishedAt is not { } finished
            || r.Job.DurationHours <= 0 || finished <= started)
        {
            return null;
        }
        var ratio = (finished - started).TotalHours / r.Job.DurationHours;
        return Math.Clamp(ratio, 1 / options.MaxJobRatio, options.MaxJobRatio);
    }

    /// <summary>The geometric mean pulled toward the prior, rounded to 1%: a plan does not move for noise in the third digit.</summary>
    private static double Shrunk(List<double> ratios, RunHistoryOptions options)
    {
        var n = ratios.Count;
        var logs = ratios.Sum(Math.Log) + (options.PriorWeight * Math.Log(options.PriorRatio));
        return Math.Round(Math.Exp(logs / (n + options.PriorWeight)), 2);
    }
}
