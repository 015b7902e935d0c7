using System.Collections.Concurrent;
using System.Collections.Immutable;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Compute.Simulated;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime.Alerting;
using Spotwise.Runtime.Budgeting;
using Spotwise.Runtime.Reconciliation;
using Spotwise.Runtime.Traces;

namespace Spotwise.Runtime.Tests;

/// <summary>
/// When the service raises alerts: the real Scheduler (CP-SAT), ReconcileLoop, SQLite store and simulated cloud in virtual
/// time, with the alerts' sink recording what reaches it (delivery to webhooks is the server's, tested there).
/// </summary>
public sealed class AlertsTests : StoreTestBase
{
    private readonly RecordingSink _sink = new();
    private readonly RuntimeCounters _counters = new();

    private Alerts NewAlerts(AlertRules? rules = null) => new(_sink, rules ?? AlertRules.Default, Time);

    private sealed class RecordingSink : IAlertSink
    {
        public ConcurrentQueue<Alert> Alerts { get; } = new();

        public void Publish(Alert alert) => Alerts.Enqueue(alert);

        public List<Alert> OfKind(string kind) => [.. Alerts.Where(a => a.Kind == kind)];
    }

    [Fact]
    public async Task A_deadline_at_risk_is_raised_once_per_job_however_many_cycles_see_it()
    {
        var alerts = NewAlerts();
        var scheduler = new Scheduler(Store, new CatalogPriceFeed(Catalog), new CpSatPlanner(), new SchedulerOptions(), Time,
            NullLogger<Scheduler>.Instance, alerts: alerts);
        // Not due for an hour, so every cycle plans it again: 2 h of work (plus the 90 s boot) and 8 minutes to spare.
        var tight = P3Job("tight", hours: 2, deadlineHours: 3.2) with { EarliestStart = Now.AddHours(1) };
        var loose = P3Job("loose", hours: 2, deadlineHours: 30) with { EarliestStart = Now.AddHours(1) };
        await Store.SubmitAsync([new Submission(tight, Team, "tight"), new Submission(loose, Team, "loose")], Now, CancellationToken.None);

        await scheduler.RunCycleAsync(CancellationToken.None);
        Time.Advance(TimeSpan.FromMinutes(1));
        await scheduler.RunCycleAsync(CancellationToken.None);

        var atRisk = Assert.Single(_sink.OfKind(AlertKinds.DeadlineAtRisk));
        Assert.Equal((Team, "tight"), (atRisk.Team, atRisk.JobId));
        Assert.Contains("before its deadline", atRisk.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("ml/", atRisk.Message, StringComparison.Ordinal);
        Assert.Equal(tight.Deadline!.Value, atRisk.Figures["deadline"]);
        Assert.True((double)atRisk.Figures["slackHours"] < 0.1 * 2, $"slack {atRisk.Figures["slackHours"]}");
    }

    [Fact]
    public async Task A_budget_the_plan_commits_past_80_percent_raises_one_alert_however_many_cycles_see_it()
    {
        var alerts = NewAlerts();
        var budgets = new Budgets(Store, (IBudgetStore)Store, new Dictionary<string, BudgetLimit>(), Time);
        var scheduler = new Scheduler(Store, new CatalogPriceFeed(Catalog), new CpSatPlanner(), new SchedulerOptions(), Time,
            NullLogger<Scheduler>.Instance, budgets: budgets, alerts: alerts);
        // Not due for an hour, so every cycle plans it again and the plan commits its cost.
        var job = P3Job("big", hours: 2, deadlineHours: 30) with { EarliestStart = Now.AddHours(1) };
        await Store.SubmitAsync([new Submission(job, Team, "big")], Now, CancellationToken.None);
        await budgets.SetAsync(Team, new BudgetLimit(BudgetPeriod.Week, 1000), CancellationToken.None);
        await scheduler.RunCycleAsync(CancellationToken.None);
        var committed = (await budgets.StatusAsync(Team, CancellationToken.None))!.CommittedUsd;
        Assert.True(committed > 0, $"committed {committed}");
        Assert.Empty(_sink.OfKind(AlertKinds.BudgetThreshold));

        // The limit lowered so that the same plan commits 90% of it: one alert, however many cycles see it.
        await budgets.SetAsync(Team, new BudgetLimit(BudgetPeriod.Week, Math.Round(committed / 0.9, 2)), CancellationToken.None);
        Time.Advance(TimeSpan.FromMinutes(1));
        await scheduler.RunCycleAsync(CancellationToken.None);
        Time.Advance(TimeSpan.FromMinutes(1));
        await scheduler.RunCycleAsync(CancellationToken.None);

        var alert = Assert.Single(_sink.OfKind(AlertKinds.BudgetThreshold));
        Assert.Equal(Team, alert.Team);
        Assert.Equal(AlertSeverities.Warning, alert.Severity);
        Assert.Contains("budget for week from", alert.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_that_cannot_be_planned_before_its_deadline_is_a_critical_alert_and_a_new_episode_raises_again()
    {
        var alerts = NewAlerts();
        var scheduler = new Scheduler(Store, new CatalogPriceFeed(Catalog), new CpSatPlanner(), new SchedulerOptions(), Time,
            NullLogger<Scheduler>.Instance, alerts: alerts);
        var late = P3Job("late", hours: 5, deadlineHours: 4);
        await Store.SubmitAsync([new Submission(late, Team, "late")], Now, CancellationToken.None);

        await scheduler.RunCycleAsync(CancellationToken.None);
        await scheduler.RunCycleAsync(CancellationToken.None);
        var first = Assert.Single(_sink.OfKind(AlertKinds.DeadlineAtRisk));
        Assert.Equal(AlertSeverities.Critical, first.Severity);

        // A plan that no longer holds the job ends the episode; the next plan that has it at risk raises again.
        alerts.PlanStored(new Plan("cpsat", Now, PlanStatus.Optimal, [], [], new PlanTotals(0, 0, 0, 0, 0, 0, 0, 0, 0)),
            new PlanningProblem(Now, [], Catalog, CapacityLimits.None));
        await scheduler.RunCycleAsync(CancellationToken.None);
        Assert.Equal(2, _sink.OfKind(AlertKinds.DeadlineAtRisk).Count);
    }

    [Fact]
    public async Task A_job_interrupted_three_times_raises_one_alert_from_the_reconcile_loop()
    {
        var alerts = NewAlerts();
        // One p3.2xlarge spot instance for 40 minutes of every hour: a job of 6 h without checkpoints is taken back each hour.
        var ticks = Enumerable.Range(0, 48 * 12).Select(i => i * 5 % 60 < 40 ? 1 : 0).ToImmutableArray();
        var trace = new SpotTrace("us-east-1", "p3.2xlarge", Now, TimeSpan.FromMinutes(5), ticks);
        var feed = new TracePriceFeed(Catalog, [trace]);
        var cloud = new SimulatedCloud(new SimulatedCloudOptions { Catalog = Catalog, SpotTraces = [trace] }, Time);
        var backoff = new SpotBackoff(TimeSpan.FromMinutes(5));
        var options = new SchedulerOptions();
        var scheduler = new Scheduler(Store, feed, new CpSatPlanner(), options, Time, NullLogger<Scheduler>.Instance, _counters, backoff, alerts: alerts);
        var loop = new ReconcileLoop(Store, cloud, feed, Time, NullLogger<ReconcileLoop>.Instance, counters: _counters, backoff: backoff,
            limits: options.Limits, alerts: alerts);
        await Store.SubmitAsync([new Submission(P3Job("flaky", hours: 6, deadlineHours: 40) with { Checkpointable = false }, Team, "flaky")], Now, CancellationToken.None);

        var end = Now.AddHours(30);
        while (_counters.Interruptions < 4 && Time.GetUtcNow() < end)
        {
            await scheduler.RunCycleAsync(CancellationToken.None);
            await loop.TickAsync(CancellationToken.None);
            Time.Advance(TimeSpan.FromMinutes(1));
        }

        Assert.True(_counters.Interruptions >= 4, $"{_counters.Interruptions} interruptions in 30 h");
        var repeated = Assert.Single(_sink.OfKind(AlertKinds.RepeatedInterruptions));
        Assert.Equal((Team, "flaky", 3), (repeated.Team, repeated.JobId, (int)repeated.Figures["interruptions"]));
        Assert.Contains("p3.2xlarge", repeated.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Interruptions_are_counted_from_the_events_and_a_refused_launch_is_not_one()
    {
        JobEvent Event(JobState from, JobState to, string cause = "x") => new(Team, "j", 0, Now, from, to, cause);
        var events = new[]
        {
            Event(JobState.Launching, JobState.Running),
            Event(JobState.Running, JobState.Interrupted),
            Event(JobState.Launching, JobState.Interrupted, "spot capacity was not available"),
            Event(JobState.Running, JobState.Launching, "launching attempt 3: spot p3.2xlarge in us-east-1b" + ReconcileLoop.NoticePhrase + "i-1"),
        };

        Assert.Equal(2, InterruptionCount.Of(events));
    }

    [Fact]
    public void A_budget_threshold_is_raised_once_per_team_period_and_threshold()
    {
        var alerts = NewAlerts();

        var at85 = alerts.BudgetThreshold("ml", "week 2026-11-23", spentUsd: 85, limitUsd: 100);
        var at90 = alerts.BudgetThreshold("ml", "week 2026-11-23", spentUsd: 90, limitUsd: 100);
        var at100 = alerts.BudgetThreshold("ml", "week 2026-11-23", spentUsd: 100, limitUsd: 100);
        var at120 = alerts.BudgetThreshold("ml", "week 2026-11-23", spentUsd: 120, limitUsd: 100);
        var otherTeam = alerts.BudgetThreshold("web", "week 2026-11-23", spentUsd: 50, limitUsd: 100);
        var nextWeek = alerts.BudgetThreshold("ml", "week 2026-11-30", spentUsd: 81, limitUsd: 100);

        Assert.Equal(AlertSeverities.Warning, Assert.Single(at85).Severity);
        Assert.Equal(0.8, at85[0].Figures["threshold"]);
        Assert.Empty(at90);
        Assert.Equal((AlertSeverities.Critical, 1.0), (Assert.Single(at100).Severity, (double)at100[0].Figures["threshold"]));
        Assert.Empty(at120);
        Assert.Empty(otherTeam);
        Assert.Single(nextWeek);
        Assert.Equal(3, _sink.OfKind(AlertKinds.BudgetThreshold).Count);
    }

    [Fact]
    public void A_jump_past_the_whole_budget_raises_the_100_percent_alert_alone()
    {
        var alerts = NewAlerts();

        var raised = alerts.BudgetThreshold("ml", "day 2026-11-24", spentUsd: 110, limitUsd: 100);
        var later = alerts.BudgetThreshold("ml", "day 2026-11-24", spentUsd: 111, limitUsd: 100);

        Assert.Equal(1.0, Assert.Single(raised).Figures["threshold"]);
        Assert.Contains("$110.00 of its $100.00", raised[0].Message, StringComparison.Ordinal);
        Assert.Empty(later);
    }

    [Fact]
    public void A_planner_fallback_and_an_optimizer_timeout_are_raised_when_they_start_not_every_cycle()
    {
        var alerts = NewAlerts();
        var problem = new PlanningProblem(Now, [], Catalog, CapacityLimits.None);
        var totals = new PlanTotals(0, 0, 0, 0, 0, 5, 0, 0, 0);
        var fellBack = new Plan("llm", Now, PlanStatus.Optimal, [], [], totals)
        {
            Llm = new LlmReport { Model = "gemini/gemini-2.5-flash", Fallback = "timeout: no answer in 120 s", TimedOut = true },
        };
        var timedOut = new Plan("cpsat", Now, PlanStatus.Timeout, [], [], totals);
        var fine = new Plan("cpsat", Now, PlanStatus.Optimal, [], [], totals);

        foreach (var plan in new[] { fellBack, fellBack, fine, fellBack, timedOut, timedOut })
        {
            alerts.PlanStored(plan, problem);
        }

        var fallbacks = _sink.OfKind(AlertKinds.PlannerFallback);
        Assert.Equal(2, fallbacks.Count);
        Assert.Contains("timeout: no answer in 120 s", fallbacks[0].Message, StringComparison.Ordinal);
        Assert.Null(fallbacks[0].Team);
        Assert.Single(_sink.OfKind(AlertKinds.OptimizerTimeout));
    }
}
