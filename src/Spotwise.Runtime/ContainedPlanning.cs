using System.Collections.Immutable;
using Spotwise.Core;
using Spotwise.Planning;

namespace Spotwise.Runtime;

/// <summary>
/// Plans so that one bad job cannot stop the queue: when the planner throws, the jobs that make it throw are found by
/// bisection (each half planned alone; a half that plans is innocent), set aside with the error, and the rest is planned
/// in the same cycle. Only the failure path pays for the search: O(culprits × log jobs) extra solves, each with a short limit.
/// </summary>
public static class ContainedPlanning
{
    /// <summary>How long one probe of the search may plan.</summary>
    public static readonly TimeSpan ProbeTimeLimit = TimeSpan.FromSeconds(1);

    /// <summary>The plan of the jobs that can be planned (null if even they cannot), and the jobs set aside, each with why.</summary>
    public static (Plan? Plan, IReadOnlyDictionary<string, string> Quarantined) Solve(
        IPlanner planner, PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken)
    {
        if (TrySolve(planner, problem, options, cancellationToken, out var plan, out _))
        {
            return (plan, new Dictionary<string, string>());
        }
        var probe = options with { TimeLimit = options.TimeLimit < ProbeTimeLimit ? options.TimeLimit : ProbeTimeLimit };
        var culprits = FindCulprits(planner, problem, probe, cancellationToken);
        var rest = Only(problem, problem.Jobs.Where(j => !culprits.ContainsKey(j.Id)));
        TrySolve(planner, rest, options, cancellationToken, out plan, out _);
        return (plan, culprits);
    }

    private static Dictionary<string, string> FindCulprits(IPlanner planner, PlanningProblem problem, SolveOptions probe, CancellationToken cancellationToken)
    {
        var culprits = new Dictionary<string, string>(StringComparer.Ordinal);
        var parts = new Stack<ImmutableArray<Job>>([problem.Jobs]);
        while (parts.TryPop(out var part))
        {
            if (TrySolve(planner, Only(problem, part), probe, cancellationToken, out _, out var error))
            {
                continue;
            }
            if (part.Length == 1)
            {
                culprits[part[0].Id] = $"quarantined: planning this job failed ({error!.GetType().Name}: {error.Message})";
                continue;
            }
            var half = part.Length / 2;
            parts.Push(part[half..]);
            parts.Push(part[..half]);
        }
        return culprits;
    }

    /// <summary>The problem for some of its jobs; prerequisites outside them are dropped (the search plans parts alone).</summary>
    private static PlanningProblem Only(PlanningProblem problem, IEnumerable<Job> jobs)
    {
        var kept = jobs.ToImmutableArray();
        var ids = kept.Select(j => j.Id).ToHashSet(StringComparer.Ordinal);
        return problem with { Jobs = [.. kept.Select(j => j.WithPrerequisitesAmong(ids))] };
    }

    private static bool TrySolve(IPlanner planner, PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken,
        out Plan? plan, out Exception? error)
    {
        try
        {
            plan = planner.Solve(problem, options, cancellationToken);
            error = null;
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            plan = null;
            error = e;
            return false;
        }
    }
}
