using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime.History;

namespace Spotwise.Runtime.Tests.History;

/// <summary>The planning cycle with a run history, on a real SQLite store and CP-SAT: finished jobs change the next plans, never the jobs.</summary>
public sealed class SchedulerHistoryTests : StoreTestBase
{
    private static CancellationToken Ct => CancellationToken.None;

    private static readonly TimeSpan Allowance = TimeSpan.FromMinutes(2);

    /// <summary>No shrinkage (the prior counts as no job), so the plan's figure is the history's own; read again every cycle.</summary>
    private readonly RunHistoryTracker _history = new(RunHistoryOptions.Default with { PriorWeight = 0, RefreshEvery = TimeSpan.Zero });

    private Scheduler Scheduler() => new(Store, new CatalogPriceFeed(Catalog), new CpSatPlanner(),
        new SchedulerOptions { Settings = PlanningSettings.Default with { LaunchAllowance = Allowance } }, Time, NullLogger<Scheduler>.Instance,
        history: _history);

    private async Task SubmitAsync(string team, Job job) =>
        await Store.SubmitAsync([new Submission(job, team, $"{{\"jobId\":\"{job.Id}\"}}")], Time.GetUtcNow(), Ct);

    /// <summary>A job of <paramref name="team"/> estimated at one hour that ran <paramref name="ranHours"/> on its first attempt, moved through the store's states.</summary>
    private async Task FinishedAsync(string team, string id, double ranHours)
    {
        await SubmitAsync(team, P3Job(id, 1, 48));
        var key = new JobKey(team, id);
        var started = Now.AddHours(-10);
        await MoveAsync(key, r => r with { State = JobState.Planned, Placement = new Placement(Market.OnDemand, "p3.2xlarge", "us-east-1", started, 3.06, 3.06, null) });
        await MoveAsync(key, r => r with { State = JobState.Launching, Attempt = 1 });
        await MoveAsync(key, r => r with { State = JobState.Running, StartedAt = started });
        await MoveAsync(key, r => r with { State = JobState.Succeeded, FinishedAt = started.AddHours(ranHours), DoneHours = 1 });
    }

    private async Task MoveAsync(JobKey key, Func<JobRecord, JobRecord> change) =>
        Assert.NotNull(await Store.TryUpdateAsync(change((await Store.GetAsync(key, Ct))!), "test history", Now, Ct));

    /// <summary>How long <paramref name="plan"/> runs the job, less the launch allowance the planner adds.</summary>
    private static double PlannedHours(Plan? plan, string team, string id)
    {
        var a = plan!.Schedule.Single(s => s.JobId == new JobKey(team, id).ToString());
        return Math.Round((a.End - a.Start - Allowance).TotalHours, 3);
    }

    [Fact]
    public async Task A_team_whose_jobs_ran_twice_as_long_gets_plans_twice_as_long_once_the_sample_is_reached()
    {
        for (var i = 0; i < 4; i++)
        {
            await FinishedAsync("ml", $"past-{i}", ranHours: 2);
        }
        await SubmitAsync("ml", P3Job("before", 1, 48));
        Assert.Equal(1, PlannedHours(await Scheduler().RunCycleAsync(Ct), "ml", "before"));

        await FinishedAsync("ml", "past-4", ranHours: 2);
        await SubmitAsync("ml", P3Job("after", 1, 48));
        await SubmitAsync("analytics", P3Job("theirs", 1, 48));
        var plan = await Scheduler().RunCycleAsync(Ct);

        Assert.Equal(2, PlannedHours(plan, "ml", "after"));
        // Another team's history is its own; the jobs keep their estimates as submitted.
        Assert.Equal(1, PlannedHours(plan, "analytics", "theirs"));
        Assert.Equal(1, (await Get("after"))!.Job.DurationHours);
        Assert.Equal(new RuntimeEstimate(1, 2, 2, 5), _history.Current.EstimateFor((await Get("after"))!));
    }

    [Fact]
    public async Task A_longer_estimate_that_no_longer_fits_the_deadline_is_reported_not_planned_short()
    {
        for (var i = 0; i < 5; i++)
        {
            await FinishedAsync("ml", $"past-{i}", ranHours: 3);
        }
        // One hour as submitted, due in two: the history says three hours.
        await SubmitAsync("ml", P3Job("tight", 1, 2));

        var plan = (await Scheduler().RunCycleAsync(Ct))!;

        Assert.DoesNotContain(plan.Schedule, a => a.JobId == "ml/tight");
        Assert.Contains("3 h of work", Assert.Single(plan.Unplanned, u => u.JobId == "ml/tight").Reason, StringComparison.Ordinal);
        var tight = (await Get("tight"))!;
        Assert.Equal(JobState.Queued, tight.State);
        Assert.Contains("cannot be met: 3 h of work", tight.LastError, StringComparison.Ordinal);
    }
}
