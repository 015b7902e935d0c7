using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime.Traces;

namespace Spotwise.Runtime.Tests;

/// <summary>The planning cycle on a real SQLite store and the real CP-SAT planner.</summary>
public sealed class SchedulerTests : StoreTestBase
{
    private Scheduler Scheduler(CapacityLimits? limits = null) => new(Store, new CatalogPriceFeed(Catalog), new CpSatPlanner(),
        new SchedulerOptions { Limits = limits ?? CapacityLimits.Default }, Time, NullLogger<Scheduler>.Instance);

    private async Task SubmitAsync(params Job[] jobs) =>
        await Store.SubmitAsync([.. jobs.Select(j => new Submission(j, Team, $"{{\"jobId\":\"{j.Id}\"}}"))], Now, CancellationToken.None);

    [Fact]
    public async Task A_cycle_plans_queued_jobs_andStores_the_plan()
    {
        await SubmitAsync(P3Job("a", 1, 4), P3Job("b", 2, 20));

        var plan = await Scheduler().RunCycleAsync(CancellationToken.None);

        Assert.NotNull(plan);
        Assert.Equal(JobState.Planned, (await Get("a"))!.State);
        var b = (await Get("b"))!;
        Assert.Equal((JobState.Planned, Market.Spot, "p3.2xlarge"), (b.State, b.Placement!.Market, b.Placement.InstanceType));
        Assert.Equal(2, (await Store.LatestPlanAsync(CancellationToken.None))!.Totals.JobsPlanned);
        Assert.Contains(await Store.EventsAsync(Key("b"), CancellationToken.None), e => e.To == JobState.Planned && e.Cause.StartsWith("planned: spot", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_plan_larger_than_one_write_chunk_is_applied_to_every_job()
    {
        var count = Spotwise.Runtime.Scheduler.ApplyChunkSize * 2 + 7;
        await SubmitAsync([.. Enumerable.Range(0, count).Select(i => P3Job($"j{i:D4}", 1, 48))]);

        await new Scheduler(Store, new CatalogPriceFeed(Catalog), new GreedyPlanner(), new SchedulerOptions(), Time, NullLogger<Scheduler>.Instance)
            .RunCycleAsync(CancellationToken.None);

        var counts = await Store.CountByStateAsync(null, CancellationToken.None);
        Assert.Equal(count, counts[JobState.Planned] + counts[JobState.Queued]);
        Assert.Equal(count, (await Store.ListAsync(new JobQuery(), CancellationToken.None)).Count(j => j.Placement is not null || j.LastError is not null));
    }

    [Fact]
    public async Task Capacity_a_running_job_holds_is_not_planned_again()
    {
        // One p3.2xlarge on-demand at a time, no spot: a running 2-hour job holds it.
        var limits = new CapacityLimits { OnDemandVcpuQuotas = CapacityLimits.Default.OnDemandVcpuQuotas.SetItem("p", 8), DefaultSpotPoolSize = 0 };
        await SubmitAsync(P3Job("running", 2, 3), P3Job("next", 1, 6));
        var running = (await Get("running"))!;
        await Store.TryUpdateAsync(running with
        {
            State = JobState.Planned,
            Placement = new Placement(Market.OnDemand, "p3.2xlarge", "us-east-1", Now, 3.06, 6.12, null),
        }, "planned", Now, CancellationToken.None);
        running = (await Get("running"))!;
        await Store.TryUpdateAsync(running with { State = JobState.Launching, Attempt = 1 }, "launched", Now, CancellationToken.None);
        running = (await Get("running"))!;
        await Store.TryUpdateAsync(running with { State = JobState.Running, StartedAt = Now }, "running", Now, CancellationToken.None);

        await Scheduler(limits).RunCycleAsync(CancellationToken.None);

        Assert.Equal(Now.AddHours(2), (await Get("next"))!.Placement!.PlannedStart);
    }

    [Fact]
    public async Task With_a_two_zone_feed_a_job_is_planned_in_the_cheaper_zone_and_a_refusal_there_moves_it_to_the_other()
    {
        // p3.2xlarge on spot in two traced zones, us-east-1b the cheaper; the job starts in an hour, so it is re-planned.
        var feed = new TracePriceFeed(Catalog, [ZoneTrace("us-east-1a", 1.20), ZoneTrace("us-east-1b", 0.95)]);
        var backoff = new SpotBackoff();
        var scheduler = new Scheduler(Store, feed, new CpSatPlanner(), new SchedulerOptions(), Time, NullLogger<Scheduler>.Instance, backoff: backoff);
        await SubmitAsync(P3Job("b", 2, 20) with { EarliestStart = Now.AddHours(1) });

        await scheduler.RunCycleAsync(CancellationToken.None);
        var first = (await Get("b"))!.Placement!;
        backoff.Refused("us-east-1b", "p3.2xlarge", Now);
        await scheduler.RunCycleAsync(CancellationToken.None);
        var second = (await Get("b"))!.Placement!;

        Assert.Equal((Market.Spot, "us-east-1b", 0.95, "aws"), (first.Market, first.Zone, first.PricePerHourUsd, first.Provider));
        Assert.Equal((Market.Spot, "us-east-1a", 1.20), (second.Market, second.Zone, second.PricePerHourUsd));
    }

    private static SpotTrace ZoneTrace(string zone, double price) =>
        new(zone, "p3.2xlarge", Now, TimeSpan.FromHours(1), [1], [price]);

    [Fact]
    public async Task A_job_still_booting_holds_its_capacity_for_the_boot_too()
    {
        // As above, but the 2-hour job was launched and is still booting: its work ends 90 s later than two hours.
        var limits = new CapacityLimits { OnDemandVcpuQuotas = CapacityLimits.Default.OnDemandVcpuQuotas.SetItem("p", 8), DefaultSpotPoolSize = 0 };
        await SubmitAsync(P3Job("booting", 2, 3), P3Job("next", 1, 6));
        var booting = (await Get("booting"))!;
        await Store.TryUpdateAsync(booting with
        {
            State = JobState.Planned,
            Placement = new Placement(Market.OnDemand, "p3.2xlarge", "us-east-1", Now, 3.06, 6.12, null),
        }, "planned", Now, CancellationToken.None);
        booting = (await Get("booting"))!;
        await Store.TryUpdateAsync(booting with { State = JobState.Launching, Attempt = 1 }, "launched", Now, CancellationToken.None);

        await Scheduler(limits).RunCycleAsync(CancellationToken.None);

        // The next start on the 5-minute grid after 2 h 1.5 min.
        Assert.Equal(Now.AddHours(2).AddMinutes(5), (await Get("next"))!.Placement!.PlannedStart);
    }

    [Fact]
    public async Task A_job_that_cannot_be_planned_stays_queued_with_the_reason()
    {
        await SubmitAsync(P3Job("late", 5, 2));

        await Scheduler().RunCycleAsync(CancellationToken.None);

        var late = (await Get("late"))!;
        Assert.Equal(JobState.Queued, late.State);
        Assert.StartsWith("deadline", late.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelled_jobs_are_not_planned()
    {
        await SubmitAsync(P3Job("gone", 1, 4));
        var gone = (await Get("gone"))!;
        await Store.TryUpdateAsync(gone with { State = JobState.Cancelled }, "cancelled by the user", Now, CancellationToken.None);

        Assert.Null(await Scheduler().RunCycleAsync(CancellationToken.None));
        Assert.Null((await Get("gone"))!.Placement);
    }

    [Fact]
    public async Task A_job_launched_between_the_schedulers_two_reads_is_planned_around_not_twice()
    {
        await SubmitAsync(P3Job("racer", 1, 10), P3Job("other", 1, 10));
        await Scheduler().RunCycleAsync(CancellationToken.None);
        // The reconciler launches "racer" just after the scheduler has read the waiting jobs.
        var racing = new LaunchesBetweenReads(Store, Key("racer"), Now);
        var scheduler = new Scheduler(racing, new CatalogPriceFeed(Catalog), new CpSatPlanner(), new SchedulerOptions(), Time, NullLogger<Scheduler>.Instance);
        await Store.TryUpdateAsync((await Get("other"))! with { State = JobState.Queued, Placement = null }, "re-plan", Now, CancellationToken.None);

        var plan = await scheduler.RunCycleAsync(CancellationToken.None);

        Assert.NotNull(plan);
        Assert.Equal([Key("other").ToString()], plan.Schedule.Select(a => a.JobId));
        Assert.Equal(JobState.Launching, (await Get("racer"))!.State);
    }

    [Fact]
    public async Task Two_teams_jobs_of_one_id_are_planned_each_and_prerequisites_stay_within_the_team()
    {
        await SubmitAsync(P3Job("prep", 1, 10), P3Job("train", 1, 10) with { DependsOn = ["prep"] });
        await Store.SubmitAsync([new Submission(P3Job("prep", 1, 10), "cv", "prep"), new Submission(P3Job("train", 1, 10), "cv", "train")], Now,
            CancellationToken.None);

        await Scheduler().RunCycleAsync(CancellationToken.None);

        var planned = await Store.ListAsync(new JobQuery(States: [JobState.Planned]), CancellationToken.None);
        Assert.Equal(4, planned.Count);
        var start = planned.ToDictionary(r => r.Key, r => r.Placement!.PlannedStart);
        Assert.True(start[Key("train")] >= start[Key("prep")].AddHours(1), $"ml/train starts {start[Key("train")]:O}, before ml/prep ends");
        // The stored plan names jobs by key: "cv/prep" and "ml/prep" are two jobs.
        var plan = (await Store.LatestPlanAsync(CancellationToken.None))!;
        Assert.Equal(["cv/prep", "cv/train", "ml/prep", "ml/train"], plan.Schedule.Select(a => a.JobId).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_reason_names_the_teams_jobs_by_their_own_ids()
    {
        await SubmitAsync(P3Job("prep", 5, 2), P3Job("train", 1, 10) with { DependsOn = ["prep"] });

        await Scheduler().RunCycleAsync(CancellationToken.None);

        var train = (await Get("train"))!;
        Assert.Equal(JobState.Queued, train.State);
        Assert.Contains("'prep'", train.LastError, StringComparison.Ordinal);
        Assert.DoesNotContain("ml/", train.LastError, StringComparison.Ordinal);
    }

    /// <summary>The real store, with one job launched right after the first listing (as a concurrent reconciler would).</summary>
    private sealed class LaunchesBetweenReads(IJobStore inner, JobKey job, DateTimeOffset now) : ForwardingJobStore(inner)
    {
        private bool _done;

        public override async Task<IReadOnlyList<JobRecord>> ListAsync(JobQuery query, CancellationToken cancellationToken)
        {
            var result = await Inner.ListAsync(query, cancellationToken);
            if (!_done)
            {
                _done = true;
                var record = (await Inner.GetAsync(job, cancellationToken))!;
                await Inner.TryUpdateAsync(record with { State = JobState.Launching, Attempt = 1 }, "launched", now, cancellationToken);
            }
            return result;
        }
    }
}
