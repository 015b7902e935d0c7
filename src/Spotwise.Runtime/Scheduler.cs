using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Planning;
using Spotwise.Runtime.Alerting;
using Spotwise.Runtime.History;

namespace Spotwise.Runtime;

/// <summary>How the scheduler plans.</summary>
public sealed record SchedulerOptions
{
    public CapacityLimits Limits { get; init; } = CapacityLimits.Default;

    /// <summary>
    /// The planning model's knobs, the launch allowance among them: by default a cloud's boot
    /// (<see cref="PlanningSettings.CloudLaunchAllowance"/>), the simulated cloud's launch delay; zero for the local
    /// backend, whose processes start at once. Without it, jobs planned to end exactly at their deadline missed it by the
    /// boot time (docs/simulation.md).
    /// </summary>
    public PlanningSettings Settings { get; init; } = PlanningSettings.Default with { LaunchAllowance = PlanningSettings.CloudLaunchAllowance };

    public SolveOptions Solve { get; init; } = SolveOptions.Default with { TimeLimit = TimeSpan.FromSeconds(5) };

    /// <summary>How contested capacity is shared between teams; null plans without fair share.</summary>
    public FairShareSettings? FairShare { get; init; } = new();
}

/// <summary>
/// One planning cycle: every job not yet launched is planned again with the prices of the moment, around the
/// capacity that launched jobs hold. The plan document is stored in one write; the placements follow atomically job
/// by job (each update guarded by the job's version, so a cancel that lands meanwhile wins), in transactions of at
/// most <see cref="ApplyChunkSize"/> jobs. A plan the validator rejects is never applied.
/// </summary>
/// <remarks>
/// Why chunks: SQLite has one writer at a time, and a submission waits for the write in progress before it is
/// acknowledged. One transaction for 40,000 placements held submissions for seconds (docs/benchmarks.md); a chunk
/// holds them for milliseconds. A crash between chunks leaves some jobs on their previous placement, which is as
/// valid as before: every planned job is planned again by the next cycle until it is due.
/// <para>
/// Job ids are a team's own, but the planner (and the plan it returns) needs them unique: it is handed each job under
/// its key's text, <c>team/id</c> (<see cref="PlanningId"/>), with its prerequisites named the same way, so the plan,
/// the stored plan document and its reasons all name jobs as <c>team/id</c>.
/// </para>
/// </remarks>
public sealed partial class Scheduler(
    IJobStore store, IPriceFeed prices, IPlanner planner, SchedulerOptions options, TimeProvider time, ILogger<Scheduler> logger,
    RuntimeCounters? counters = null, SpotBackoff? backoff = null, LearnedLimits? learned = null, Budgeting.Budgets? budgets = null,
    Alerts? alerts = null, RunHistoryTracker? history = null, PoolInterruptionTracker? pools = null)
{
    private static readonly JobState[] Unlaunched = [JobState.Queued, JobState.Planned];
    private static readonly JobState[] Launched = [JobState.Launching, JobState.Running];

    /// <summary>The most placements written in one store transaction.</summary>
    public const int ApplyChunkSize = 100;

    public async Task<Plan?> RunCycleAsync(CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        try
        {
            return await CycleAsync(cancellationToken);
        }
        finally
        {
            counters?.CycleDone(time.GetElapsedTime(started));
        }
    }

    private async Task<Plan?> CycleAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var catalog = await PricesAsync(now, cancellationToken);
        var read = await store.ListAsync(new JobQuery(States: Unlaunched), cancellationToken);
        var launched = await store.ListAsync(new JobQuery(States: Launched), cancellationToken);
        // A job launched between the two reads is in both: it is launched (its planned copy is stale).
        var launchedKeys = launched.Select(j => j.Key).ToHashSet();
        var waiting = read.Where(j => !launchedKeys.Contains(j.Key)).ToList();
        // Jobs due to launch keep their place: re-planning them could race the reconciler's launch.
        var (due, open) = Split(waiting, now);
        open = await FailDoomedAsync(open, [.. launched, .. due], now, cancellationToken);
        if (open.Count == 0)
        {
            return null;
        }
        var runs = history is null ? RunHistory.Empty : await history.RefreshAsync(store, now, cancellationToken);
        var limits = budgets is null ? null : await budgets.LimitsAsync(cancellationToken);
        var fairWindow = FairShareWindow(open);
        // One bounded read of ended jobs serves fair share, the budgets and their alerts.
        var jobs = await CycleJobs.ReadAsync(store, [.. waiting, .. launched],
            CycleJobs.Earliest(now - fairWindow, Budgeting.Budgets.EarliestPeriodStart(limits, now)), cancellationToken);
        var fairShare = FairShareOf(now, fairWindow, open, launched, jobs);
        var problem = Problem(now, catalog, open, [.. launched, .. due], runs) with { FairShare = fairShare };
        if (limits is not null)
        {
            // Each team's budget binds what this cycle plans, after what has run and what launched jobs still commit.
            problem = problem with { Budgets = Budgeting.Budgets.ForPlanning(limits, [.. launched, .. due], jobs.All, now) };
        }
        var (plan, quarantined) = await ContainedPlanning.SolveAsync(planner, problem, options.Solve, cancellationToken);
        if (quarantined.Count > 0)
        {
            LogQuarantined(quarantined.Count, string.Join("; ", quarantined.Take(5).Select(q => $"{q.Key}: {q.Value}")));
            await FailAsync(open.Where(j => quarantined.ContainsKey(PlanningId(j))).Select(j => (j, quarantined[PlanningId(j)])), now, cancellationToken);
        }
        if (plan is null)
        {
            LogNoPlan(open.Count - quarantined.Count);
            return null;
        }
        var violations = PlanValidator.Validate(plan, problem);
        if (violations.Count > 0)
        {
            var firstFew = string.Join("; ", violations.Take(5));
            LogInvalidPlan(plan.Planner, violations.Count, firstFew);
            return null;
        }
        await store.SavePlanAsync(PlanDocument.From(plan), now, cancellationToken);
        counters?.PlanStored(plan.Totals);
        alerts?.PlanStored(plan, problem);
        var applied = await ApplyAsync(plan, open, now, cancellationToken);
        RaiseBudgetAlerts(limits, jobs.With(applied), now);
        LogCycle(plan.Planner, plan.Status, plan.Totals.JobsPlanned, plan.Totals.JobsUnplanned, plan.Totals.ExpectedCostUsd, plan.Totals.SolveSeconds);
        return plan;
    }

    /// <summary>
    /// The feed's prices, each spot pool at the interruption rate its own history taught where it has enough
    /// (<see cref="PoolInterruptionHistory"/>): every planner prices spot from the catalog's offers, so all of them see it.
    /// </summary>
    private async Task<Catalog> PricesAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var catalog = await prices.PricesAtAsync(now, cancellationToken);
        return pools is null ? catalog : (await pools.RefreshAsync(store, now, cancellationToken)).Apply(catalog);
    }

    /// <summary>
    /// A budget at 80% and 100% is news: after the plan is applied, each budgeted team's spend as the issue counts it
    /// (what ran plus what the plan now commits, from the cycle's jobs with the plan's placements) goes to
    /// <see cref="Alerts.BudgetThreshold"/>, which raises each threshold once per team and period.
    /// </summary>
    private void RaiseBudgetAlerts(IReadOnlyDictionary<string, Budgeting.BudgetLimit>? limits, CycleJobs jobs, DateTimeOffset now)
    {
        if (alerts is null || limits is null)
        {
            return;
        }
        foreach (var b in Budgeting.Budgets.Statuses(limits, jobs.All, now))
        {
            var period = string.Create(CultureInfo.InvariantCulture, $"{Budgeting.BudgetPeriods.ToWire(b.Period)} from {b.PeriodStart:yyyy-MM-dd}");
            alerts.BudgetThreshold(b.Team, period, b.SpentUsd + b.CommittedUsd, b.LimitUsd);
        }
    }

    /// <summary>
    /// The window fair share measures use over, or null when it is off or fewer than two teams wait: one team alone has
    /// nobody to share with, and ended jobs need not be read for it.
    /// </summary>
    private TimeSpan? FairShareWindow(List<JobRecord> open) =>
        options.FairShare is { } settings && open.Select(j => j.Team).Distinct(StringComparer.Ordinal).Count() >= 2
            ? TimeSpan.FromHours(settings.WindowHours) : null;

    /// <summary>The fair-share figures of this cycle: each waiting team's use of the window, from the launched and ended jobs.</summary>
    private FairShare? FairShareOf(DateTimeOffset now, TimeSpan? window, List<JobRecord> open, IReadOnlyList<JobRecord> launched, CycleJobs jobs)
    {
        if (window is not { } length || options.FairShare is not { } settings)
        {
            return null;
        }
        var used = TeamUsage.Measure([.. launched, .. jobs.Ended], now, length, committed: true);
        return TeamUsage.For(settings, open.Select(j => j.Team), used);
    }

    /// <summary>
    /// Fails the waiting jobs that can never run, with the reason: their prerequisites failed, were cancelled, are gone or
    /// form a cycle (and so do the jobs waiting on those), or their numbers break the intake's bounds. Returns the rest.
    /// </summary>
    private async Task<List<JobRecord>> FailDoomedAsync(List<JobRecord> open, List<JobRecord> holding, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var find = await Prerequisites.FinderAsync(store, open, open.Concat(holding).ToDictionary(j => j.Key), cancellationToken);
        var doomed = Prerequisites.Doomed(open, find);
        foreach (var job in open)
        {
            // Jobs stored before the intake's bounds: numbers no plan can be built from.
            if (!doomed.ContainsKey(job.Key) && JobBounds.Violation(job.Job, now) is { } why)
            {
                doomed[job.Key] = "quarantined: " + why;
            }
        }
        if (doomed.Count == 0)
        {
            return open;
        }
        await FailAsync(open.Where(j => doomed.ContainsKey(j.Key)).Select(j => (j, doomed[j.Key])), now, cancellationToken);
        return [.. open.Where(j => !doomed.ContainsKey(j.Key))];
    }

    /// <summary>Fails jobs that can never run, with the reason, in chunks (a job changed meanwhile keeps its change).</summary>
    private async Task FailAsync(IEnumerable<(JobRecord Job, string Reason)> failures, DateTimeOffset now, CancellationToken cancellationToken)
    {
        foreach (var chunk in failures.Select(f => JobTransitions.Fail(f.Job, f.Reason, now).AsUpdate).Chunk(ApplyChunkSize))
        {
            await store.TryUpdateManyAsync(chunk, now, cancellationToken);
        }
    }

    private static (List<JobRecord> Due, List<JobRecord> Open) Split(IReadOnlyList<JobRecord> waiting, DateTimeOffset now)
    {
        var due = waiting.Where(j => j.State == JobState.Planned && j.Placement!.PlannedStart <= now).ToList();
        return (due, [.. waiting.Except(due)]);
    }

    private PlanningProblem Problem(DateTimeOffset now, Catalog catalog, List<JobRecord> open, List<JobRecord> holding, RunHistory runs)
    {
        var openKeys = open.Select(j => j.Key).ToHashSet();
        var holdingEnds = holding.ToDictionary(j => j.Key, j => ExpectedEnd(j, now, options.Settings.LaunchAllowance));
        var jobs = open.Select(r => ForPlanning(r, openKeys, holdingEnds, runs)).ToImmutableArray();
        // A held spot instance draws on its own zone's pool, whatever the zone sells now; a held on-demand instance on a
        // commitment (known by the price it was placed at) holds its reserved instance or its share of the savings plan.
        var reservations = holding.Where(j => j.Placement is not null && catalog.Find(j.Placement.InstanceType) is not null)
            .Select(j => new CapacityReservation(PlanningId(j), options.Limits.Commitments.Recognise(
                catalog.OfferFor(catalog.Find(j.Placement!.InstanceType)!, j.Placement.Market) with { Zone = j.Placement.Zone }, j.Placement.PricePerHourUsd),
                now, holdingEnds[j.Key]))
            .ToImmutableArray();
        return new PlanningProblem(now, jobs, catalog, LimitsAt(catalog, now), options.Settings) { Reservations = reservations };
    }

    /// <summary>
    /// The limits a cycle plans with at <paramref name="now"/>: what the feed says each spot zone holds bounds its pool; a
    /// zone that just refused holds nothing, and a quota class the cloud refused for holds what ran in it then.
    /// </summary>
    public CapacityLimits LimitsAt(Catalog catalog, DateTimeOffset now)
    {
        var available = options.Limits.WithSpotAvailable(catalog);
        var backedOff = backoff?.Apply(available, now) ?? available;
        return learned?.Apply(backedOff, catalog, now) ?? backedOff;
    }

    /// <summary>The id a job has in the planning problem and the plan: its key's text, unique across teams.</summary>
    public static string PlanningId(JobRecord record) => record.Key.ToString();

    /// <summary>
    /// The job as the planner sees it now: under its <see cref="PlanningId"/>, only the work left (the planner adds the
    /// launch allowance: <see cref="PlanningSettings.AsPlanned"/>), and only the prerequisites not yet done (a job depends on jobs of its own team). A prerequisite that
    /// is running pushes the earliest start to its expected end. The work left is what its team's history says such a
    /// job really runs (<see cref="RunHistory"/>); the stored job keeps its estimate as submitted.
    /// </summary>
    private static Job ForPlanning(JobRecord r, HashSet<JobKey> openKeys, Dictionary<JobKey, DateTimeOffset> holdingEnds, RunHistory runs)
    {
        var prerequisites = r.PrerequisiteKeys.ToList();
        var earliest = r.Job.EarliestStart;
        foreach (var dep in prerequisites.Where(holdingEnds.ContainsKey))
        {
            earliest = earliest is { } e && e > holdingEnds[dep] ? e : holdingEnds[dep];
        }
        return r.Job with
        {
            Id = PlanningId(r),
            // The planner binds each team's budget by the job's team.
            Team = r.Team,
            DurationHours = Math.Max(runs.EstimateFor(r).UsedHours, 1.0 / 60),
            EarliestStart = earliest,
            DependsOn = [.. prerequisites.Where(openKeys.Contains).Select(k => k.ToString())],
        };
    }

    /// <summary>The work a job is planned with: what is left of it, at least a minute (a job is never planned as done).</summary>
    public static double WorkLeftHours(JobRecord r) => Math.Max(r.RemainingHours, 1.0 / 60);

    /// <summary>When a launched or due job is expected to free its capacity: one not yet running boots first (the allowance), as planned.</summary>
    public static DateTimeOffset ExpectedEnd(JobRecord j, DateTimeOffset now, TimeSpan launchAllowance)
    {
        var start = j.StartedAt ?? (j.Placement?.PlannedStart ?? now) + launchAllowance;
        var hours = j.RemainingHours - (j.StartedAt is { } s && s < now ? (now - s).TotalHours : 0);
        // Stored jobs predate today's bounds: a job of 1e15 hours must not overflow the calendar and stop every cycle.
        var end = (start > now ? start : now).AddHours(Math.Min(hours, MaxHoldingHours));
        return end > now ? end : now.AddMinutes(1);
    }

    /// <summary>The longest a running job is taken to hold its capacity: ten years, far past any deadline the intake takes.</summary>
    private const double MaxHoldingHours = 10 * 8760;

    /// <summary>
    /// The plan's placements and refusals, written in chunks; a job changed meanwhile keeps its change. Returns the
    /// records the plan changed, as it left them.
    /// </summary>
    private async Task<List<JobRecord>> ApplyAsync(Plan plan, List<JobRecord> open, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var byPlanningId = open.ToDictionary(PlanningId, StringComparer.Ordinal);
        var updates = new List<(JobRecord Updated, string Cause)>();
        foreach (var a in plan.Schedule)
        {
            var record = byPlanningId[a.JobId];
            var placement = new Placement(a.Market, a.Offer.InstanceType.Name, a.Offer.Zone, a.Start, a.Offer.PricePerHourUsd, a.ExpectedCostUsd, a.FallbackAt)
            {
                Provider = a.Offer.Provider,
            };
            if (record.State != JobState.Planned || record.Placement != placement)
            {
                updates.Add(JobTransitions.Plan(record, placement, JobKey.ForTeam(a.Reason, record.Team)).AsUpdate);
            }
        }
        foreach (var u in plan.Unplanned)
        {
            var record = byPlanningId[u.JobId];
            var reason = JobKey.ForTeam(u.Reason, record.Team);
            if (record.State != JobState.Queued || record.LastError != reason)
            {
                updates.Add(JobTransitions.Unplan(record, reason).AsUpdate);
            }
        }
        foreach (var chunk in updates.Chunk(ApplyChunkSize))
        {
            await store.TryUpdateManyAsync(chunk, now, cancellationToken);
        }
        return [.. updates.Select(u => u.Updated)];
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Planning threw for {Count} job(s); they are failed with the reason and the rest is planned: {Jobs}")]
    private partial void LogQuarantined(int count, string jobs);

    [LoggerMessage(Level = LogLevel.Error, Message = "Planning threw for {Count} job(s) together although each plans alone; no plan this cycle")]
    private partial void LogNoPlan(int count);

    [LoggerMessage(Level = LogLevel.Error, Message = "The {Planner} planner produced a plan with {Count} violations; it is not applied: {Violations}")]
    private partial void LogInvalidPlan(string planner, int count, string violations);

    [LoggerMessage(Level = LogLevel.Information, Message = "Planned with {Planner}: {Status}, {Planned} planned, {Unplanned} unplanned, expected {CostUsd:0.00} USD in {Seconds:0.00} s")]
    private partial void LogCycle(string planner, PlanStatus status, int planned, int unplanned, double costUsd, double seconds);
}
