using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>
/// Time on a grid of whole steps from "now". Each job's starts lie on its own copy of the grid, shifted so that
/// its first start is exactly its earliest start (start = now + step × grid + offset, offset in [0, grid)):
/// a job that can run at all is never refused because its window is narrower than a step. For capacity, a job
/// holds every global step its real run touches, so capacity on the grid is never looser than in real time.
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
}

/// <summary>An option placed on the grid: the window its start step may take and the global steps it holds.</summary>
public readonly record struct GridOption(JobOption Option, int EarliestStep, int LatestStep, int DurationSteps)
{
    public bool IsOpen => EarliestStep <= LatestStep;
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
        for (var j = 0; j < options.Count; j++)
        {
            var job = options[j].Job;
            IndexOf[job.Id] = j;
            var ready = job.EarliestStart is { } es && es > problem.Now ? es : problem.Now;
            var (first, offset) = Grid.Locate(ready);
            _offsetMinutes[j] = offset;
            var held = Grid.StepsHeld(job.DurationHours, offset);
            GridOptions[j] = [.. options[j].Options.Select(o =>
            {
                var last = o.LatestStart is { } latest ? Grid.LastStepAtOrBefore(latest, offset) : first + openSteps;
                return new GridOption(o, first, last, held);
            }).Where(g => g.IsOpen)];
            Horizon = Math.Max(Horizon, GridOptions[j].Select(g => g.LatestStep + g.DurationSteps + 1).DefaultIfEmpty(0).Max());
        }
        Reserved = [.. problem.Reservations.Where(r => r.To > problem.Now).Select(r =>
        {
            var from = Grid.Locate(r.From).Step;
            var to = Math.Max(from + 1, (int)Math.Ceiling((r.To - problem.Now).TotalMinutes / Grid.StepMinutes - 1e-9));
            return new ReservedSteps(problem.Limits.PoolOf(r.Offer), from, to);
        }).Where(r => !r.Pool.Pool.IsUnlimited)];
        Horizon = Math.Max(Horizon, Reserved.Select(r => r.To + 1).DefaultIfEmpty(0).Max());
    }

    /// <summary>Capacity held before planning (running jobs), as the global steps it covers.</summary>
    public IReadOnlyList<ReservedSteps> Reserved { get; }

    public PlanningProblem Problem { get; }

    public IReadOnlyList<JobOptions> Options { get; }

    public TimeGrid Grid { get; }

    /// <summary>Per job (same order as <see cref="Options"/>), its options whose window survives the grid.</summary>
    public GridOption[][] GridOptions { get; }

    public Dictionary<string, int> IndexOf { get; }

    /// <summary>One past the last step any option can hold.</summary>
    public int Horizon { get; }

    public Job JobAt(int j) => Options[j].Job;

    public DateTimeOffset StartTimeOf(int j, int step) => Grid.TimeOf(step, _offsetMinutes[j]);

    /// <summary>
    /// The fewest steps job <paramref name="dependent"/> must start after job <paramref name="prerequisite"/> so that
    /// it starts no earlier than the prerequisite's real end.
    /// </summary>
    public int DependencyLag(int prerequisite, int dependent)
    {
        var minutes = _offsetMinutes[prerequisite] + JobAt(prerequisite).DurationHours * 60 - _offsetMinutes[dependent];
        return (int)Math.Ceiling(minutes / Grid.StepMinutes - 1e-9);
    }
}
