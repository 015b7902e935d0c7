using System.Diagnostics;
using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>
/// The baseline: jobs in priority and earliest-deadline order, each on its cheapest safe option at the earliest
/// moment its pool has room. Fast at any size; what CP-SAT starts from and what serves when a queue is too large
/// for the solver's time limit.
/// </summary>
public sealed class GreedyPlanner : IPlanner
{
    public const string PlannerName = "greedy";

    public string Name => PlannerName;

    /// <summary>Greedy computes on the calling thread; the task is complete when it returns.</summary>
    public Task<Plan> SolveAsync(PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken) =>
        Task.FromResult(Solve(problem, options, cancellationToken));

    public Plan Solve(PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var model = new GridModel(problem, OptionBuilder.Build(problem));
        var placement = Place(model, cancellationToken);
        return placement.ToPlan(Name, model, PlanStatus.Feasible, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Places every job it can; the result is also CP-SAT's starting point.</summary>
    public static Placement Place(GridModel model, CancellationToken cancellationToken) => Place(model, null, cancellationToken);

    /// <summary>
    /// Places every job it can around the jobs <paramref name="start"/> already places (they keep their places and
    /// hold their capacity): how a partial plan, such as a model's proposal, is completed.
    /// </summary>
    public static Placement Place(GridModel model, Placement? start, CancellationToken cancellationToken)
    {
        var placement = start?.Copy() ?? new Placement(model.Options.Count);
        var pools = PoolTimelines.For(model);
        var budgets = BudgetLedger.Of(model, placement);
        for (var j = 0; j < model.Options.Count; j++)
        {
            if (placement.IsPlaced(j))
            {
                pools.Reserve(model.GridOptions[j][placement.OptionIndex[j]], placement.StartStep[j]);
            }
        }
        foreach (var j in JobOrder.Of(model))
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (placement.IsPlaced(j) || !model.Options[j].IsPlannable)
            {
                continue;
            }
            if (NotBefore(model, placement, j) is { } notBefore)
            {
                PlaceOne(model, pools, budgets, placement, j, notBefore);
            }
        }
        return placement;
    }

    /// <summary>The first step job <paramref name="j"/> may start at after its prerequisites; null (and refused) when one is not placed.</summary>
    private static int? NotBefore(GridModel model, Placement placement, int j)
    {
        var notBefore = 0;
        foreach (var d in model.Dependencies.PrerequisitesOf(j))
        {
            if (!placement.IsPlaced(d))
            {
                placement.Refuse(j, $"depends on '{model.JobAt(d).Id}', which could not be planned");
                return null;
            }
            notBefore = Math.Max(notBefore, placement.StartStep[d] + model.DependencyLag(d, placement.OptionIndex[d], j));
        }
        return notBefore;
    }

    /// <summary>
    /// The cheapest option that fits its pool and its team's budget. Jobs come in priority order, so when a budget bites
    /// the jobs that find it spent are the least urgent ones.
    /// </summary>
    private static void PlaceOne(GridModel model, PoolTimelines pools, BudgetLedger budgets, Placement placement, int j, int notBefore)
    {
        var options = model.GridOptions[j];
        var overBudget = false;
        for (var o = 0; o < options.Length; o++)
        {
            if (!budgets.Affords(j, options[o].Option))
            {
                overBudget = true;
                continue;
            }
            var start = pools.EarliestFit(options[o], notBefore);
            if (start >= 0)
            {
                pools.Reserve(options[o], start);
                placement.Place(j, o, start);
                budgets.Charge(j, options[o].Option);
                return;
            }
        }
        if (overBudget && budgets.WhyNot(j) is { } why)
        {
            placement.Refuse(j, why);
            return;
        }
        var full = "every eligible pool is full until the deadline: " + string.Join(", ", options.Select(g => g.Option.Pool.Pool.Id).Distinct());
        placement.Refuse(j, options.Length == 0
            ? model.JobAt(j).Windows.IsDefaultOrEmpty ? "no start on the planning grid fits the job's window"
                : "window: no start on the planning grid (every " + model.Grid.StepMinutes + " min) falls where the run fits inside the job's windows"
            : WhyFairShare(model, placement, j, full) ?? full);
    }

    /// <summary>
    /// The reason of a job left out while jobs of its priority from teams further behind their share were planned:
    /// capacity went to them first, and the figures say why.
    /// </summary>
    public static string? WhyFairShare(GridModel model, Placement placement, int j, string full)
    {
        if (model.Problem.FairShare is not { } fair || !model.HasFairShare)
        {
            return null;
        }
        var job = model.JobAt(j);
        var ahead = Enumerable.Range(0, model.Options.Count)
            .Count(k => placement.IsPlaced(k) && model.FairRank[k] > model.FairRank[j] && model.JobAt(k).Priority == job.Priority);
        // Other teams are counted, not named: a team sees its own figures only.
        return ahead == 0 ? null
            : $"fair share: {full}; capacity went first to {ahead} job(s) of equal priority from teams further behind their share; {fair.Describe(job.Team)}";
    }
}
