using System.Collections.Immutable;
using Spotwise.Core;

namespace Spotwise.Planning.Llm;

/// <summary>What the repair made of a proposal: the plan, the assignments it kept and the jobs it planned again.</summary>
public sealed record Repaired(Plan Plan, int Kept, ImmutableArray<LlmRepair> Replanned);

/// <summary>
/// Keeps every proposed assignment the validator found nothing wrong with, and plans the rest with the optimizer
/// around them: the kept assignments hold their capacity (as reservations) and bind their dependents' earliest start.
/// Dropping an assignment only frees capacity, so what is kept stays valid together.
/// </summary>
public static class ProposalRepair
{
    public static async Task<Repaired> RepairAsync(string planner, PlanningProblem problem, IReadOnlyList<JobOptions> options, Plan proposal,
        IReadOnlyCollection<Violation> violations, IPlanner optimizer, SolveOptions solve, CancellationToken cancellationToken)
    {
        var jobs = problem.Jobs.ToDictionary(j => j.Id, StringComparer.Ordinal);
        var why = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var v in violations.Where(v => v.JobId is not null && jobs.ContainsKey(v.JobId)))
        {
            why.TryAdd(v.JobId!, $"{v.Kind}: {v.Message}");
        }
        var byId = options.ToDictionary(o => o.Job.Id, StringComparer.Ordinal);
        var kept = proposal.Schedule.Where(a => jobs.ContainsKey(a.JobId) && !why.ContainsKey(a.JobId) && byId[a.JobId].IsPlannable)
            .GroupBy(a => a.JobId, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        DropDependentsOfReplanned(problem, kept, why);
        foreach (var job in problem.Jobs.Where(j => !kept.ContainsKey(j.Id) && byId[j.Id].IsPlannable))
        {
            why.TryAdd(job.Id, "MissingJob: the model did not assign it");
        }
        var rest = problem.Jobs.Where(j => !kept.ContainsKey(j.Id)).ToList();
        var sub = rest.Count == 0 ? null : await optimizer.SolveAsync(SubProblem(problem, rest, kept), solve, cancellationToken);
        var plan = Merge(planner, problem, options, kept, sub);
        var replanned = why.Where(w => !kept.ContainsKey(w.Key)).OrderBy(w => w.Key, StringComparer.Ordinal)
            .Select(w => new LlmRepair(w.Key, w.Value)).ToImmutableArray();
        return new Repaired(plan, kept.Count, replanned);
    }

    /// <summary>
    /// A kept job whose prerequisite is planned again cannot keep its start: it is planned again too, and so on down
    /// its dependents (a worklist over the dependency graph: linear in the queue, however deep the chain).
    /// </summary>
    private static void DropDependentsOfReplanned(PlanningProblem problem, Dictionary<string, Assignment> kept, Dictionary<string, string> why)
    {
        var graph = DependencyGraph.Of(problem.Jobs);
        var replanned = new Queue<int>(Enumerable.Range(0, graph.Count).Where(j => !kept.ContainsKey(problem.Jobs[j].Id)));
        while (replanned.TryDequeue(out var d))
        {
            foreach (var k in graph.DependentsOf(d))
            {
                var id = problem.Jobs[k].Id;
                if (kept.Remove(id))
                {
                    why[id] = $"DependencyOrder: its prerequisite '{problem.Jobs[d].Id}' is planned again";
                    replanned.Enqueue(k);
                }
            }
        }
    }

    /// <summary>The jobs left, with the kept assignments as capacity already held and as prerequisites already placed.</summary>
    private static PlanningProblem SubProblem(PlanningProblem problem, List<Job> rest, Dictionary<string, Assignment> kept)
    {
        var jobs = rest.Select(j =>
        {
            var earliest = j.EarliestStart;
            foreach (var dep in j.DependsOn.Where(kept.ContainsKey))
            {
                earliest = earliest is { } e && e > kept[dep].End ? e : kept[dep].End;
            }
            return j with { EarliestStart = earliest, DependsOn = [.. j.DependsOn.Where(d => !kept.ContainsKey(d))] };
        });
        var held = kept.Values.Select(a => new CapacityReservation(a.JobId, a.Offer, a.Start, a.End));
        // The kept assignments are paid from their teams' budgets (the validator kept only what fits): the rest gets what is left.
        var teamOf = problem.Jobs.ToDictionary(j => j.Id, j => j.Team, StringComparer.Ordinal);
        var budgets = problem.Budgets.Select(b => b with
        {
            LeftUsd = b.LeftUsd - kept.Values.Where(a => string.Equals(teamOf[a.JobId], b.Team, StringComparison.Ordinal)).Sum(a => a.ExpectedCostUsd),
        });
        return problem with { Jobs = [.. jobs], Reservations = [.. problem.Reservations, .. held], Budgets = [.. budgets] };
    }

    private static Plan Merge(string planner, PlanningProblem problem, IReadOnlyList<JobOptions> options, Dictionary<string, Assignment> kept, Plan? sub)
    {
        var byId = options.ToDictionary(o => o.Job.Id, StringComparer.Ordinal);
        var chosen = new Dictionary<string, (JobOption Option, DateTimeOffset Start)>(StringComparer.Ordinal);
        foreach (var a in kept.Values.Concat(sub?.Schedule ?? []))
        {
            var job = byId[a.JobId].Job;
            // The run moves the job's data first where the offer's region is not the data's: the end must count it.
            var transfer = DataTransfer.For(job, a.Offer, problem.Catalog, problem.Settings)?.Hours ?? 0;
            chosen[a.JobId] = (new JobOption(job, a.Offer, a.ExpectedCostUsd, a.Start, null, problem.Limits.PoolOf(a.Offer))
            {
                TransferHours = transfer,
                CommitmentPool = problem.Limits.CommitmentPoolOf(a.Offer),
            }, a.Start);
        }
        var reasons = (sub?.Unplanned ?? []).ToDictionary(u => u.JobId, u => u.Reason, StringComparer.Ordinal);
        var status = sub is null ? PlanStatus.Feasible : sub.Status == PlanStatus.Optimal && kept.Count > 0 ? PlanStatus.Feasible : sub.Status;
        return PlanBuilder.Build(planner, problem, options, chosen, reasons, status, sub?.Totals.SolveSeconds ?? 0);
    }
}
