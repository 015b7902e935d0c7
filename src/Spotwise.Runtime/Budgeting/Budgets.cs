using System.Collections.Immutable;
using Spotwise.Core;

namespace Spotwise.Runtime.Budgeting;

/// <summary>
/// Teams' dollar budgets: the limits (the configuration's, overridden by those set through the API and kept in the
/// store), and each team's <see cref="BudgetStatus"/> from its job records. The one place spend is held against a limit:
/// the API, the dashboard, <c>/metrics</c>, the intake's refusal and the scheduler's <see cref="TeamBudget"/>s ask here.
/// </summary>
public sealed class Budgets(IJobStore jobs, IBudgetStore? store, IReadOnlyDictionary<string, BudgetLimit> configured, TimeProvider time)
{
    /// <summary>Every team's limit: the configuration's, with the stored ones over them.</summary>
    public async Task<IReadOnlyDictionary<string, BudgetLimit>> LimitsAsync(CancellationToken cancellationToken)
    {
        var limits = new Dictionary<string, BudgetLimit>(configured, StringComparer.Ordinal);
        if (store is not null)
        {
            foreach (var (team, limit) in await store.BudgetLimitsAsync(cancellationToken))
            {
                limits[team] = limit;
            }
        }
        return limits;
    }

    /// <summary>Sets a team's budget in the store, over the configuration's.</summary>
    /// <exception cref="InvalidOperationException">The store keeps no budgets.</exception>
    public Task SetAsync(string team, BudgetLimit limit, CancellationToken cancellationToken) =>
        (store ?? throw new InvalidOperationException("this job store keeps no budgets")).SetBudgetLimitAsync(team, limit, time.GetUtcNow(), cancellationToken);

    /// <summary>The team's budget now, or null when it has none.</summary>
    public async Task<BudgetStatus?> StatusAsync(string team, CancellationToken cancellationToken)
    {
        if (!(await LimitsAsync(cancellationToken)).TryGetValue(team, out var limit))
        {
            return null;
        }
        var now = time.GetUtcNow();
        return Status(team, limit, await TeamJobsAsync(team, limit, now, cancellationToken), now);
    }

    /// <summary>Every budgeted team's status, by team name.</summary>
    public async Task<IReadOnlyList<BudgetStatus>> AllAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var statuses = new List<BudgetStatus>();
        foreach (var (team, limit) in (await LimitsAsync(cancellationToken)).OrderBy(l => l.Key, StringComparer.Ordinal))
        {
            statuses.Add(Status(team, limit, await TeamJobsAsync(team, limit, now, cancellationToken), now));
        }
        return statuses;
    }

    /// <summary>Every budgeted team's status from jobs already read (a planning cycle's <see cref="CycleJobs"/>), by team name.</summary>
    public static IReadOnlyList<BudgetStatus> Statuses(IReadOnlyDictionary<string, BudgetLimit> limits, IEnumerable<JobRecord> jobs, DateTimeOffset now)
    {
        var byTeam = jobs.ToLookup(j => j.Team, StringComparer.Ordinal);
        return [.. limits.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => Status(l.Key, l.Value, byTeam[l.Key], now))];
    }

    /// <summary>
    /// The first moment any budget's current period looks back to (null without budgets): the jobs finished before it
    /// count in no budget, so a cycle need not read them.
    /// </summary>
    public static DateTimeOffset? EarliestPeriodStart(IReadOnlyDictionary<string, BudgetLimit>? limits, DateTimeOffset now) =>
        limits is null || limits.Count == 0 ? null : limits.Values.Min(l => l.Period.Window(now).Start);

    /// <summary>
    /// The team's jobs that can count in its budget now: those not finished, and those finished in the period (one that
    /// finished before spent nothing in it and commits nothing).
    /// </summary>
    private Task<IReadOnlyList<JobRecord>> TeamJobsAsync(string team, BudgetLimit limit, DateTimeOffset now, CancellationToken cancellationToken) =>
        jobs.ListAsync(new JobQuery(Team: team) { FinishedSince = limit.Period.Window(now).Start }, cancellationToken);

    /// <summary>
    /// A team's budget from its jobs: spent is what they accrued inside the period; committed is what the jobs not yet
    /// finished whose placement starts before the period ends are still expected to cost.
    /// </summary>
    public static BudgetStatus Status(string team, BudgetLimit limit, IEnumerable<JobRecord> teamJobs, DateTimeOffset now)
    {
        var (start, end) = limit.Period.Window(now);
        var spent = 0.0;
        var committed = 0.0;
        foreach (var j in teamJobs)
        {
            spent += JobSpend.SpentSince(j, start, now);
            if (j.Placement is { } p && p.PlannedStart < end)
            {
                committed += JobSpend.Committed(j);
            }
        }
        return new BudgetStatus(team, limit.Period, start, end, limit.LimitUsd, Math.Round(spent, 4), Math.Round(committed, 4));
    }

    /// <summary>
    /// What each budgeted team may spend on the jobs a cycle plans: its limit less what has run in the period and what
    /// the jobs the cycle does not re-plan (<paramref name="holding"/>: launched, or due to launch) still commit.
    /// </summary>
    public async Task<ImmutableArray<TeamBudget>> ForPlanningAsync(IReadOnlyCollection<JobRecord> holding, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var limits = await LimitsAsync(cancellationToken);
        var teamJobs = new List<JobRecord>();
        foreach (var (team, limit) in limits)
        {
            teamJobs.AddRange(await TeamJobsAsync(team, limit, now, cancellationToken));
        }
        return ForPlanning(limits, holding, teamJobs, now);
    }

    /// <summary>
    /// <see cref="ForPlanningAsync"/> from jobs already read: <paramref name="jobs"/> holds at least every job of a budgeted
    /// team not finished or finished within its period (a planning cycle's <see cref="CycleJobs"/>).
    /// </summary>
    public static ImmutableArray<TeamBudget> ForPlanning(
        IReadOnlyDictionary<string, BudgetLimit> limits, IReadOnlyCollection<JobRecord> holding, IEnumerable<JobRecord> jobs, DateTimeOffset now)
    {
        var byTeam = jobs.ToLookup(j => j.Team, StringComparer.Ordinal);
        var budgets = ImmutableArray.CreateBuilder<TeamBudget>();
        foreach (var (team, limit) in limits)
        {
            var (start, _) = limit.Period.Window(now);
            var spent = byTeam[team].Sum(j => JobSpend.SpentSince(j, start, now));
            var held = holding.Where(j => string.Equals(j.Team, team, StringComparison.Ordinal)).Sum(JobSpend.Committed);
            budgets.Add(new TeamBudget(team, Math.Round(limit.LimitUsd - spent - held, 4), limit.Period.Label()));
        }
        return budgets.ToImmutable();
    }

    /// <summary>
    /// Whether a team's new jobs fit what its budget has left, each on its own cheapest safe option: null when they do (or
    /// the team has no budget), else the refusal with the figures.
    /// </summary>
    public async Task<BudgetRefusal?> CheckAsync(string team, IReadOnlyList<(string JobId, double CheapestUsd)> needed, CancellationToken cancellationToken)
    {
        if (needed.Count == 0 || await StatusAsync(team, cancellationToken) is not { } status)
        {
            return null;
        }
        var total = Math.Round(needed.Sum(n => n.CheapestUsd), 4);
        return total <= status.LeftUsd + 1e-9 ? null : new BudgetRefusal(status, total, needed);
    }
}

/// <summary>A submission refused for money: the team's budget, what the jobs need together, and each job's cheapest safe option.</summary>
public sealed record BudgetRefusal(BudgetStatus Budget, double NeededUsd, IReadOnlyList<(string JobId, double CheapestUsd)> Jobs)
{
    public string Message => string.Create(System.Globalization.CultureInfo.InvariantCulture,
        $"{TeamBudget.ReasonTag}team {Budget.Team} has ${Budget.LeftUsd:0.00} left {Budget.Period.Label()} (limit ${Budget.LimitUsd:0.00}, spent ${Budget.SpentUsd:0.00}, committed ${Budget.CommittedUsd:0.00}); the cheapest safe plan of these jobs costs ${NeededUsd:0.00}");
}
