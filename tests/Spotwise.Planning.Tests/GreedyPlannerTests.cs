using Spotwise.Core;
using Spotwise.Core.Serialization;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

public class GreedyPlannerTests
{
    private static readonly Catalog OneType = TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.03));

    /// <summary>One c5.large of on-demand quota and no spot room: capacity binds at once.</summary>
    private static readonly CapacityLimits OneOnDemandSlot = new() { DefaultOnDemandVcpuQuota = 2, DefaultSpotPoolSize = 0 };

    private static Plan Greedy(PlanningProblem problem) => PlanWith(new GreedyPlanner(), problem);

    [Fact]
    public void Plans_every_job_of_the_seed_queue_on_the_real_catalog()
    {
        var jobs = JobsFile.Parse(File.ReadAllText(RepoPaths.Sample("seed-jobs.json")), Now, RealCatalog);
        Assert.True(jobs.Ok, string.Join("; ", jobs.Errors));
        var problem = new PlanningProblem(Now, jobs.Value, RealCatalog, CapacityLimits.Default);

        var plan = Greedy(problem);

        Assert.Empty(plan.Unplanned);
        Assert.Equal(4, plan.Totals.JobsPlanned);
        // job-003 has 19 h of slack: spot; the others are too tight for a fallback.
        Assert.Equal(Market.Spot, Scheduled(plan, "job-003").Market);
        Assert.Equal(Market.OnDemand, Scheduled(plan, "job-002").Market);
        Assert.Equal(Market.OnDemand, Scheduled(plan, "job-004").Market);
        Assert.All(plan.Schedule, a => Assert.Equal(Now, a.Start));
        Assert.True(plan.Totals.ExpectedCostUsd < plan.Totals.OnDemandCostUsd);
    }

    [Fact]
    public void Spot_is_not_chosen_when_slack_cannot_absorb_a_fallback()
    {
        // 2 h of work due in 3 h: an interruption near the end leaves 2 h to redo plus the restart, which do not fit.
        var problem = Problem([Job("tight", hours: 2, deadlineHours: 3)], OneType, CapacityLimits.None, gridMinutes: 5);

        var a = Scheduled(Greedy(problem), "tight");

        Assert.Equal(Market.OnDemand, a.Market);
        Assert.Null(a.FallbackAt);
        Assert.Contains("too little slack", a.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Spot_is_chosen_when_slack_absorbs_a_fallback_and_the_plan_records_when_to_fall_back()
    {
        var problem = Problem([Job("relaxed", hours: 2, deadlineHours: 10)], OneType, CapacityLimits.None, gridMinutes: 5);

        var a = Scheduled(Greedy(problem), "relaxed");

        Assert.Equal(Market.Spot, a.Market);
        Assert.Equal(Now.AddHours(10 - 2 - Spotwise.Core.Job.DefaultRestartOverheadHours), a.FallbackAt);
    }

    [Fact]
    public void A_checkpointable_job_needs_less_slack_for_spot_than_one_that_cannot_checkpoint()
    {
        // Due in 3 h: losing at most half an hour of work leaves room for a fallback; losing all 2 h does not.
        var problem = Problem(
            [Job("saves", hours: 2, deadlineHours: 3, checkpointable: true), Job("restarts", hours: 2, deadlineHours: 3)],
            OneType, CapacityLimits.None, gridMinutes: 5);

        var plan = Greedy(problem);

        Assert.Equal(Market.Spot, Scheduled(plan, "saves").Market);
        Assert.Equal(Market.OnDemand, Scheduled(plan, "restarts").Market);
    }

    [Fact]
    public void Higher_priority_wins_the_only_slot()
    {
        var problem = Problem(
            [Job("low", hours: 1, deadlineHours: 1, priority: 2), Job("high", hours: 1, deadlineHours: 1, priority: 8)],
            OneType, OneOnDemandSlot);

        var plan = Greedy(problem);

        Assert.Equal(Now, Scheduled(plan, "high").Start);
        Assert.Contains("full", UnplannedOf(plan, "low").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Of_equal_priority_the_earlier_deadline_is_placed_first()
    {
        var problem = Problem(
            [Job("later", hours: 1, deadlineHours: 2), Job("sooner", hours: 1, deadlineHours: 1)],
            OneType, OneOnDemandSlot);

        var plan = Greedy(problem);

        Assert.Equal(Now, Scheduled(plan, "sooner").Start);
        Assert.Equal(Now.AddHours(1), Scheduled(plan, "later").Start);
    }

    [Fact]
    public void A_dependent_starts_after_its_prerequisite_ends()
    {
        var problem = Problem(
            [
                Job("train", hours: 2, deadlineHours: 8, priority: 9, dependsOn: "prep"),
                Job("prep", hours: 1.5, deadlineHours: 8, priority: 1, earliestHours: 1),
            ],
            OneType, CapacityLimits.None);

        var plan = Greedy(problem);

        var prep = Scheduled(plan, "prep");
        var train = Scheduled(plan, "train");
        Assert.True(train.Start >= prep.End, $"train starts {train.Start:t}, before prep ends {prep.End:t}");
        Assert.Equal(Now.AddHours(1), prep.Start);
    }

    [Fact]
    public void A_dependent_of_an_unplannable_job_is_reported_unplanned_naming_the_prerequisite()
    {
        var problem = Problem(
            [Job("prep", hours: 2, deadlineHours: 1), Job("train", hours: 1, deadlineHours: 8, dependsOn: "prep")],
            OneType, CapacityLimits.None);

        var plan = Greedy(problem);

        Assert.Empty(plan.Schedule);
        Assert.Contains("'prep'", UnplannedOf(plan, "train").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_whose_deadline_cannot_be_met_is_reported_unplanned_not_dropped()
    {
        var problem = Problem(
            [Job("late", hours: 3, deadlineHours: 2), Job("fine", hours: 1, deadlineHours: 4)],
            OneType, CapacityLimits.None);

        var plan = Greedy(problem);

        Scheduled(plan, "fine");
        var late = UnplannedOf(plan, "late");
        Assert.Contains("deadline", late.Reason, StringComparison.Ordinal);
        Assert.Contains("cannot be met", late.Reason, StringComparison.Ordinal);
        Assert.Equal(PlanStatus.Infeasible, plan.Status);
        Assert.Equal(1, plan.Totals.JobsUnplanned);
    }

    [Fact]
    public void A_job_that_no_catalog_type_satisfies_is_reported_unplanned_with_the_reason()
    {
        var problem = Problem([Job("exotic", hours: 1, deadlineHours: 4, types: ["p5.48xlarge"])], OneType, CapacityLimits.None);

        var plan = Greedy(problem);

        Assert.Contains("no instance type", UnplannedOf(plan, "exotic").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_crowded_out_of_full_pools_is_reported_with_the_pools_it_tried()
    {
        var problem = Problem(
            [Job("first", hours: 2, deadlineHours: 2, priority: 9), Job("second", hours: 1, deadlineHours: 2, priority: 1)],
            OneType, OneOnDemandSlot);

        var plan = Greedy(problem);

        Assert.Contains("on-demand:us-east-1:standard", UnplannedOf(plan, "second").Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_job_waits_for_room_in_its_pool_when_its_deadline_allows()
    {
        var problem = Problem(
            [Job("a", hours: 1, deadlineHours: 3, priority: 9), Job("b", hours: 1, deadlineHours: 3, priority: 5)],
            OneType, OneOnDemandSlot);

        var plan = Greedy(problem);

        Assert.Equal(Now, Scheduled(plan, "a").Start);
        Assert.Equal(Now.AddHours(1), Scheduled(plan, "b").Start);
    }
}
