using Spotwise.Core;

namespace Spotwise.Runtime.Budgeting;

/// <summary>
/// The intake's budget check: a team's new jobs, each on its own cheapest safe option (what <see cref="OptionBuilder"/>
/// gives the planners, priced at the moment's prices with the scheduler's limits and settings), must fit what its budget
/// has left. A job already stored (a resubmission) is not counted again.
/// </summary>
public sealed class BudgetGate(Budgets budgets, IPriceFeed prices, SchedulerOptions options, IJobStore store, TimeProvider time)
{
    public async Task<BudgetRefusal?> CheckAsync(string team, IReadOnlyList<Job> jobs, CancellationToken cancellationToken)
    {
        if (jobs.Count == 0 || await budgets.StatusAsync(team, cancellationToken) is null)
        {
            return null;
        }
        var fresh = new List<Job>();
        foreach (var job in jobs)
        {
            if (await store.GetAsync(new JobKey(team, job.Id), cancellationToken) is null)
            {
                fresh.Add(job);
            }
        }
        return await budgets.CheckAsync(team, await CheapestAsync(fresh, cancellationToken), cancellationToken);
    }

    /// <summary>
    /// Each job's cheapest safe option alone (its prerequisites do not change its price). A job with no option costs
    /// nothing here: the planner reports why it cannot run.
    /// </summary>
    private async Task<IReadOnlyList<(string JobId, double CheapestUsd)>> CheapestAsync(List<Job> jobs, CancellationToken cancellationToken)
    {
        if (jobs.Count == 0)
        {
            return [];
        }
        var now = time.GetUtcNow();
        var catalog = await prices.PricesAtAsync(now, cancellationToken);
        var problem = new PlanningProblem(now, [.. jobs.Select(j => j with { DependsOn = [] })], catalog, options.Limits.WithSpotAvailable(catalog), options.Settings);
        return [.. OptionBuilder.Build(problem).Select(o => (o.Job.Id, PlanBuilder.Round(o.Cheapest?.ExpectedCostUsd ?? 0)))];
    }
}
