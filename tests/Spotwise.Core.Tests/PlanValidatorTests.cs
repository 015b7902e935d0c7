using System.Collections.Immutable;
using Spotwise.Core.Serialization;

namespace Spotwise.Core.Tests;

public class PlanValidatorTests
{
    private static readonly DateTimeOffset Now = TestData.Now;

    private static readonly ResourceRequest P3 = ResourceRequest.ForInstanceTypes(["p3.2xlarge"]);

    private static PlanningProblem Problem(CapacityLimits limits, params Job[] jobs) => new(Now, jobs, TestData.Catalog, limits);

    /// <summary>A plan placing each job on its cheapest option of the given market at the given start.</summary>
    private static Plan Place(PlanningProblem problem, params (string JobId, Market Market, DateTimeOffset Start)[] picks)
    {
        var options = OptionBuilder.Build(problem);
        var chosen = picks.ToDictionary(
            p => p.JobId,
            p => (options.Single(o => o.Job.Id == p.JobId).Options.First(o => o.Offer.Market == p.Market), p.Start));
        var unplanned = problem.Jobs.Where(j => !chosen.ContainsKey(j.Id)).ToDictionary(j => j.Id, _ => "left out");
        return PlanBuilder.Build("test", problem, options, chosen, unplanned, PlanStatus.Feasible, solveSeconds: 0);
    }

    private static Job Gpu(string id, double hours = 2, DateTimeOffset? deadline = null) =>
        TestData.Job(id, hours, deadline) with { Resources = P3 };

    private static CapacityLimits SpotPoolOfP3(int size) => CapacityLimits.None with { SpotPoolSizes = ImmutableDictionary<string, int>.Empty.Add("p3.2xlarge", size) };

    private static CapacityLimits OnDemandQuotaOfP(int vcpus) => CapacityLimits.None with { OnDemandVcpuQuotas = ImmutableDictionary<string, int>.Empty.Add("p", vcpus) };

    [Fact]
    public void An_offer_in_a_zone_the_catalog_does_not_price_is_a_violation()
    {
        var problem = Problem(CapacityLimits.None, Gpu("a"));
        var plan = Place(problem, ("a", Market.OnDemand, Now));
        var moved = plan with { Schedule = [plan.Schedule[0] with { Offer = plan.Schedule[0].Offer with { Zone = "mars-1a" } }] };

        var violation = Assert.Single(PlanValidator.Validate(moved, problem));

        Assert.Equal((ViolationKind.UnknownZone, "a"), (violation.Kind, violation.JobId));
    }

    [Fact]
    public void A_greedy_plan_of_a_mixed_queue_has_no_violations()
    {
        var problem = Problem(CapacityLimits.Default,
            TestData.Job("train", 6, Now.AddHours(20), "gpu_large", checkpointable: true),
            TestData.Job("etl", 2, Now.AddHours(3), "cpu_medium"),
            TestData.Job("report", 1, Now.AddHours(8)) with { DependsOn = ["etl"] },
            TestData.Job("backfill", 4, resourceClass: "cpu_large", earliestStart: Now.AddHours(2)));

        var plan = TestPlanner.CheapestAtEarliest(problem);

        Assert.Empty(PlanValidator.Validate(plan, problem));
        var byJob = plan.Schedule.ToDictionary(a => a.JobId);
        Assert.Equal(4, plan.Totals.JobsPlanned);
        Assert.Equal((Market.Spot, CostModel.FallbackAt(problem.Jobs[0])), (byJob["train"].Market, byJob["train"].FallbackAt));
        Assert.Equal((Market.OnDemand, (DateTimeOffset?)null), (byJob["etl"].Market, byJob["etl"].FallbackAt));
        Assert.Equal(byJob["etl"].End, byJob["report"].Start);
        Assert.Equal(Now.AddHours(2), byJob["backfill"].Start);
    }

    [Fact]
    public void The_seed_sample_planned_greedily_within_default_limits_has_no_violations()
    {
        var jobs = JobsFile.Parse(File.ReadAllText(RepoPaths.Sample("seed-jobs.json")), Now, TestData.Catalog).Value;
        var problem = Problem(CapacityLimits.Default, [.. jobs]);

        var plan = TestPlanner.CheapestAtEarliest(problem);

        Assert.Empty(PlanValidator.Validate(plan, problem));
        Assert.Equal(4, plan.Schedule.Length);
    }

    [Fact]
    public void A_plan_that_lists_every_job_unplanned_is_valid()
    {
        var problem = Problem(CapacityLimits.None, Gpu("a"), Gpu("b"));

        Assert.Empty(PlanValidator.Validate(Place(problem), problem));
    }

    [Fact]
    public void Back_to_back_runs_in_a_pool_of_one_are_not_over_capacity()
    {
        var problem = Problem(SpotPoolOfP3(1), Gpu("a"), Gpu("b"));

        var plan = Place(problem, ("a", Market.Spot, Now), ("b", Market.Spot, Now.AddHours(2)));

        Assert.Equal(plan.Schedule[0].End, plan.Schedule[1].Start);
        Assert.Empty(PlanValidator.Validate(plan, problem));
    }

    [Fact]
    public void Runs_overlapping_by_a_minute_in_a_pool_of_one_are_over_capacity_naming_the_later_one()
    {
        var problem = Problem(SpotPoolOfP3(1), Gpu("a"), Gpu("b"));

        var plan = Place(problem, ("a", Market.Spot, Now), ("b", Market.Spot, Now.AddHours(2).AddMinutes(-1)));

        var violation = Assert.Single(PlanValidator.Validate(plan, problem));
        Assert.Equal((ViolationKind.OverCapacity, "b"), (violation.Kind, violation.JobId));
        Assert.Contains("spot:us-east-1:p3.2xlarge holds 2", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_simultaneous_runs_fit_a_pool_of_two()
    {
        var problem = Problem(SpotPoolOfP3(2), Gpu("a"), Gpu("b"));

        Assert.Empty(PlanValidator.Validate(Place(problem, ("a", Market.Spot, Now), ("b", Market.Spot, Now)), problem));
    }

    [Theory]
    [InlineData(16, false)]
    [InlineData(15, true)]
    public void On_demand_quotas_count_the_vcpus_of_overlapping_runs(int quota, bool over)
    {
        var problem = Problem(OnDemandQuotaOfP(quota), Gpu("a"), Gpu("b"));

        var plan = Place(problem, ("a", Market.OnDemand, Now), ("b", Market.OnDemand, Now.AddHours(1)));

        Assert.Equal(over, PlanValidator.Validate(plan, problem).Any(v => v.Kind == ViolationKind.OverCapacity));
    }

    [Fact]
    public void A_run_bigger_than_its_quota_alone_is_over_capacity()
    {
        var problem = Problem(OnDemandQuotaOfP(4), Gpu("a"));

        var violation = Assert.Single(PlanValidator.Validate(Place(problem, ("a", Market.OnDemand, Now)), problem));

        Assert.Equal((ViolationKind.OverCapacity, "a"), (violation.Kind, violation.JobId));
    }

    [Fact]
    public void A_spot_start_at_the_latest_safe_moment_is_safe_and_a_minute_later_is_not()
    {
        // 2 h that cannot checkpoint, due 13:00, 6 min restart: latest safe spot start 13:00 - 4h06 = 08:54.
        var problem = Problem(CapacityLimits.None, Gpu("a", 2, Now.AddHours(5)));
        var latest = new DateTimeOffset(2026, 11, 24, 8, 54, 0, TimeSpan.Zero);

        var atLatest = PlanValidator.Validate(Place(problem, ("a", Market.Spot, latest)), problem);
        var later = PlanValidator.Validate(Place(problem, ("a", Market.Spot, latest.AddMinutes(1))), problem);

        Assert.Empty(atLatest);
        var violation = Assert.Single(later);
        Assert.Equal((ViolationKind.UnsafeSpot, "a"), (violation.Kind, violation.JobId));
        Assert.Contains("after 2026-11-24T08:54:00+00:00 an interruption leaves no time", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_spot_run_without_its_fallback_moment_is_unsafe()
    {
        var problem = Problem(CapacityLimits.None, Gpu("a", 2, Now.AddHours(8)));
        var plan = Place(problem, ("a", Market.Spot, Now));

        var broken = plan with { Schedule = [plan.Schedule[0] with { FallbackAt = null }] };

        var violation = Assert.Single(PlanValidator.Validate(broken, problem));
        Assert.Equal("UnsafeSpot [a]: fallbackAt missing should be 2026-11-24T13:54:00+00:00", violation.ToString());
    }

    [Fact]
    public void Times_are_compared_to_the_second()
    {
        var problem = Problem(CapacityLimits.None, Gpu("a", 2, Now.AddHours(2)));
        var plan = Place(problem, ("a", Market.OnDemand, Now));
        var a = plan.Schedule[0];

        var earlyWithinASecond = plan with { Schedule = [a with { Start = a.Start.AddMilliseconds(-900), End = a.End.AddMilliseconds(-900) }] };
        var longAndLateWithinASecond = plan with { Schedule = [a with { End = a.End.AddMilliseconds(900) }] };
        var twoSecondsLate = plan with { Schedule = [a with { Start = a.Start.AddSeconds(2), End = a.End.AddSeconds(2) }] };

        Assert.Empty(PlanValidator.Validate(earlyWithinASecond, problem));
        Assert.Empty(PlanValidator.Validate(longAndLateWithinASecond, problem));
        Assert.Equal([ViolationKind.MissesDeadline], PlanValidator.Validate(twoSecondsLate, problem).Select(v => v.Kind));
    }

    [Fact]
    public void A_planned_job_whose_dependency_is_unplanned_breaks_the_dependency_order()
    {
        var problem = Problem(CapacityLimits.None, Gpu("a"), Gpu("b") with { DependsOn = ["a"] });

        var violation = Assert.Single(PlanValidator.Validate(Place(problem, ("b", Market.OnDemand, Now.AddHours(3))), problem));

        Assert.Equal("DependencyOrder [b]: depends on 'a', which is not planned", violation.ToString());
    }

    [Fact]
    public void Totals_that_do_not_add_up_name_both_sums()
    {
        var problem = Problem(CapacityLimits.None, Gpu("a"));
        var plan = Place(problem, ("a", Market.OnDemand, Now));

        var violation = Assert.Single(PlanValidator.Validate(plan with { Totals = plan.Totals with { ExpectedCostUsd = 1 } }, problem));

        Assert.Equal("TotalsMismatch: totals say 1 USD but the schedule adds up to 6.12 USD", violation.ToString());
    }

    [Fact]
    public void Totals_that_miscount_the_jobs_are_a_mismatch()
    {
        var problem = Problem(CapacityLimits.None, Gpu("a"));
        var plan = Place(problem, ("a", Market.OnDemand, Now));

        var violation = Assert.Single(PlanValidator.Validate(plan with { Totals = plan.Totals with { JobsPlanned = 5 } }, problem));

        Assert.Equal("TotalsMismatch: totals count 5 planned and 0 unplanned, the plan lists 1 and 0", violation.ToString());
    }

    [Fact]
    public void An_on_demand_assignment_with_a_fallback_moment_is_flagged()
    {
        var problem = Problem(CapacityLimits.None, Gpu("a"));
        var plan = Place(problem, ("a", Market.OnDemand, Now));
        var bad = plan with { Schedule = [plan.Schedule[0] with { FallbackAt = Now.AddHours(1) }] };

        var violation = Assert.Single(PlanValidator.Validate(bad, problem));

        Assert.Equal(ViolationKind.FallbackOnOnDemand, violation.Kind);
        Assert.Equal("a", violation.JobId);
    }
}
