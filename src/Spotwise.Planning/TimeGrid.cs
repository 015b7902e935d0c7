using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>
/// Starts fall on a grid of whole steps from "now". A job of d hours occupies ceil(d / step) steps of its pool,
/// so capacity on the grid is never looser than capacity in real time.
/// </summary>
public sealed class TimeGrid(DateTimeOffset now, int stepMinutes)
{
    public DateTimeOffset Now { get; } = now;

    public int StepMinutes { get; } = stepMinutes;

    public int FirstStepAtOrAfter(DateTimeOffset t) =>
        t <= Now ? 0 : (int)Math.Ceiling((t - Now).TotalMinutes / StepMinutes - 1e-9);

    public int LastStepAtOrBefore(DateTimeOffset t) => (int)Math.Floor((t - Now).TotalMinutes / StepMinutes + 1e-9);

    public int DurationSteps(double hours) => Math.Max(1, (int)Math.Ceiling(hours * 60 / StepMinutes - 1e-9));

    public DateTimeOffset TimeOf(int step) => Now.AddMinutes((double)step * StepMinutes);
}

/// <summary>An option placed on the grid: the window its start may take and the steps it holds.</summary>
public readonly record struct GridOption(JobOption Option, int EarliestStep, int LatestStep, int DurationSteps)
{
    public bool IsOpen => EarliestStep <= LatestStep;
}

/// <summary>The jobs' options on the grid, shared by the greedy and CP-SAT planners so both see one model.</summary>
public sealed class GridModel
{
    public GridModel(PlanningProblem problem, IReadOnlyList<JobOptions> options)
    {
        Problem = problem;
        Options = options;
        Grid = new TimeGrid(problem.Now, problem.Settings.GridMinutes);
        var openSteps = (int)(problem.Settings.OpenHorizon.TotalMinutes / problem.Settings.GridMinutes);
        GridOptions = new GridOption[options.Count][];
        IndexOf = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var j = 0; j < options.Count; j++)
        {
            IndexOf[options[j].Job.Id] = j;
            var dur = Grid.DurationSteps(options[j].Job.DurationHours);
            GridOptions[j] = [.. options[j].Options.Select(o =>
            {
                var lo = Grid.FirstStepAtOrAfter(o.EarliestStart);
                var hi = o.LatestStart is { } latest ? Grid.LastStepAtOrBefore(latest) : lo + openSteps;
                return new GridOption(o, lo, hi, dur);
            }).Where(g => g.IsOpen)];
            Horizon = Math.Max(Horizon, GridOptions[j].Select(g => g.LatestStep + g.DurationSteps + 1).DefaultIfEmpty(0).Max());
        }
    }

    public PlanningProblem Problem { get; }

    public IReadOnlyList<JobOptions> Options { get; }

    public TimeGrid Grid { get; }

    /// <summary>Per job (same order as <see cref="Options"/>), its options whose window survives the grid.</summary>
    public GridOption[][] GridOptions { get; }

    public Dictionary<string, int> IndexOf { get; }

    /// <summary>One past the last step any option can hold.</summary>
    public int Horizon { get; }

    public Job JobAt(int j) => Options[j].Job;
}
