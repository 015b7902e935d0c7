using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Planning;
using Spotwise.Runtime.Alerting;
using Spotwise.Runtime.Budgeting;

namespace Spotwise.Runtime.Tests;

/// <summary>What a planning cycle reads from the store: the ended jobs once, bounded by the first moment anything looks back to.</summary>
public sealed class CycleReadsTests : StoreTestBase
{
    private static readonly JobState[] FinalStates = [JobState.Succeeded, JobState.Failed, JobState.Cancelled];

    [Fact]
    public async Task A_cycle_reads_ended_jobs_once_bounded_by_the_fair_share_window_and_the_budget_periods()
    {
        // Now is Tuesday 2026-11-24 12:00: team ml's weekly budget looks back to Monday 00:00, team cv's daily one to
        // today 00:00, fair share 24 h to Monday 12:00. 300 jobs ended ten days ago count in none of them.
        await EndedJobsAsync("old", 300, Now.AddDays(-10));
        await EndedJobsAsync("recent", 5, Now.AddHours(-2));
        await Store.SubmitAsync([new Submission(P3Job("a", 1, 48), "ml", "{}"), new Submission(P3Job("b", 1, 48), "cv", "{}")], Now, CancellationToken.None);
        var counting = new CountingStore(Store);
        // The recent jobs spent $5 of ml's $6: the alert at 80% comes from the same snapshot.
        var limits = new Dictionary<string, BudgetLimit> { ["ml"] = new(BudgetPeriod.Week, 6), ["cv"] = new(BudgetPeriod.Day, 1000) };
        var budgets = new Budgets(counting, null, limits, Time);
        var sink = new ListSink();
        var alerts = new Alerts(sink, AlertRules.Default, Time);
        var scheduler = new Scheduler(counting, new CatalogPriceFeed(Catalog), new GreedyPlanner(), new SchedulerOptions(), Time,
            NullLogger<Scheduler>.Instance, budgets: budgets, alerts: alerts);

        var plan = await scheduler.RunCycleAsync(CancellationToken.None);

        Assert.NotNull(plan);
        Assert.Equal(2, plan.Totals.JobsPlanned + plan.Totals.JobsUnplanned);
        Assert.Contains(sink.Alerts, a => a.Kind == AlertKinds.BudgetThreshold && a.Team == "ml");
        // Every listing that can return ended jobs: exactly one, bounded, and it returned only the recent ones.
        var ended = counting.Reads.Where(r => r.Query.States is null || r.Query.States.Any(FinalStates.Contains)).ToList();
        var read = Assert.Single(ended);
        Assert.Equal(new DateTimeOffset(2026, 11, 23, 0, 0, 0, TimeSpan.Zero), read.Query.FinishedSince);
        Assert.Equal(5, read.Returned);
    }

    [Fact]
    public async Task A_cycle_with_one_team_waiting_and_no_budgets_reads_no_ended_jobs()
    {
        await EndedJobsAsync("old", 20, Now.AddHours(-1));
        await Store.SubmitAsync([new Submission(P3Job("a", 1, 48), "ml", "{}")], Now, CancellationToken.None);
        var counting = new CountingStore(Store);

        await new Scheduler(counting, new CatalogPriceFeed(Catalog), new GreedyPlanner(), new SchedulerOptions(), Time, NullLogger<Scheduler>.Instance)
            .RunCycleAsync(CancellationToken.None);

        Assert.DoesNotContain(counting.Reads, r => r.Query.States is null || r.Query.States.Any(FinalStates.Contains));
    }

    /// <summary><paramref name="count"/> jobs of team ml that ran an hour and failed at <paramref name="at"/>.</summary>
    private async Task EndedJobsAsync(string prefix, int count, DateTimeOffset at)
    {
        var jobs = Enumerable.Range(0, count).Select(i => new Submission(P3Job($"{prefix}-{i}", 1, 48), "ml", "{}")).ToList();
        var records = (await Store.SubmitAsync(jobs, at.AddHours(-2), CancellationToken.None)).Select(r => r.Record!).ToList();
        await Store.TryUpdateManyAsync([.. records.Select(r => (r with { State = JobState.Failed, StartedAt = at.AddHours(-1), FinishedAt = at, CostSoFarUsd = 1 }, "ended"))],
            at, CancellationToken.None);
    }

    private sealed class ListSink : IAlertSink
    {
        public ConcurrentQueue<Alert> Alerts { get; } = new();

        public void Publish(Alert alert) => Alerts.Enqueue(alert);
    }

    /// <summary>The real store, remembering every listing and how many jobs it returned.</summary>
    private sealed class CountingStore(IJobStore inner) : ForwardingJobStore(inner)
    {
        public ConcurrentQueue<(JobQuery Query, int Returned)> Reads { get; } = new();

        public override async Task<IReadOnlyList<JobRecord>> ListAsync(JobQuery query, CancellationToken cancellationToken)
        {
            var result = await Inner.ListAsync(query, cancellationToken);
            Reads.Enqueue((query, result.Count));
            return result;
        }
    }
}
