using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;
using Spotwise.Runtime.Budgeting;
using Spotwise.Runtime.History;
using Spotwise.Runtime.Intake;

namespace Spotwise.Server.Dashboard;

/// <summary>Everything the overview page shows, for one team, read through the API's own handlers and queries.</summary>
public sealed record Overview(
    string Team,
    DateTimeOffset Now,
    IReadOnlyDictionary<JobState, int> Counts,
    IReadOnlyList<JobView> Jobs,
    IDictionary<string, string[]> FilterErrors,
    MoneyView Money,
    PlanDocument? Plan,
    IReadOnlyList<JobView> Timeline,
    TimelineScale Window,
    IReadOnlyList<Series> Prices,
    IReadOnlyList<Series> Availability,
    RuntimeCounters Counters)
{
    /// <summary>The team's dollar budget now, when it has one (read through <see cref="BudgetsApi"/>).</summary>
    public BudgetView? Budget { get; init; }
}

/// <summary>A named line of (time, value) points for a chart: <see cref="Css"/> says spot (solid) or on-demand (dashed),
/// <see cref="Color"/> which instance type.</summary>
public sealed record Series(string Name, string Css, IReadOnlyList<(DateTimeOffset At, double Value)> Points, string Color = "#2b6cb0");

/// <summary>
/// Reads the dashboard's data for the signed-in team. Jobs, one job and cancel go through <see cref="JobsApi"/>'s
/// handlers and money through <see cref="MoneyApi"/>, so a page never shows a figure the API would not.
/// </summary>
public sealed class DashboardData(
    IJobStore store, TimeProvider time, JobIntake intake, IPriceFeed prices, ICompute compute,
    RuntimeCounters counters, ReplayedTraces traces, SchedulerOptions scheduling, Budgets? budgets = null, RunHistoryTracker? history = null)
{
    /// <summary>The timeline draws at most this many jobs (the soonest); the table lists them all.</summary>
    public const int TimelineRows = 40;

    /// <summary>Jobs that ran stay on the timeline this long after they ended, so a demo shows the plan being carried out.</summary>
    public static readonly TimeSpan RecentlyEnded = TimeSpan.FromHours(2);

    private const int ChartPoints = 48;
    private const int ChartedTypes = 4;

    /// <summary>One colour per charted instance type (spot solid, on-demand dashed in the same colour).</summary>
    private static readonly string[] TypeColors = ["#2b6cb0", "#dd6b20", "#2f855a", "#805ad5"];

    private static readonly JobState[] OnTimeline = [JobState.Planned, JobState.Launching, JobState.Running, JobState.Interrupted];

    public JobsServices Jobs { get; } = new(store, intake, time, history);

    public MarketServices Market { get; } = new(prices, compute, store, time);

    public async Task<Overview> OverviewAsync(ClaimsPrincipal user, string? state, CancellationToken ct)
    {
        var team = user.Team();
        var now = time.GetUtcNow();
        var listed = (await JobsApi.ListAsync(user, Jobs, ct, state)).Result;
        var jobs = listed is Ok<IReadOnlyList<JobView>> ok ? ok.Value! : [];
        var errors = listed is ValidationProblem bad ? bad.ProblemDetails.Errors : new Dictionary<string, string[]>();
        var all = state is null ? jobs : await AllAsync(user, ct);
        var timeline = await TimelineAsync(user, all, now, ct);
        var window = TimelineScale.Around(now, timeline.SelectMany(j => new[] { j.PlannedEnd, j.Deadline }).OfType<DateTimeOffset>(), 0, 1);
        var inUse = all.Where(j => j.InstanceType is not null && !IsFinal(j)).Select(j => j.InstanceType!).Distinct(StringComparer.Ordinal).Take(ChartedTypes).ToList();
        return new Overview(
            team, now, await store.CountByStateAsync(team, ct), jobs, errors, await MoneyApi.ForTeamAsync(team, Market, ct, scheduling.Limits.Commitments),
            await PlanApi.TeamPlanAsync(store, team, ct), timeline, window, await PriceSeriesAsync(inUse, window, ct), AvailabilitySeries(window), counters)
        {
            Budget = await BudgetAsync(user, team, ct),
        };
    }

    /// <summary>The team's budget as <c>GET /api/teams/{team}/budget</c> answers it; null without one.</summary>
    private async Task<BudgetView?> BudgetAsync(ClaimsPrincipal user, string team, CancellationToken ct) =>
        budgets is not null && (await BudgetsApi.GetAsync(team, user, new BudgetServices(budgets), ct)).Result is Ok<BudgetView> ok ? ok.Value : null;

    /// <summary>One job with its events, or null when the team has no such job (another team's job is not found, as in the API).</summary>
    public async Task<JobView?> JobAsync(ClaimsPrincipal user, string id, CancellationToken ct) =>
        (await JobsApi.GetAsync(id, user, Jobs, ct)).Result is Ok<JobView> ok ? ok.Value : null;

    private async Task<IReadOnlyList<JobView>> AllAsync(ClaimsPrincipal user, CancellationToken ct) =>
        (await JobsApi.ListAsync(user, Jobs, ct)).Result is Ok<IReadOnlyList<JobView>> ok ? ok.Value! : [];

    /// <summary>
    /// The placed, unfinished jobs and those that ran and ended in the last <see cref="RecentlyEnded"/>, soonest first,
    /// each with its events (interruptions and fallbacks are drawn).
    /// </summary>
    private async Task<IReadOnlyList<JobView>> TimelineAsync(ClaimsPrincipal user, IReadOnlyList<JobView> jobs, DateTimeOffset now, CancellationToken ct)
    {
        var placed = jobs.Where(j => j.PlannedStart is not null && OnTimeline.Any(s => s.ToWire() == j.State)
                || (j.StartedAt is not null && j.FinishedAt >= now - RecentlyEnded))
            .OrderBy(j => j.StartedAt ?? j.PlannedStart).ThenBy(j => j.JobId, StringComparer.Ordinal).Take(TimelineRows);
        var rows = new List<JobView>();
        foreach (var job in placed)
        {
            rows.Add(await JobAsync(user, job.JobId, ct) ?? job);
        }
        return rows;
    }

    /// <summary>Spot and on-demand price over the window for the instance types in use, from the price feed.</summary>
    private async Task<IReadOnlyList<Series>> PriceSeriesAsync(List<string> types, TimelineScale window, CancellationToken ct)
    {
        if (types.Count == 0)
        {
            return [];
        }
        var times = Samples(window);
        var catalogs = new List<Catalog>(times.Count);
        foreach (var at in times)
        {
            catalogs.Add(await prices.PricesAtAsync(at, ct));
        }
        var series = new List<Series>();
        foreach (var (type, i) in types.Select((t, i) => (t, i)))
        {
            series.Add(Line($"{type} spot", "spot", times, catalogs, c => c.Find(type)?.SpotPricePerHourUsd) with { Color = TypeColors[i] });
            series.Add(Line($"{type} on-demand", "on-demand", times, catalogs, c => c.Find(type)?.OnDemandPricePerHourUsd) with { Color = TypeColors[i] });
        }
        return series;
    }

    /// <summary>Spot capacity available over the window in each replayed trace.</summary>
    private IReadOnlyList<Series> AvailabilitySeries(TimelineScale window) =>
        [.. traces.Traces.Select(t => new Series($"{t.InstanceType} in {t.Zone}", "spot", [.. Samples(window)
            .Where(at => at >= t.StartTime && at < t.EndTime).Select(at => (at, (double)t.AvailableAt(at)))]))];

    private static Series Line(string name, string css, IReadOnlyList<DateTimeOffset> times, List<Catalog> catalogs, Func<Catalog, double?> price) =>
        new(name, css, [.. times.Zip(catalogs).Where(p => price(p.Second) is not null).Select(p => (p.First, price(p.Second)!.Value))]);

    private static List<DateTimeOffset> Samples(TimelineScale window) =>
        [.. Enumerable.Range(0, ChartPoints).Select(i => window.From + ((window.To - window.From) * i / (ChartPoints - 1)))];

    private static bool IsFinal(JobView j) => JobStates.TryParse(j.State, out var s) && s.IsFinal();
}
