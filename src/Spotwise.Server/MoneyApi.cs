using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Budgeting;

namespace Spotwise.Server;

/// <summary>A team's money: spent so far, expected in total, the same work all on-demand, and spend over time.</summary>
public sealed record MoneyView(double SpentUsd, double ExpectedTotalUsd, double OnDemandUsd, double SavingsPct, IReadOnlyList<SpendPoint> Spend)
{
    /// <summary>How much of the account's commitments the work in hand uses (<see cref="CommitmentUse"/>); absent when none are declared.</summary>
    public CommitmentUseView? Commitments { get; init; }
}

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

    private static double SpentBy(JobRecord j, DateTimeOffset at, DateTimeOffset now) => JobSpend.SpentBy(j, at, now);

    private static double Round(double usd) => Math.Round(usd, 4);
}

/// <summary>
/// The account's commitments over the day ahead (<see cref="From"/> to <see cref="To"/>), used by every team's planned and
/// running work: commitments are the account's, bought once for all teams.
/// </summary>
public sealed record CommitmentUseView(DateTimeOffset From, DateTimeOffset To, IReadOnlyList<ReservedUseView> Reserved, SavingsPlanUseView? SavingsPlan);

/// <summary>One reservation: the instance-hours of the window the work in hand runs on it, of the count × hours it has.</summary>
public sealed record ReservedUseView(string Commitment, string InstanceType, string Zone, int Count, double HourlyFeeUsd,
    double UsedInstanceHours, double AvailableInstanceHours);

/// <summary>The savings plan: the discounted spend of the window it covers, of the commitment × hours.</summary>
public sealed record SavingsPlanUseView(double CommittedUsdPerHour, double DiscountRate, double UsedUsd, double CommittedUsd);

/// <summary>
/// Commitment use, read from job records: a job placed at 0 $/h on a reserved type and zone runs on the reservation, one
/// placed at the plan's discounted price on the savings plan (<see cref="Commitments.Recognise"/>; the store keeps prices).
/// </summary>
public static class CommitmentUse
{
    /// <summary>The window the use is shown over: the day ahead, what the plan has in hand.</summary>
    public static readonly TimeSpan Window = TimeSpan.FromHours(24);

    public static readonly JobState[] Holding = [JobState.Planned, JobState.Launching, JobState.Running];

    public static CommitmentUseView? Of(IEnumerable<JobRecord> jobs, Commitments commitments, Catalog prices, DateTimeOffset now)
    {
        if (commitments.IsEmpty)
        {
            return null;
        }
        var to = now + Window;
        var hoursBy = new Dictionary<string, double>(StringComparer.Ordinal);
        var savingsPlanUsd = 0.0;
        foreach (var (offer, hours) in jobs.Where(j => Holding.Contains(j.State)).Select(j => (Offer: OfferOf(j, commitments, prices), Hours: HoursIn(j, now, to))))
        {
            if (offer?.Commitment is not { } commitment || hours <= 0)
            {
                continue;
            }
            hoursBy[commitment] = hoursBy.GetValueOrDefault(commitment) + hours;
            savingsPlanUsd += commitment == SavingsPlan.Name ? offer.PricePerHourUsd * hours : 0;
        }
        var windowHours = Window.TotalHours;
        return new CommitmentUseView(now, to,
            [.. commitments.ReservedInstances.Select(r => new ReservedUseView(r.Name, r.InstanceType, r.Zone, r.Count, r.HourlyFeeUsd,
                Math.Round(hoursBy.GetValueOrDefault(r.Name), 3), r.Count * windowHours))],
            commitments.SavingsPlan is { } plan
                ? new SavingsPlanUseView(plan.CommittedUsdPerHour, plan.DiscountRate, Math.Round(savingsPlanUsd, 4), Math.Round(plan.CommittedUsdPerHour * windowHours, 4))
                : null);
    }

    private static Offer? OfferOf(JobRecord j, Commitments commitments, Catalog prices) =>
        j.Placement is { Market: Market.OnDemand } p && prices.Find(p.InstanceType) is { } entry
            ? commitments.Recognise(prices.OfferFor(entry, Market.OnDemand) with { Zone = p.Zone }, p.PricePerHourUsd)
            : null;

    /// <summary>The hours of [now, to) the job holds its instance: from its start (or now, once running) for the work it has left.</summary>
    private static double HoursIn(JobRecord j, DateTimeOffset now, DateTimeOffset to)
    {
        var start = j.StartedAt ?? j.Placement!.PlannedStart;
        var left = j.RemainingHours - (j.StartedAt is { } s && s < now ? (now - s).TotalHours : 0);
        var from = start > now ? start : now;
        var end = from.AddHours(Math.Max(0, Math.Min(left, Window.TotalHours)));
        return Math.Max(0, ((end < to ? end : to) - from).TotalHours);
    }
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

    public static async Task<Ok<MoneyView>> MoneyAsync(ClaimsPrincipal user, [AsParameters] MarketServices services, SchedulerOptions scheduling,
        CancellationToken cancellationToken) =>
        TypedResults.Ok(await ForTeamAsync(user.Team(), services, cancellationToken, scheduling.Limits.Commitments));

    /// <summary>The team's money, and the account's <paramref name="commitments"/> in use (when any are declared).</summary>
    public static async Task<MoneyView> ForTeamAsync(string team, MarketServices services, CancellationToken cancellationToken,
        Commitments? commitments = null)
    {
        var now = services.Time.GetUtcNow();
        var jobs = await services.Store.ListAsync(new JobQuery(Team: team), cancellationToken);
        var prices = await services.Prices.PricesAtAsync(now, cancellationToken);
        var money = Money.Of(jobs, prices, now);
        if (commitments is null || commitments.IsEmpty)
        {
            return money;
        }
        var holding = await services.Store.ListAsync(new JobQuery(States: CommitmentUse.Holding), cancellationToken);
        return money with { Commitments = CommitmentUse.Of(holding, commitments, prices, now) };
    }
}
