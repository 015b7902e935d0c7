using System.Collections.Immutable;
using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>
/// Time on a grid of whole steps from "now". Each job's starts lie on its own copy of the grid, shifted so that
/// its first start is exactly its earliest start (start = now + step × grid + offset, offset in [0, grid)):
/// a job that can run at all is never refused because its window is narrower than a step. For capacity, a job
/// holds every global step its real run touches, so capacity on the grid is never looser than in real time.
/// Steps are ints: every time a planner puts on the grid lies within the planning horizon of now
/// (<see cref="PlanningBounds"/>), which is far inside the int range on any grid of a minute or more.
/// </summary>
public sealed class TimeGrid(DateTimeOffset now, int stepMinutes)
{
    public DateTimeOffset Now { get; } = now;

    public int StepMinutes { get; } = stepMinutes;

    /// <summary>The global step a moment falls in, and how far into that step it lies.</summary>
    public (int Step, double OffsetMinutes) Locate(DateTimeOffset t)
    {
        var minutes = Math.Max(0, (t - Now).TotalMinutes);
        var step = (int)Math.Floor(minutes / StepMinutes + 1e-9);
        return (step, Math.Max(0, minutes - (double)step * StepMinutes));
    }

    /// <summary>The last step whose shifted start is not after <paramref name="t"/>.</summary>
    public int LastStepAtOrBefore(DateTimeOffset t, double offsetMinutes) =>
        (int)Math.Floor(((t - Now).TotalMinutes - offsetMinutes) / StepMinutes + 1e-9);

    /// <summary>Global steps touched by a run of <paramref name="hours"/> starting <paramref name="offsetMinutes"/> into a step.</summary>
    public int StepsHeld(double hours, double offsetMinutes) => Math.Max(1, (int)Math.Ceiling((offsetMinutes + hours * 60) / StepMinutes - 1e-9));

    public DateTimeOffset TimeOf(int step, double offsetMinutes) => Now.AddMinutes((double)step * StepMinutes + offsetMinutes);

    /// <summary>The first step whose shifted start is not before <paramref name="t"/>.</summary>
    public int FirstStepAtOrAfter(DateTimeOffset t, double offsetMinutes) =>
        (int)Math.Ceiling(((t - Now).TotalMinutes - offsetMinutes) / StepMinutes - 1e-9);
}

/// <summary>Start steps from <paramref name="From"/> to <paramref name="To"/>, both included.</summary>
public readonly record struct StepRange(int From, int To);

/// <summary>
/// An option placed on the grid: the window its start step may take and the global steps it holds. A job with
/// scheduling windows may start only in <see cref="Ranges"/> (inside [EarliestStep, LatestStep]); empty means anywhere.
/// </summary>
public readonly record struct GridOption(JobOption Option, int EarliestStep, int LatestStep, int DurationSteps)
{
    public bool IsOpen => EarliestStep <= LatestStep;

    public ImmutableArray<StepRange> Ranges { get; init; } = [];

    /// <summary>The ranges its start may take: <see cref="Ranges"/>, or the one window.</summary>
    public IEnumerable<StepRange> StartRanges => Ranges.IsDefaultOrEmpty ? [new StepRange(EarliestStep, LatestStep)] : Ranges;
}

/// <summary>A reservation on the grid: a pool's demand held over global steps [From, To).</summary>
public readonly record struct ReservedSteps(PoolUse Pool, int From, int To);

/// <summary>The jobs' options on the grid, shared by the greedy and CP-SAT planners so both see one model.</summary>
public sealed class GridModel
{
    private readonly double[] _offsetMinutes;

    public GridModel(PlanningProblem problem, IReadOnlyList<JobOptions> options)
    {
        Problem = problem;
        Options = options;
        Grid = new TimeGrid(problem.Now, problem.Settings.GridMinutes);
        var openSteps = (int)(problem.Settings.OpenHorizon.TotalMinutes / problem.Settings.GridMinutes);
        GridOptions = new GridOption[options.Count][];
        _offsetMinutes = new double[options.Count];
        IndexOf = new Dictionary<string, int>(StringComparer.Ordinal);
        Dependencies = DependencyGraph.Of([.. options.Select(o => o.Job)]);
        for (var j = 0; j < options.Count; j++)
        {
            var job = options[j].Job;
            IndexOf.TryAdd(job.Id, j);
            if (!options[j].IsPlannable)
            {
                // Nothing of a job without options goes on the grid: its times may be anything (PlanningBounds).
                GridOptions[j] = [];
                continue;
            }
            var ready = job.EarliestStart is { } es && es > problem.Now ? es : problem.Now;
            var (first, offset) = Grid.Locate(ready);
            _offsetMinutes[j] = offset;
            // An option's run may be longer than the job's (its data moves first): each holds the steps of its own run.
            GridOptions[j] = [.. options[j].Options.Select(o =>
            {
                var last = o.LatestStart is { } latest ? Grid.LastStepAtOrBefore(latest, offset) : first + openSteps;
                var option = new GridOption(o, first, last, Grid.StepsHeld(o.RunHours, offset));
                return o.StartRanges.IsDefaultOrEmpty ? option : InWindows(option, offset);
            }).Where(g => g.IsOpen)];
            Horizon = Math.Max(Horizon, GridOptions[j].Select(g => g.LatestStep + g.DurationSteps + 1).DefaultIfEmpty(0).Max());
        }
        FairRank = FairShare.Ranks(problem.FairShare, [.. options.Select(o => o.Job.Team)]);
        // A held instance on the savings plan holds its share of the commitment too: one entry per pool it draws on.
        Reserved = [.. problem.Reservations.Where(r => r.To > problem.Now)
            .SelectMany(r => problem.Limits.PoolsOf(r.Offer).Where(p => !p.Pool.IsUnlimited).Select(p => ReservedOnGrid(r, p, Horizon)))
            .Where(r => r.From < Horizon)];
    }

    /// <summary>
    /// An option of a job with scheduling windows: its start steps cut to the grid steps inside its start ranges (a
    /// range narrower than a step may hold none); closed when none is left.
    /// </summary>
    private GridOption InWindows(GridOption g, double offset)
    {
        var ranges = g.Option.StartRanges
            .Select(r => new StepRange(Math.Max(g.EarliestStep, Grid.FirstStepAtOrAfter(r.From, offset)), Math.Min(g.LatestStep, Grid.LastStepAtOrBefore(r.To, offset))))
            .Where(r => r.From <= r.To).ToImmutableArray();
        return ranges.IsEmpty ? g with { LatestStep = g.EarliestStep - 1 } : g with { EarliestStep = ranges[0].From, LatestStep = ranges[^1].To, Ranges = ranges };
    }

    /// <summary>
    /// Held capacity on the grid, cut at <paramref name="reach"/> (one past the last step any option holds): beyond it
    /// no job can feel it, and a reservation reaching years ahead must not stretch the timelines or leave the int range.
    /// </summary>
    private ReservedSteps ReservedOnGrid(CapacityReservation r, PoolUse pool, int reach)
    {
        var from = (int)Math.Min(reach, Math.Floor(Math.Max(0, (r.From - Problem.Now).TotalMinutes) / Grid.StepMinutes + 1e-9));
        var to = (int)Math.Min(reach, Math.Ceiling((r.To - Problem.Now).TotalMinutes / Grid.StepMinutes - 1e-9));
        return new ReservedSteps(pool, from, Math.Max(from + 1, to));
    }

    /// <summary>Capacity held before planning (running jobs), as the global steps it covers.</summary>
    public IReadOnlyList<ReservedSteps> Reserved { get; }

    public PlanningProblem Problem { get; }

    public IReadOnlyList<JobOptions> Options { get; }

    public TimeGrid Grid { get; }

    /// <summary>Per job (same order as <see cref="Options"/>), its options whose window survives the grid.</summary>
    public GridOption[][] GridOptions { get; }

    public Dictionary<string, int> IndexOf { get; }

    /// <summary>
    /// The jobs' dependencies by position: every walk over them goes through here, never through ids (a prerequisite
    /// may be missing) and never by recursion (a chain may be 10,000 deep).
    /// </summary>
    public DependencyGraph Dependencies { get; }

    /// <summary>
    /// Per job, how many fair-share bands its team stands above the least deprived team waiting (<see cref="FairShare.Ranks"/>):
    /// among jobs of equal priority the higher rank is served first. All 0 without fair share.
    /// </summary>
    public int[] FairRank { get; }

    /// <summary>Whether fair share orders anything in this model: teams stand in different bands.</summary>
    public bool HasFairShare => FairRank.Any(r => r > 0);

    /// <summary>One past the last step any option can hold.</summary>
    public int Horizon { get; }

    public Job JobAt(int j) => Options[j].Job;

    public DateTimeOffset StartTimeOf(int j, int step) => Grid.TimeOf(step, _offsetMinutes[j]);

    /// <summary>
    /// The fewest steps job <paramref name="dependent"/> must start after job <paramref name="prerequisite"/> so that
    /// it starts no earlier than the prerequisite's real end, the prerequisite running on its option
    /// <paramref name="prerequisiteOption"/> (runs differ in length when data moves first).
    /// </summary>
    public int DependencyLag(int prerequisite, int prerequisiteOption, int dependent)
    {
        var minutes = _offsetMinutes[prerequisite] + GridOptions[prerequisite][prerequisiteOption].Option.RunHours * 60 - _offsetMinutes[dependent];
        return (int)Math.Ceiling(minutes / Grid.StepMinutes - 1e-9);
    }

    /// <summary>
    /// The distinct lags of a dependency over the prerequisite's options, each with the options that have it: one entry
    /// when every run of the prerequisite is equally long (no data to move), as it is for almost every job.
    /// </summary>
    public IEnumerable<(int Lag, int[] Options)> DependencyLags(int prerequisite, int dependent) =>
        Enumerable.Range(0, GridOptions[prerequisite].Length).GroupBy(o => DependencyLag(prerequisite, o, dependent)).Select(g => (g.Key, g.ToArray()));
}
