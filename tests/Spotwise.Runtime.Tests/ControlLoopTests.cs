using System.Collections.Immutable;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Compute.Simulated;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime.Reconciliation;
using Spotwise.Runtime.Traces;

namespace Spotwise.Runtime.Tests;

/// <summary>
/// The whole control loop in virtual time: the real Scheduler (CP-SAT), ReconcileLoop, SQLite store and simulated
/// cloud, hours played in milliseconds.
/// </summary>
public sealed class ControlLoopTests : StoreTestBase
{
    private readonly RuntimeCounters _counters = new();
    private readonly SpotBackoff _backoff = new();

    /// <summary>p3.2xlarge spot in us-east-1: one instance available for <paramref name="availableHours"/>, then none.</summary>
    private static SpotTrace P3Spot(double availableHours)
    {
        var ticks = Enumerable.Range(0, 48 * 12).Select(i => i * 5.0 / 60 < availableHours ? 1 : 0).ToImmutableArray();
        return new SpotTrace("us-east-1", "p3.2xlarge", Now, TimeSpan.FromMinutes(5), ticks);
    }

    /// <summary>The service's parts on this test's store and clock: the simulated cloud replaying <paramref name="trace"/>.</summary>
    /// <param name="trace">The spot pool the cloud replays.</param>
    /// <param name="loopLimits">The capacity the reconcile loop's fallback sees, when it is not what the plan saw.</param>
    private (SimulatedCloud Cloud, Scheduler Scheduler, ReconcileLoop Loop) Service(SpotTrace trace, CapacityLimits? loopLimits = null)
    {
        // The feed knows the capacity the cloud replays, as the service's trace feed does: the spot policy waits on it.
        var feed = new TracePriceFeed(Catalog, [trace]);
        var cloud = new SimulatedCloud(new SimulatedCloudOptions { Catalog = Catalog, SpotTraces = [trace] }, Time);
        var options = new SchedulerOptions();
        var scheduler = new Scheduler(Store, feed, new CpSatPlanner(), options, Time, NullLogger<Scheduler>.Instance, _counters, _backoff);
        var loop = new ReconcileLoop(Store, cloud, feed, Time, NullLogger<ReconcileLoop>.Instance, counters: _counters, backoff: _backoff,
            limits: loopLimits ?? options.Limits);
        return (cloud, scheduler, loop);
    }

    /// <summary>Plays the loop minute by minute until every job is finished or <paramref name="hours"/> have passed.</summary>
    private async Task<SimulatedCloud> RunAsync(SpotTrace trace, double hours, params Job[] jobs)
    {
        var (cloud, scheduler, loop) = Service(trace);
        await Store.SubmitAsync([.. jobs.Select(j => new Submission(j, Team, j.Id))], Now, CancellationToken.None);
        var end = Now.AddHours(hours);
        while (Time.GetUtcNow() < end)
        {
            await scheduler.RunCycleAsync(CancellationToken.None);
            await loop.TickAsync(CancellationToken.None);
            var counts = await Store.CountByStateAsync(null, CancellationToken.None);
            if (counts.Where(c => !c.Key.IsFinal()).Sum(c => c.Value) == 0)
            {
                return cloud;
            }
            Time.Advance(TimeSpan.FromMinutes(1));
        }
        return cloud;
    }

    private async Task<IReadOnlyList<JobState>> StatesOf(string id) =>
        [.. (await Store.EventsAsync(Key(id), CancellationToken.None)).Select(e => e.To)];

    [Fact]
    public async Task A_job_is_planned_launched_run_and_finished_in_virtualTime()
    {
        await RunAsync(P3Spot(availableHours: 48), hours: 12, P3Job("train", hours: 3, deadlineHours: 10));

        var job = (await Store.GetAsync(Key("train"), CancellationToken.None))!;
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal([JobState.Queued, JobState.Planned, JobState.Launching, JobState.Running, JobState.Succeeded], await StatesOf("train"));
        Assert.Equal(Market.Spot, job.Placement!.Market);
        Assert.True(job.FinishedAt <= job.Job.Deadline);
        Assert.InRange(job.CostSoFarUsd, 0.612 * 3 * 0.9, 0.612 * 3 * 1.1);
    }

    [Fact]
    public async Task A_spot_interruption_falls_back_to_on_demand_and_the_deadline_is_met()
    {
        // Spot disappears after an hour and never returns; 4 h of work are due in 10 h.
        await RunAsync(P3Spot(availableHours: 1), hours: 12, P3Job("train", hours: 4, deadlineHours: 10));

        var job = (await Store.GetAsync(Key("train"), CancellationToken.None))!;
        Assert.Equal(JobState.Succeeded, job.State);
        // The cloud's two-minute notice is acted on: the job moves to on-demand before its spot instance dies, so it is
        // never left interrupted (the notice is a certain outage, which the spot policy covers whatever its slack).
        Assert.DoesNotContain(JobState.Interrupted, await StatesOf("train"));
        Assert.Equal(1, _counters.InterruptionNotices);
        Assert.Equal(Market.OnDemand, job.Placement!.Market);
        Assert.True(job.FinishedAt <= job.Job.Deadline, $"finished {job.FinishedAt}, deadline {job.Job.Deadline}");
        Assert.True(job.Attempt >= 2);
        Assert.Equal(1, _counters.Interruptions);
        // The emptied pool is remembered: the job is not sent back to it to be refused.
        Assert.Equal(0, _counters.SpotRefusals);
        Assert.True(_counters.Cycles > 0);
    }

    [Fact]
    public async Task A_cancelled_running_job_has_its_instance_terminated()
    {
        var (cloud, scheduler, loop) = Service(P3Spot(48));
        await Store.SubmitAsync([new Submission(P3Job("train", 3, 10), Team, "train")], Now, CancellationToken.None);
        await scheduler.RunCycleAsync(CancellationToken.None);
        await loop.TickAsync(CancellationToken.None);
        Time.Advance(TimeSpan.FromMinutes(5));
        await loop.TickAsync(CancellationToken.None);
        var running = (await Store.GetAsync(Key("train"), CancellationToken.None))!;
        Assert.Equal(JobState.Running, running.State);

        await Store.TryUpdateAsync(running with { State = JobState.Cancelled }, "cancelled by the user", Time.GetUtcNow(), CancellationToken.None);
        await loop.TickAsync(CancellationToken.None);

        var instance = Assert.Single(await cloud.DescribeAsync(CancellationToken.None));
        Assert.Equal(InstanceState.Terminated, instance.State);
    }

    [Fact]
    public async Task A_job_that_finished_between_two_ticks_is_recorded_succeeded()
    {
        // The loop misses everything between launch and the end of the work: the next tick must still settle the job.
        var (cloud, scheduler, loop) = Service(P3Spot(48));
        await Store.SubmitAsync([new Submission(P3Job("quick", 1, 10), Team, "quick")], Now, CancellationToken.None);
        await scheduler.RunCycleAsync(CancellationToken.None);
        await loop.TickAsync(CancellationToken.None);
        Assert.Equal(JobState.Launching, (await Get("quick"))!.State);

        Time.Advance(TimeSpan.FromHours(3));
        await loop.TickAsync(CancellationToken.None);

        var job = (await Get("quick"))!;
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.NotNull(job.StartedAt);
    }

    [Fact]
    public async Task A_running_job_accrues_cost_every_tick_from_when_its_instance_runs()
    {
        var (_, scheduler, loop) = Service(P3Spot(48));
        await Store.SubmitAsync([new Submission(P3Job("train", 3, 10), Team, "train")], Now, CancellationToken.None);
        await scheduler.RunCycleAsync(CancellationToken.None);
        await loop.TickAsync(CancellationToken.None);
        Assert.Equal(0, (await Get("train"))!.CostSoFarUsd);

        // The cloud boots for 90 s: 5 minutes after the launch, 3.5 of them are paid, at the spot price of the moment.
        Time.Advance(TimeSpan.FromMinutes(5));
        await loop.TickAsync(CancellationToken.None);
        Assert.Equal(0.612 * 3.5 / 60, (await Get("train"))!.CostSoFarUsd, 9);

        Time.Advance(TimeSpan.FromHours(1));
        await loop.TickAsync(CancellationToken.None);
        Assert.Equal(0.612 * (1 + (3.5 / 60)), (await Get("train"))!.CostSoFarUsd, 9);
    }

    [Fact]
    public async Task A_job_that_fell_back_costs_what_its_attempts_ran_at_their_prices_without_asking_the_cloud()
    {
        var cloud = await RunAsync(P3Spot(availableHours: 1), hours: 12, P3Job("train", hours: 4, deadlineHours: 10));

        var job = (await Get("train"))!;
        Assert.Equal(JobState.Succeeded, job.State);
        // The cloud's own bill, per attempt, is the check: the runtime never read it.
        var billed = (await cloud.DescribeAsync(CancellationToken.None)).Where(i => i.Job == job.Key).Sum(i => i.CostSoFarUsd);
        Assert.Equal(billed, job.CostSoFarUsd, 6);
        Assert.True(job.CostSoFarUsd > 3.06 * 3, $"cost {job.CostSoFarUsd}: the on-demand hours are in it");
    }

    [Fact]
    public async Task With_no_on_demand_quota_left_the_safety_net_keeps_spot_while_it_runs_then_requeues_saying_why()
    {
        // Placed on spot (as a plan with the p quota free would); by the fallback moment (3.9 h in) the quota has no
        // room (work outside this queue took it), so the safety net cannot take a p3.2xlarge on-demand. Spot goes away
        // at 4.5 h.
        var noP = CapacityLimits.Default with { OnDemandVcpuQuotas = CapacityLimits.Default.OnDemandVcpuQuotas.SetItem("p", 0) };
        var (_, _, loop) = Service(P3Spot(availableHours: 4.5), loopLimits: noP);
        var job = P3Job("train", 6, 10);
        await Store.SubmitAsync([new Submission(job, Team, "train")], Now, CancellationToken.None);
        var fallbackAt = CostModel.FallbackAt(job)!.Value;
        var plan = JobTransitions.Plan((await Get("train"))!, new Placement(Market.Spot, "p3.2xlarge", "us-east-1", Now, 0.612, 0.612 * 6, fallbackAt), "spot");
        await Store.TryUpdateAsync(plan.Record, plan.Cause, Now, CancellationToken.None);
        await TickUntilAsync(loop, fallbackAt.AddMinutes(5));

        var staying = (await Get("train"))!;
        Assert.Equal(JobState.Running, staying.State);
        Assert.Contains("no on-demand capacity left", staying.LastError, StringComparison.Ordinal);
        Assert.EndsWith("staying on spot", staying.LastError, StringComparison.Ordinal);

        await TickUntilAsync(loop, Now.AddHours(7));

        var events = await Store.EventsAsync(Key("train"), CancellationToken.None);
        var why = Assert.Single(events, e => e.Cause.Contains("no on-demand capacity left", StringComparison.Ordinal));
        Assert.Equal((JobState.Interrupted, JobState.Queued), (why.From, why.To));
        Assert.Contains("on-demand:us-east-1:p 0/0 vCPUs in use", why.Cause, StringComparison.Ordinal);
        Assert.Equal(0, _counters.Fallbacks);
    }

    [Fact]
    public async Task An_interruption_notice_launches_the_next_attempt_before_the_noticed_instance_ends_and_the_deadline_is_met()
    {
        // Two zones at the same price; us-east-1a loses its capacity at one hour (the cloud warns two minutes before).
        TimeSpan tick = TimeSpan.FromMinutes(5);
        var prices = Enumerable.Repeat(0.6, 48 * 12).ToImmutableArray();
        var going = new SpotTrace("us-east-1a", "p3.2xlarge", Now, tick, [.. Enumerable.Range(0, 48 * 12).Select(i => i < 12 ? 1 : 0)], prices);
        var staying = new SpotTrace("us-east-1b", "p3.2xlarge", Now, tick, [.. Enumerable.Repeat(1, 48 * 12)], prices);
        var feed = new TracePriceFeed(Catalog, [going, staying]);
        var cloud = new SimulatedCloud(new SimulatedCloudOptions { Catalog = Catalog, SpotTraces = [going, staying] }, Time);
        var loop = new ReconcileLoop(Store, cloud, feed, Time, NullLogger<ReconcileLoop>.Instance, counters: _counters, backoff: _backoff,
            launchAllowance: TimeSpan.FromSeconds(90));
        // Checkpoints all the time: the spot work saved counts, and the new attempt resumes from it.
        var job = P3Job("train", hours: 4, deadlineHours: 8) with { Checkpointable = true, CheckpointIntervalHours = 0 };
        await Store.SubmitAsync([new Submission(job, Team, "train")], Now, CancellationToken.None);
        var plan = JobTransitions.Plan((await Get("train"))!,
            new Placement(Market.Spot, "p3.2xlarge", "us-east-1a", Now, 0.6, 0.6 * 4, CostModel.FallbackAt(job)), "spot in us-east-1a");
        await Store.TryUpdateAsync(plan.Record, plan.Cause, Now, CancellationToken.None);

        DateTimeOffset? movedAt = null;
        while (Time.GetUtcNow() < Now.AddHours(10) && !(await Get("train"))!.State.IsFinal())
        {
            await loop.TickAsync(CancellationToken.None);
            if (movedAt is null && (await Get("train"))!.Attempt == 2)
            {
                movedAt = Time.GetUtcNow();
                var first = Assert.Single(await cloud.DescribeAsync(CancellationToken.None), i => i.Attempt == 1);
                Assert.False(first.IsEnded, "the noticed instance still runs its last minutes when the next attempt launches");
                Assert.NotNull(first.InterruptionNoticeAt);
            }
            Time.Advance(TimeSpan.FromMinutes(1));
        }

        var done = (await Get("train"))!;
        var instances = await cloud.DescribeAsync(CancellationToken.None);
        var log = string.Join("\n", (await Store.EventsAsync(Key("train"), CancellationToken.None)).Select(e => $"{e.At:HH:mm:ss} {e.To} {e.Cause}"));
        Assert.True(done.State == JobState.Succeeded, log);
        Assert.True(done.FinishedAt <= job.Deadline, $"finished {done.FinishedAt}, deadline {job.Deadline}\n{log}");
        Assert.Equal(Now.AddMinutes(58), movedAt);
        Assert.Equal((Market.Spot, "us-east-1b", 2), (done.Placement!.Market, done.Placement.Zone, done.Attempt));
        Assert.DoesNotContain(JobState.Interrupted, await StatesOf("train"));
        Assert.All(instances, i => Assert.True(i.IsEnded, $"{i.InstanceId} is {i.State}"));
        // Taken back by the cloud at the hour, not stopped by us: it had its two minutes.
        var noticed = Assert.Single(instances, i => i.Attempt == 1);
        Assert.Equal((InstanceState.Interrupted, Now.AddHours(1)), (noticed.State, noticed.EndedAt));
        Assert.Equal((1, 1), (_counters.InterruptionNotices, _counters.Interruptions));
        // Each attempt's real running time counted once: the noticed instance's last minutes were paid when the job moved on.
        Assert.Equal(instances.Sum(i => i.CostSoFarUsd), done.CostSoFarUsd, 6);
    }

    [Fact]
    public async Task Without_a_notice_a_spot_job_runs_to_the_end_on_its_first_instance()
    {
        await RunAsync(P3Spot(availableHours: 48), hours: 12, P3Job("train", hours: 3, deadlineHours: 10));

        var job = (await Get("train"))!;
        Assert.Equal((JobState.Succeeded, 1), (job.State, job.Attempt));
        Assert.Equal((0, 0), (_counters.InterruptionNotices, _counters.Interruptions));
    }

    /// <summary>Ticks the loop every 5 minutes of virtual time until <paramref name="until"/>.</summary>
    private async Task TickUntilAsync(ReconcileLoop loop, DateTimeOffset until)
    {
        while (Time.GetUtcNow() < until)
        {
            await loop.TickAsync(CancellationToken.None);
            Time.Advance(TimeSpan.FromMinutes(5));
        }
    }
}
