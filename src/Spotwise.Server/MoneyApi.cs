using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Server;

/// <summary>A team's money: spent so far, expected in total, the same work all on-demand, and spend over time.</summary>
public sealed record MoneyView(double SpentUsd, double ExpectedTotalUsd, double OnDemandUsd, double SavingsPct, IReadOnlyList<SpendPoint> Spend);

/// <summary>What had been spent by <see cref="At"/>.</summary>
public sealed record SpendPoint(DateTimeOffset At, double SpentUsd);

/// <summary>
/// The one place money is added up from job records: <c>/metrics</c> (all teams), <c>GET /api/money</c> and the
/// dashboard (one team) all ask here.
/// </summary>
public static class Money
{
    public const int SpendPoints = 48;

    public static double Spent(IEnumerable<JobRecord> jobs) => jobs.Sum(j => j.CostSoFarUsd);

    public static MoneyView Of(IReadOnlyList<JobRecord> jobs, Catalog prices, DateTimeOffset now)
    {
        var spent = Spent(jobs);
        var expected = jobs.Sum(Expected);
        var onDemand = jobs.Sum(j => OnDemand(j, prices));
        var savings = onDemand > 0 ? Math.Round((onDemand - expected) / onDemand * 100, 2) : 0;
        return new MoneyView(Round(spent), Round(expected), Round(onDemand), savings, SpendOverTime(jobs, now));
    }

    /// <summary>
    /// What a job will have cost when done: a final job what it cost; a planned one what it cost so far (earlier
    /// attempts) plus its placement's expected cost; a launched one at least its placement's expected cost.
    /// </summary>
    public static double Expected(JobRecord j) => j switch
    {
        { State: var s } when s.IsFinal() => j.CostSoFarUsd,
        { Placement: null } => j.CostSoFarUsd,
        { State: JobState.Planned } => j.CostSoFarUsd + j.Placement.ExpectedCostUsd,
        _ => Math.Max(j.CostSoFarUsd, j.Placement.ExpectedCostUsd),
    };

    /// <summary>
    /// The same work on on-demand capacity of the instance type it is placed on. Cancelled, failed and unplaced jobs
    /// count what they cost: no savings are claimed for work that did not happen.
    /// </summary>
    public static double OnDemand(JobRecord j, Catalog prices) =>
        j.State is JobState.Cancelled or JobState.Failed || j.Placement is null || prices.Find(j.Placement.InstanceType) is not { } entry
            ? Expected(j)
            : Math.Max(Expected(j), j.Job.DurationHours * entry.OnDemandPricePerHourUsd);

    /// <summary>
    /// Cumulative spend at evenly spaced times from the first start to now, each job's cost spread evenly over the
    /// time it ran (the store keeps totals, not a ledger); the last point is <see cref="Spent"/>.
    /// </summary>
    public static IReadOnlyList<SpendPoint> SpendOverTime(IReadOnlyList<JobRecord> jobs, DateTimeOffset now)
    {
        var paid = jobs.Where(j => j.CostSoFarUsd > 0).ToList();
        if (paid.Count == 0)
        {
            return [];
        }
        var first = paid.Min(j => j.StartedAt ?? j.FinishedAt ?? now);
        var step = (now - first) / (SpendPoints - 1);
        return [.. Enumerable.Range(0, SpendPoints).Select(i => first + (step * i)).Select(at => new SpendPoint(at, Round(paid.Sum(j => SpentBy(j, at, now)))))];
    }

    private static double SpentBy(JobRecord j, DateTimeOffset at, DateTimeOffset now)
    {
        var end = j.FinishedAt ?? now;
        var start = j.StartedAt ?? end;
        if (at >= end)
        {
            return j.CostSoFarUsd;
        }
        return at <= start ? 0 : j.CostSoFarUsd * ((at - start) / (end - start));
    }

    private static double Round(double usd) => Math.Round(usd, 4);
}

/// <summary><c>GET /api/money</c>: the caller's team's money (<see cref="MoneyView"/>).</summary>
public static class MoneyApi
{
    public static IEndpointRouteBuilder MapMoneyApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/money", MoneyAsync).RequireAuthorization().WithTags("Money")
            .WithName("GetMoney").WithSummary("The team's spend, expected total and savings");
        return app;
    }

    public static async Task<Ok<MoneyView>> MoneyAsync(ClaimsPrincipal user, [AsParameters] MarketServices services, CancellationToken cancellationToken) =>
        TypedResults.Ok(await ForTeamAsync(user.Team(), services, cancellationToken));

    public static async Task<MoneyView> ForTeamAsync(string team, MarketServices services, CancellationToken cancellationToken)
    {
        var now = services.Time.GetUtcNow();
        var jobs = await services.Store.ListAsync(new JobQuery(Team: team), cancellationToken);
        return Money.Of(jobs, await services.Prices.PricesAtAsync(now, cancellationToken), now);
    }
}
