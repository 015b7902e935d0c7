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
    public static async Task<(Plan? Plan, IReadOnlyDictionary<string, string> Quarantined)> SolveAsync(
        IPlanner planner, PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken)
    {
        if (await TrySolveAsync(planner, problem, options, cancellationToken) is { Plan: { } plan })
        {
            return (plan, new Dictionary<string, string>());
        }
        var probe = options with { TimeLimit = options.TimeLimit < ProbeTimeLimit ? options.TimeLimit : ProbeTimeLimit };
        var culprits = await FindCulpritsAsync(planner, problem, probe, cancellationToken);
        var rest = Only(problem, problem.Jobs.Where(j => !culprits.ContainsKey(j.Id)));
        return ((await TrySolveAsync(planner, rest, options, cancellationToken)).Plan, culprits);
    }

    private static async Task<Dictionary<string, string>> FindCulpritsAsync(IPlanner planner, PlanningProblem problem, SolveOptions probe, CancellationToken cancellationToken)
    {
        var culprits = new Dictionary<string, string>(StringComparer.Ordinal);
        var parts = new Stack<ImmutableArray<Job>>([problem.Jobs]);
        while (parts.TryPop(out var part))
        {
            if (await TrySolveAsync(planner, Only(problem, part), probe, cancellationToken) is not { Error: { } error })
            {
                continue;
            }
            if (part.Length == 1)
            {
                culprits[part[0].Id] = $"quarantined: planning this job failed ({error.GetType().Name}: {error.Message})";
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

    /// <summary>The plan, or the error the planner threw (a planner may throw before its task or inside it: both are caught).</summary>
    private static async Task<Attempt> TrySolveAsync(IPlanner planner, PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken)
    {
        try
        {
            return new Attempt(await planner.SolveAsync(problem, options, cancellationToken), null);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new Attempt(null, e);
        }
    }

    private readonly record struct Attempt(Plan? Plan, Exception? Error);
}
