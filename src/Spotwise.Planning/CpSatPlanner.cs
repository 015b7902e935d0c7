using System.Diagnostics;
using Google.OrTools.Sat;
using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>
/// The optimizer: Google OR-Tools CP-SAT over the jobs' options on the time grid. Objective, in this order: plan
/// every job that can meet its deadline (a higher priority wins capacity), then minimise expected cost. Starts
/// from the greedy plan, returns the better of the two, and reports a proven lower bound.
/// </summary>
public sealed class CpSatPlanner : IPlanner
{
    public const string PlannerName = "cpsat";

    public string Name => PlannerName;

    public Plan Solve(PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var model = new GridModel(problem, OptionBuilder.Build(problem));
        var greedy = GreedyPlanner.Place(model, cancellationToken);
        var cheapestTotal = CheapestTotal(model, greedy);
        if (PlacesEveryPlaceableJob(model, greedy) && greedy.CostUsd(model) <= cheapestTotal + 1e-6)
        {
            // Every job that can be planned is, on its cheapest option: nothing can be better, no solver needed.
            // (When greedy left a job out, moving a planned job may make room for it: that is the solver's work.)
            return greedy.ToPlan(Name, model, PlanStatus.Optimal, clock.Elapsed.TotalSeconds);
        }
        var cp = CpSatModel.Build(model, greedy, options.MaxModelOptions);
        if (cp is null)
        {
            return greedy.ToPlan(Name, model, PlanStatus.Feasible, clock.Elapsed.TotalSeconds);
        }
        var remaining = options.TimeLimit - clock.Elapsed;
        var outcome = cp.Solve(remaining > TimeSpan.FromMilliseconds(100) ? remaining : TimeSpan.FromMilliseconds(100), options.Workers, cancellationToken);
        var best = outcome.Placement is { } found && cp.IsBetter(found, greedy) ? found : greedy;
        var status = outcome.Status switch
        {
            CpSolverStatus.Optimal => PlanStatus.Optimal,
            CpSolverStatus.Unknown => PlanStatus.Timeout,
            _ => PlanStatus.Feasible,
        };
        return best.ToPlan(Name, model, status, clock.Elapsed.TotalSeconds, outcome.LowerBoundUsd);
    }

    /// <summary>
    /// Whether the placement holds every job that some plan could hold: a job with a window on the grid whose
    /// prerequisites all could be placed too (a dependent of a job that can never run can never run either).
    /// </summary>
    private static bool PlacesEveryPlaceableJob(GridModel model, Placement placement)
    {
        var placeable = new bool?[model.GridOptions.Length];
        bool Placeable(int j) => placeable[j] ??=
            model.GridOptions[j].Length > 0 && model.JobAt(j).DependsOn.All(d => Placeable(model.IndexOf[d]));
        return Enumerable.Range(0, model.GridOptions.Length).All(j => placement.IsPlaced(j) || !Placeable(j));
    }

    private static double CheapestTotal(GridModel model, Placement placement)
    {
        double sum = 0;
        for (var j = 0; j < model.GridOptions.Length; j++)
        {
            if (placement.IsPlaced(j))
            {
                sum += PlanBuilder.Round(model.Options[j].Cheapest!.ExpectedCostUsd);
            }
        }
        return sum;
    }
}

/// <summary>What a CP-SAT run gave back: its status, its placement if it found one, and its proven bound.</summary>
public sealed record CpSatOutcome(CpSolverStatus Status, Placement? Placement, double? LowerBoundUsd);
