using System.Collections.Immutable;
using Spotwise.Core;
using Spotwise.Runtime.Policy;
using Spotwise.Runtime.Reconciliation;

namespace Spotwise.Runtime.Tests;

public class ReconcilerTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static Catalog Catalog => ShippedData.Catalog;

    private static JobRecord Job(string id, JobState state, Market market = Market.Spot, double hours = 4, double deadlineHours = 12,
        bool checkpointable = false, int attempt = 0, double startHours = 0, double doneHours = 0)
    {
        var job = new Job
        {
            Id = id,
            DurationHours = hours,
            Deadline = Now.AddHours(deadlineHours),
            Checkpointable = checkpointable,
            Resources = ResourceRequest.ForInstanceTypes(["p3.2xlarge", "g5.4xlarge"]),
        };
        var type = market == Market.Spot ? "p3.2xlarge" : "g5.4xlarge";
        var price = market == Market.Spot ? 0.612 : 1.624;
        return new JobRecord
        {
            Job = job,
            Team = "ml",
            SubmittedAt = Now.AddHours(-1),
            State = state,
            Attempt = attempt,
            DoneHours = doneHours,
            Placement = new Placement(market, type, "us-east-1", Now.AddHours(startHours), price, price * hours,
                market == Market.Spot ? CostModel.FallbackAt(job) : null),
        };
    }

    private static InstanceStatus Instance(JobRecord job, InstanceState state, int? attempt = null, double saved = 0, string? error = null)
    {
        var a = attempt ?? job.Attempt;
        var p = job.Placement!;
        return new InstanceStatus($"i-{job.Id}-{a}", ClientTokens.For(job.Key, a), job.Team, job.Id, a, p.Market, p.InstanceType, p.Zone, state,
            Now.AddHours(-1), Now.AddHours(-0.9), state is InstanceState.Pending or InstanceState.Running ? null : Now, null,
            p.PricePerHourUsd, 1.0, saved, error);
    }

    private static IReadOnlyList<ReconcileAction> Decide(IReadOnlyList<JobRecord> jobs, params InstanceStatus[] observed) =>
        Reconciler.Decide(jobs, observed, Now, Catalog);

    /// <summary>A market where the feed says the pools of these types in us-east-1 have no spot capacity now.</summary>
    private static SpotMarketSnapshot NoSpot(params string[] types)
    {
        var history = new SpotAvailabilityHistory(TimeSpan.FromMinutes(1));
        history.Record(Now, [.. types.Select(t => new SpotPoolReading("us-east-1", t, 0, null))]);
        return history.At(Now);
    }

    [Fact]
    public void A_planned_job_whose_start_has_come_is_launched_as_its_next_attempt()
    {
        var job = Job("a", JobState.Planned, hours: 4);

        var launch = Assert.IsType<Launch>(Assert.Single(Decide([job])));

        Assert.Equal(1, launch.Attempt);
        Assert.Equal("ml/a#1", launch.Request.ClientToken);
        Assert.Equal((Market.Spot, "p3.2xlarge", "us-east-1", 4.0), (launch.Request.Market, launch.Request.InstanceType, launch.Request.Zone, launch.Request.WorkHours));
    }

    [Fact]
    public void A_planned_job_not_yet_due_is_left_alone() => Assert.Empty(Decide([Job("a", JobState.Planned, startHours: 1)]));

    [Fact]
    public void A_launching_job_whose_instance_runs_is_recorded_running()
    {
        var job = Job("a", JobState.Launching, attempt: 1);

        var seen = Assert.IsType<RecordObservation>(Assert.Single(Decide([job], Instance(job, InstanceState.Running))));

        Assert.Equal(JobState.Running, seen.NewState);
    }

    [Fact]
    public void A_launching_job_the_backend_does_not_know_is_launched_again_with_the_same_token()
    {
        var job = Job("a", JobState.Launching, attempt: 1);

        var launch = Assert.IsType<Launch>(Assert.Single(Decide([job])));

        Assert.Equal("ml/a#1", launch.Request.ClientToken);
    }

    [Theory]
    [InlineData(InstanceState.Succeeded, JobState.Succeeded)]
    [InlineData(InstanceState.Interrupted, JobState.Interrupted)]
    [InlineData(InstanceState.Terminated, JobState.Interrupted)]
    public void What_the_backend_reports_is_recorded(InstanceState observed, JobState recorded)
    {
        var job = Job("a", JobState.Running, attempt: 1);

        // An ended spot attempt is recorded first; the spot policy may act on it in the same tick (relaunch, fall back).
        var seen = Assert.IsType<RecordObservation>(Decide([job], Instance(job, observed))[0]);

        Assert.Equal(recorded, seen.NewState);
    }

    [Fact]
    public void A_failed_instance_fails_the_job_with_its_error()
    {
        var job = Job("a", JobState.Running, attempt: 1);

        var failed = Assert.IsType<MarkFailed>(Assert.Single(Decide([job], Instance(job, InstanceState.Failed, error: "exit code 3"))));

        Assert.Equal("exit code 3", failed.Reason);
    }

    [Fact]
    public void An_interrupted_spot_job_with_slack_is_relaunched_on_spot_where_it_can_be_had_with_its_saved_work()
    {
        // The record holds the 1.5 h the ended attempt saved; the new attempt pays the restart overhead (0.1 h) first.
        var job = Job("a", JobState.Interrupted, checkpointable: true, attempt: 1, doneHours: 1.5);

        var launch = Assert.IsType<Launch>(Assert.Single(Decide([job], Instance(job, InstanceState.Interrupted, saved: 1.5))));

        Assert.Equal((2, 1.5), (launch.Attempt, launch.SavedHours));
        Assert.Equal((Market.Spot, "p3.2xlarge", "us-east-1", 2.5 + 0.1), (launch.Request.Market, launch.Request.InstanceType, launch.Request.Zone, launch.Request.WorkHours));
    }

    [Fact]
    public void An_interrupted_spot_job_with_slack_waits_while_no_spot_can_be_had()
    {
        var job = Job("a", JobState.Interrupted, checkpointable: true, attempt: 1, doneHours: 1.5);

        var actions = Reconciler.Decide([job], [Instance(job, InstanceState.Interrupted, saved: 1.5)], Now, Catalog, market: NoSpot("p3.2xlarge"));

        Assert.Empty(actions);
    }

    [Fact]
    public void A_running_spot_job_whose_attempt_was_taken_back_is_recorded_and_moved_in_the_same_tick()
    {
        // Running on spot with 2 h saved by the instance; capacity went. The fallback moment is 36 s away: waiting a
        // tick (a minute) with no spot to be had would pass it, so the policy moves the job to on-demand at once, with its work.
        var job = Job("a", JobState.Running, hours: 4, deadlineHours: 2.11, checkpointable: true, attempt: 1);

        var actions = Reconciler.Decide([job], [Instance(job, InstanceState.Interrupted, saved: 2)], Now, Catalog, market: NoSpot("p3.2xlarge"));

        Assert.Equal(["ml/a#1:RecordObservation", "ml/a#2:SwitchToOnDemand"], actions.Select(a => a.Key));
        var sw = (SwitchToOnDemand)actions[1];
        Assert.Equal(2, sw.SavedHours, 9);
        Assert.Equal(2 + 0.1, sw.Request.WorkHours, 9);
    }

    [Fact]
    public void An_interrupted_job_past_its_fallback_moment_switches_to_the_cheapest_on_demand_type()
    {
        // 4 h of work due in 4.05 h: fallbackAt (deadline - 4 h - 6 min) has passed.
        var job = Job("a", JobState.Interrupted, hours: 4, deadlineHours: 4.05, attempt: 1);

        var sw = Assert.IsType<SwitchToOnDemand>(Assert.Single(Decide([job], Instance(job, InstanceState.Interrupted))));

        Assert.Equal(2, sw.Attempt);
        // A restart pays the restart overhead (0.1 h) before it makes progress: the instance is asked for it too.
        Assert.Equal((Market.OnDemand, "g5.4xlarge", "ml/a#2", 4.1), (sw.Request.Market, sw.Request.InstanceType, sw.Request.ClientToken, sw.Request.WorkHours));
        Assert.Null(sw.SpotInstanceId);
    }

    [Fact]
    public void A_running_spot_job_at_its_fallback_moment_is_moved_to_on_demand()
    {
        var job = Job("a", JobState.Running, hours: 4, deadlineHours: 4.1, attempt: 1);

        var sw = Assert.IsType<SwitchToOnDemand>(Assert.Single(Decide([job], Instance(job, InstanceState.Running))));

        Assert.Equal("i-a-1", sw.SpotInstanceId);
        Assert.Equal(Market.OnDemand, sw.Request.Market);
    }

    [Fact]
    public void Saved_progress_moves_the_fallback_moment_later()
    {
        // Without progress the fallback moment (deadline - 4.1 h) has passed; 2 saved hours move it 2 h later.
        var job = Job("a", JobState.Running, hours: 4, deadlineHours: 4.1, checkpointable: true, attempt: 1);

        Assert.Empty(Decide([job], Instance(job, InstanceState.Running, saved: 2)));
    }

    [Fact]
    public void A_running_spot_job_moves_to_a_zone_cheaper_by_more_than_two_changeovers_over_the_work_left()
    {
        var job = Job("a", JobState.Running, hours: 4, deadlineHours: 12, checkpointable: true, attempt: 1) with { DoneHours = 1 };
        var history = new SpotAvailabilityHistory(TimeSpan.FromMinutes(1));
        history.Record(Now, [new SpotPoolReading("us-east-1", "p3.2xlarge", 1, 3.0), new SpotPoolReading("us-east-1b", "p3.2xlarge", 1, 0.5)]);

        var actions = Reconciler.Decide([job], [Instance(job, InstanceState.Running, saved: 0.5)], Now, Catalog, market: history.At(Now));

        Assert.Equal(["ml/a#1:Terminate", "ml/a#2:Launch"], actions.Select(a => a.Key));
        var launch = (Launch)actions[1];
        Assert.Equal((Market.Spot, "us-east-1b", 1.5), (launch.Request.Market, launch.Request.Zone, launch.SavedHours));
        // 2.5 h left, plus the restart's changeover.
        Assert.Equal(2.5 + 0.1, launch.Request.WorkHours, 9);
    }

    [Fact]
    public void A_job_the_policy_moved_to_on_demand_comes_back_to_spot_when_spot_returns()
    {
        // Attempt 2 on on-demand (the policy put it there), 8 h of slack, spot in its pool for the last two hours: spells
        // long enough to repay the changeovers of a move.
        var job = Job("a", JobState.Running, market: Market.OnDemand, hours: 4, deadlineHours: 12, attempt: 2);
        var history = new SpotAvailabilityHistory(TimeSpan.FromMinutes(1));
        for (var minute = 120; minute >= 0; minute--)
        {
            history.Record(Now.AddMinutes(-minute), [new SpotPoolReading("us-east-1", "g5.4xlarge", 1, 0.5)]);
        }

        var actions = Reconciler.Decide([job], [Instance(job, InstanceState.Running)], Now, Catalog, market: history.At(Now));

        Assert.Equal(["ml/a#2:Terminate", "ml/a#3:Launch"], actions.Select(a => a.Key));
        Assert.Equal(Market.Spot, ((Launch)actions[1]).Request.Market);
    }

    [Fact]
    public void An_on_demand_job_is_never_switched()
    {
        var job = Job("a", JobState.Running, market: Market.OnDemand, hours: 4, deadlineHours: 4, attempt: 1);

        Assert.Empty(Decide([job], Instance(job, InstanceState.Running)));
    }

    [Fact]
    public void A_cancelled_job_with_a_live_instance_has_it_terminated()
    {
        var job = Job("a", JobState.Cancelled, attempt: 1);

        var stop = Assert.IsType<Terminate>(Assert.Single(Decide([job], Instance(job, InstanceState.Running))));

        Assert.Equal("i-a-1", stop.InstanceId);
    }

    [Fact]
    public void An_instance_of_an_earlier_attempt_still_up_is_terminated()
    {
        var job = Job("a", JobState.Running, market: Market.OnDemand, attempt: 2);

        // No spot to be had: the policy keeps the on-demand attempt, and only the stale one is stopped.
        var actions = Reconciler.Decide([job], [Instance(job, InstanceState.Running), Instance(job, InstanceState.Running, attempt: 1)], Now, Catalog,
            market: NoSpot("p3.2xlarge", "g5.4xlarge"));

        var stop = Assert.IsType<Terminate>(Assert.Single(actions));
        Assert.Equal("i-a-1", stop.InstanceId);
    }

    [Fact]
    public void A_cancelled_job_whose_instance_was_never_recorded_has_it_found_by_its_token_and_terminated()
    {
        // Cancelled after the launch intent was stored and before the instance was: the record has the attempt, no id.
        var job = Job("a", JobState.Cancelled, attempt: 1) with { InstanceId = null };

        var stop = Assert.IsType<Terminate>(Assert.Single(Decide([job], Instance(job, InstanceState.Pending))));

        Assert.Equal("i-a-1", stop.InstanceId);
    }

    [Fact]
    public void An_instance_of_a_later_attempt_than_the_job_holds_is_terminated()
    {
        // Launched without an intent (before intents were stored), then the job was cancelled: no record holds attempt 2.
        var job = Job("a", JobState.Cancelled, attempt: 1);

        var stop = Assert.IsType<Terminate>(Assert.Single(Decide([job], Instance(job, InstanceState.Running, attempt: 2))));

        Assert.Equal("i-a-2", stop.InstanceId);
    }

    [Fact]
    public void A_launching_job_the_backend_does_not_know_is_asked_for_its_stored_intent_not_a_rebuilt_request()
    {
        var intent = new LaunchRequest("ml/a#1", "ml", "a", 1, Market.Spot, "p3.2xlarge", "us-east-1", 4, false, 0.5, null);
        // Progress saved since the intent: a request rebuilt from the record would ask for 3 hours under the same token.
        var job = Job("a", JobState.Launching, attempt: 1, doneHours: 1) with { LaunchIntent = intent };

        var launch = Assert.IsType<Launch>(Assert.Single(Decide([job])));

        Assert.Same(intent, launch.Request);
    }

    /// <summary>On-demand quotas as the planner counts them: vCPUs per quota class ("g" for g5, "p" for p3).</summary>
    private static CapacityLimits Quotas(int g, int p) => new()
    {
        OnDemandVcpuQuotas = new Dictionary<string, int> { ["g"] = g, ["p"] = p }.ToImmutableDictionary(),
    };

    /// <summary>A job running on on-demand <paramref name="type"/>, holding its quota.</summary>
    private static JobRecord OnDemandHolder(string id, string type) =>
        Job(id, JobState.Running, market: Market.OnDemand, attempt: 1) with
        {
            Placement = new Placement(Market.OnDemand, type, "us-east-1", Now.AddHours(-1), 1, 1, null),
        };

    [Fact]
    public void A_fallback_takes_the_cheapest_on_demand_type_whose_quota_has_room_after_the_jobs_that_hold_it()
    {
        var job = Job("a", JobState.Interrupted, hours: 4, deadlineHours: 4.05, attempt: 1);
        // The cheapest fit, g5.4xlarge (16 vCPUs), would overrun the g quota a running job holds.
        var holder = OnDemandHolder("held", "g5.4xlarge");

        var actions = Reconciler.Decide([job, holder], [Instance(job, InstanceState.Interrupted), Instance(holder, InstanceState.Running)], Now, Catalog,
            limits: Quotas(g: 16, p: 8));

        var sw = Assert.IsType<SwitchToOnDemand>(Assert.Single(actions));
        Assert.Equal("p3.2xlarge", sw.Request.InstanceType);
    }

    [Fact]
    public void With_no_on_demand_capacity_left_an_interrupted_job_goes_back_to_the_planner_saying_so()
    {
        var job = Job("a", JobState.Interrupted, hours: 4, deadlineHours: 4.05, attempt: 1);
        JobRecord[] holders = [OnDemandHolder("g", "g5.4xlarge"), OnDemandHolder("p", "p3.2xlarge")];

        var actions = Reconciler.Decide([job, .. holders], [Instance(job, InstanceState.Interrupted), .. holders.Select(h => Instance(h, InstanceState.Running))],
            Now, Catalog, limits: Quotas(g: 16, p: 8));

        var replan = Assert.IsType<Replan>(Assert.Single(actions));
        Assert.Contains("no on-demand capacity left", replan.Why, StringComparison.Ordinal);
        Assert.Contains("on-demand:us-east-1:g 16/16", replan.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void With_no_on_demand_capacity_left_a_running_spot_job_stays_on_spot_and_says_so()
    {
        var job = Job("a", JobState.Running, hours: 4, deadlineHours: 4.1, attempt: 1);
        JobRecord[] holders = [OnDemandHolder("g", "g5.4xlarge"), OnDemandHolder("p", "p3.2xlarge")];

        var actions = Reconciler.Decide([job, .. holders], [Instance(job, InstanceState.Running), .. holders.Select(h => Instance(h, InstanceState.Running))],
            Now, Catalog, limits: Quotas(g: 16, p: 8));

        var warn = Assert.IsType<Warn>(Assert.Single(actions));
        Assert.Contains("no on-demand capacity left", warn.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_jobs_falling_back_at_once_cannot_both_take_the_last_room()
    {
        JobRecord[] jobs = [Job("a", JobState.Interrupted, hours: 4, deadlineHours: 4.05, attempt: 1), Job("b", JobState.Interrupted, hours: 4, deadlineHours: 4.05, attempt: 1)];

        var actions = Reconciler.Decide(jobs, [.. jobs.Select(j => Instance(j, InstanceState.Interrupted))], Now, Catalog, limits: Quotas(g: 16, p: 0));

        Assert.Equal([typeof(SwitchToOnDemand), typeof(Replan)], actions.Select(a => a.GetType()));
    }

    [Fact]
    public void An_instance_of_an_unknown_job_is_terminated()
    {
        var ghost = Job("ghost", JobState.Running, attempt: 1);

        var stop = Assert.IsType<Terminate>(Assert.Single(Decide([], Instance(ghost, InstanceState.Running))));

        Assert.Equal("no such job", stop.Why);
    }

    [Fact]
    public void The_same_id_in_two_teams_is_two_jobs_each_following_its_own_instance()
    {
        var ours = Job("a", JobState.Running, attempt: 1);
        var theirs = Job("a", JobState.Launching, attempt: 1) with { Team = "other" };

        var actions = Decide([ours, theirs],
            Instance(ours, InstanceState.Succeeded), Instance(theirs, InstanceState.Running) with { InstanceId = "i-other-a-1" });

        Assert.Equal(
            [(new JobKey("ml", "a"), JobState.Succeeded, "i-a-1"), (new JobKey("other", "a"), JobState.Running, "i-other-a-1")],
            actions.Cast<RecordObservation>().Select(o => (o.Job, o.NewState, o.Instance.InstanceId)));
    }

    [Fact]
    public void An_instance_of_another_teams_job_under_a_known_id_is_an_orphan()
    {
        var ours = Job("a", JobState.Running, attempt: 1);
        var stranger = Instance(ours with { Team = "other" }, InstanceState.Running) with { InstanceId = "i-other-a-1" };

        var stop = Assert.IsType<Terminate>(Assert.Single(Decide([ours], Instance(ours, InstanceState.Running), stranger)));

        Assert.Equal((new JobKey("other", "a"), "i-other-a-1", "no such job"), (stop.Job, stop.InstanceId, stop.Why));
    }

    [Fact]
    public void A_queued_job_whose_deadline_passed_fails()
    {
        var job = Job("a", JobState.Queued, deadlineHours: -1);

        Assert.IsType<MarkFailed>(Assert.Single(Decide([job])));
    }

    /// <summary>A market where the feed says both us-east-1 pools of p3.2xlarge have spot capacity now.</summary>
    private static SpotMarketSnapshot TwoZones()
    {
        var history = new SpotAvailabilityHistory(TimeSpan.FromMinutes(1));
        history.Record(Now, [new SpotPoolReading("us-east-1", "p3.2xlarge", 1, 0.6), new SpotPoolReading("us-east-1b", "p3.2xlarge", 1, 0.6)]);
        return history.At(Now);
    }

    private static InstanceStatus Noticed(InstanceStatus instance, double minutesAgo = 0.5) =>
        instance with { InterruptionNoticeAt = Now.AddMinutes(-minutesAgo) };

    [Fact]
    public void A_spot_attempt_with_an_interruption_notice_has_its_next_attempt_launched_in_another_zone_while_it_keeps_running()
    {
        var job = Job("a", JobState.Running, hours: 4, deadlineHours: 12, checkpointable: true, attempt: 1) with { DoneHours = 1 };

        var actions = Reconciler.Decide([job], [Noticed(Instance(job, InstanceState.Running, saved: 0.5))], Now, Catalog, market: TwoZones());

        // No Terminate: the noticed instance keeps its last two minutes to checkpoint, and the cloud takes it back.
        var launch = Assert.IsType<Launch>(Assert.Single(actions));
        Assert.Equal((2, Market.Spot, "us-east-1b", 1.5), (launch.Attempt, launch.Request.Market, launch.Request.Zone, launch.SavedHours));
        Assert.Equal("i-a-1", launch.Noticed?.InstanceId);
    }

    [Fact]
    public void A_noticed_spot_attempt_is_not_moved_to_a_cheaper_spot_pool_in_another_region_than_its_data_and_plan()
    {
        // us-east-1 and us-west-2 in one catalog; the job's 500 GB live in us-east-1, where the plan put it.
        var catalog = Catalog.Combine([Catalog, new Catalog(Catalog.Provider, "us-west-2", Catalog.Entries)], Catalog.Transfer);
        var job = Job("a", JobState.Running, hours: 4, deadlineHours: 12, checkpointable: true, attempt: 1) with { DoneHours = 1 };
        job = job with { Job = job.Job with { InputDataSizeGB = 500, DataRegion = "us-east-1" } };
        var history = new SpotAvailabilityHistory(TimeSpan.FromMinutes(1));
        history.Record(Now, [new SpotPoolReading("us-east-1", "p3.2xlarge", 1, 0.6), new SpotPoolReading("us-west-2", "p3.2xlarge", 1, 0.3)]);

        var actions = Reconciler.Decide([job], [Noticed(Instance(job, InstanceState.Running, saved: 0.5))], Now, catalog, market: history.At(Now));

        // The only spot pool with capacity is the other region's: the policy stays in the planned region (on-demand
        // there, or waiting); a move across regions is the planner's, which prices the transfer.
        Assert.DoesNotContain(actions, a => a is Launch { Request.Zone: "us-west-2" });
        Assert.All(actions.OfType<Launch>(), l => Assert.Equal((Market.OnDemand, "us-east-1"), (l.Request.Market, catalog.RegionOfZone(l.Request.Zone))));
    }

    [Fact]
    public void Without_a_notice_the_same_spot_attempt_stays_where_it_runs()
    {
        var job = Job("a", JobState.Running, hours: 4, deadlineHours: 12, checkpointable: true, attempt: 1) with { DoneHours = 1 };

        Assert.Empty(Reconciler.Decide([job], [Instance(job, InstanceState.Running, saved: 0.5)], Now, Catalog, market: TwoZones()));
    }

    [Fact]
    public void A_noticed_spot_attempt_whose_only_pool_is_going_moves_to_on_demand_now_without_stopping_the_instance()
    {
        // 4 h of work due in 4.5 h, nothing saved: spot can keep it a while yet, but waiting for spot once the pool is
        // gone would spend the slack; the move is made at the notice, not two minutes later.
        var job = Job("a", JobState.Running, hours: 4, deadlineHours: 4.5, attempt: 1);
        Assert.Empty(Decide([job], Instance(job, InstanceState.Running)));

        var sw = Assert.IsType<SwitchToOnDemand>(Assert.Single(Decide([job], Noticed(Instance(job, InstanceState.Running)))));

        Assert.Equal((2, Market.OnDemand, (string?)null, "i-a-1"), (sw.Attempt, sw.Request.Market, sw.SpotInstanceId, sw.Noticed?.InstanceId));
    }

    [Fact]
    public void A_noticed_spot_attempt_with_long_slack_moves_to_on_demand_at_the_notice_where_an_interrupted_one_waits_for_spot()
    {
        // 4 h of work due in 12 h, no spot anywhere: an outage the policy only forecasts it may wait out (patience), but
        // a notice is the cloud saying the pool is going, so the noticed job is covered at once.
        var job = Job("a", JobState.Running, hours: 4, deadlineHours: 12, attempt: 1);
        var noSpot = NoSpot("p3.2xlarge", "g5.4xlarge");

        var noticed = Reconciler.Decide([job], [Noticed(Instance(job, InstanceState.Running))], Now, Catalog, market: noSpot);
        var interrupted = Reconciler.Decide([job], [Instance(job, InstanceState.Interrupted)], Now, Catalog, market: noSpot);

        var sw = Assert.IsType<SwitchToOnDemand>(Assert.Single(noticed));
        Assert.Equal((Market.OnDemand, "i-a-1"), (sw.Request.Market, sw.Noticed?.InstanceId));
        Assert.Equal(JobState.Interrupted, Assert.IsType<RecordObservation>(Assert.Single(interrupted)).NewState);
    }

    [Fact]
    public void A_noticed_instance_of_the_previous_attempt_is_left_to_the_cloud_until_it_is_overdue()
    {
        var job = Job("a", JobState.Running, market: Market.OnDemand, attempt: 2);
        var replaced = Instance(job, InstanceState.Running, attempt: 1) with { Market = Market.Spot, InstanceType = "p3.2xlarge" };
        var noSpot = NoSpot("p3.2xlarge", "g5.4xlarge");

        var inTime = Reconciler.Decide([job], [Instance(job, InstanceState.Running), Noticed(replaced, minutesAgo: 1)], Now, Catalog, market: noSpot);
        var overdue = Reconciler.Decide([job], [Instance(job, InstanceState.Running), Noticed(replaced, minutesAgo: 3)], Now, Catalog, market: noSpot);
        var cancelled = Reconciler.Decide([job with { State = JobState.Cancelled }], [Noticed(replaced, minutesAgo: 1)], Now, Catalog, market: noSpot);

        Assert.Empty(inTime);
        Assert.Equal("i-a-1", Assert.IsType<Terminate>(Assert.Single(overdue)).InstanceId);
        Assert.Equal("i-a-1", Assert.IsType<Terminate>(Assert.Single(cancelled)).InstanceId);
    }

    [Fact]
    public void Deciding_twice_on_the_same_world_gives_the_same_actions()
    {
        var jobs = new[]
        {
            Job("a", JobState.Planned), Job("b", JobState.Running, attempt: 1), Job("c", JobState.Interrupted, attempt: 1),
            Job("d", JobState.Cancelled, attempt: 1),
        };
        InstanceStatus[] observed = [Instance(jobs[1], InstanceState.Succeeded), Instance(jobs[2], InstanceState.Interrupted), Instance(jobs[3], InstanceState.Running)];

        var first = Decide(jobs, observed).Select(a => a.Key);
        var second = Decide(jobs, observed).Select(a => a.Key);

        Assert.Equal(first, second);
        Assert.Equal(["ml/a#1:Launch", "ml/b#1:RecordObservation", "ml/c#2:Launch", "ml/d#1:Terminate"], first);
    }

    /// <summary>A planned job with scheduling windows (issue 16); <see cref="Now"/> is Tuesday 12:00 UTC.</summary>
    private static JobRecord Windowed(JobRecord job, params string[] windows) => job with { Job = job.Job with { Windows = [.. windows] } };

    [Theory]
    [InlineData(Market.Spot)]
    [InlineData(Market.OnDemand)]
    public void A_planned_job_whose_run_fits_its_window_is_launched(Market market)
    {
        var job = Windowed(Job("a", JobState.Planned, market, hours: 4), "Tue 09:00-17:00");

        Assert.IsType<Launch>(Assert.Single(Decide([job])));
    }

    [Theory]
    [InlineData(Market.Spot)]
    [InlineData(Market.OnDemand)]
    public void A_late_launch_that_would_run_past_its_window_goes_back_to_the_planner(Market market)
    {
        // Planned to start inside the window, but 6 h from 12:00 ends at 18:00, after the window closes at 17:00.
        var job = Windowed(Job("a", JobState.Planned, market, hours: 6), "Tue 09:00-17:00");

        var replan = Assert.IsType<Replan>(Assert.Single(Decide([job])));

        Assert.StartsWith("window: ", replan.Why, StringComparison.Ordinal);
        Assert.Contains("'Tue 09:00-17:00'", replan.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void A_planned_job_is_not_launched_outside_its_window()
    {
        var job = Windowed(Job("a", JobState.Planned, Market.OnDemand, hours: 1), "Wed");

        Assert.IsType<Replan>(Assert.Single(Decide([job])));
    }

    /// <summary>Tuesday 12:00 (<see cref="Now"/>) is inside the first window; the next opens Wednesday 09:00.</summary>
    private static readonly string[] TuesdayThenWednesday = ["Tue 09:00-14:00", "Wed 09:00-17:00"];

    [Fact]
    public void An_interrupted_windowed_job_is_not_relaunched_outside_its_window_and_is_relaunched_at_the_windows_start()
    {
        // 4 h of spot work interrupted at 12:00: a relaunch now (with its 0.1 h restart) would run to 16:06, past 14:00.
        var job = Windowed(Job("a", JobState.Interrupted, hours: 4, deadlineHours: 48, attempt: 1), TuesdayThenWednesday);
        InstanceStatus[] observed = [Instance(job, InstanceState.Interrupted)];
        var wednesday = new DateTimeOffset(2026, 11, 25, 9, 0, 0, TimeSpan.Zero);

        var atInterruption = Assert.IsType<Replan>(Assert.Single(Reconciler.Decide([job], observed, Now, Catalog)));
        var justBefore = Assert.IsType<Replan>(Assert.Single(Reconciler.Decide([job], observed, wednesday.AddMinutes(-1), Catalog)));
        var atStart = Assert.IsType<Launch>(Assert.Single(Reconciler.Decide([job], observed, wednesday, Catalog)));

        Assert.StartsWith("window: a relaunch on spot now would run to 2026-11-24T16:0", atInterruption.Why, StringComparison.Ordinal);
        Assert.Contains("outside its windows 'Tue 09:00-14:00', 'Wed 09:00-17:00'; back to the planner", atInterruption.Why, StringComparison.Ordinal);
        Assert.StartsWith("window: ", justBefore.Why, StringComparison.Ordinal);
        Assert.Equal((2, Market.Spot), (atStart.Attempt, atStart.Request.Market));
    }

    [Fact]
    public void A_spot_attempt_taken_back_near_its_windows_end_goes_back_to_the_planner_instead_of_moving()
    {
        // The same world as the move to on-demand in the same tick, but the on-demand run would end after 14:00.
        var job = Windowed(Job("a", JobState.Running, hours: 4, deadlineHours: 2.11, checkpointable: true, attempt: 1), TuesdayThenWednesday);

        var actions = Reconciler.Decide([job], [Instance(job, InstanceState.Interrupted, saved: 2)], Now, Catalog, market: NoSpot("p3.2xlarge"));

        Assert.Equal(["ml/a#1:RecordObservation", "ml/a#1:Replan"], actions.Select(a => a.Key));
        var replan = (Replan)actions[1];
        Assert.StartsWith("window: the spot policy's move to on-demand now would run to", replan.Why, StringComparison.Ordinal);
        Assert.Equal(2, replan.SavedHours, 9);
    }

    [Fact]
    public void The_safety_net_does_not_move_an_interrupted_job_outside_its_window()
    {
        // Past its fallback moment, but the on-demand run (4.1 h from 12:00) would end after 14:00.
        var job = Windowed(Job("a", JobState.Interrupted, market: Market.OnDemand, hours: 4, deadlineHours: 4.05, attempt: 1), TuesdayThenWednesday);

        var replan = Assert.IsType<Replan>(Assert.Single(Decide([job], Instance(job, InstanceState.Interrupted))));

        Assert.StartsWith("window: the safety net's move to on-demand now would run to", replan.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void A_policy_move_that_would_run_outside_the_window_does_not_happen_and_the_running_instance_stays()
    {
        // The move to a cheaper zone (2.5 h left plus a 0.1 h changeover: 14:36) would leave a window that the running
        // attempt (2.5 h left: 14:30) fits; with the window to 15:00 the same move is made.
        var job = Job("a", JobState.Running, hours: 4, deadlineHours: 12, checkpointable: true, attempt: 1) with { DoneHours = 1 };
        var history = new SpotAvailabilityHistory(TimeSpan.FromMinutes(1));
        history.Record(Now, [new SpotPoolReading("us-east-1", "p3.2xlarge", 1, 3.0), new SpotPoolReading("us-east-1b", "p3.2xlarge", 1, 0.5)]);
        InstanceStatus[] observed = [Instance(job, InstanceState.Running, saved: 0.5)];

        var tight = Reconciler.Decide([Windowed(job, "Tue 09:00-14:33")], observed, Now, Catalog, market: history.At(Now));
        var roomy = Reconciler.Decide([Windowed(job, "Tue 09:00-15:00")], observed, Now, Catalog, market: history.At(Now));

        Assert.Empty(tight);
        Assert.Equal(["ml/a#1:Terminate", "ml/a#2:Launch"], roomy.Select(a => a.Key));
    }

    [Fact]
    public void A_running_spot_job_at_its_fallback_moment_keeps_its_instance_when_on_demand_would_leave_the_window()
    {
        var job = Windowed(Job("a", JobState.Running, hours: 4, deadlineHours: 4.1, attempt: 1), TuesdayThenWednesday);

        Assert.Empty(Decide([job], Instance(job, InstanceState.Running)));
    }

    [Fact]
    public void A_run_still_going_after_its_window_closed_finishes_and_the_team_is_told_once()
    {
        // It ran longer than estimated: the window closed at 11:30. Stopping it would lose its work; it finishes.
        var job = Windowed(Job("a", JobState.Running, market: Market.OnDemand, hours: 4, attempt: 1), "Tue 09:00-11:30");
        var instance = Instance(job, InstanceState.Running);

        var warn = Assert.IsType<Warn>(Assert.Single(Decide([job], instance)));
        var again = Decide([job with { LastError = warn.Why }], instance);

        Assert.StartsWith("window: the run is past the end of its windows 'Tue 09:00-11:30'", warn.Why, StringComparison.Ordinal);
        Assert.Contains("it finishes", warn.Why, StringComparison.Ordinal);
        Assert.Empty(again);
    }
}
