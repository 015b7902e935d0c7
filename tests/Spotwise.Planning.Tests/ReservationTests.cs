using Spotwise.Core;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

/// <summary>Capacity held by running jobs when planning starts: every planner and the validator count it.</summary>
public class ReservationTests
{
    private static readonly Catalog OnDemandOnly = TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.10));

    /// <summary>One c5.large at a time, and a running job holds it for the next two hours.</summary>
    private static PlanningProblem HeldForTwoHours(params Job[] jobs)
    {
        var offer = OnDemandOnly.OfferFor(OnDemandOnly.Find("c5.large")!, Market.OnDemand);
        return Problem(jobs, OnDemandOnly, new CapacityLimits { DefaultOnDemandVcpuQuota = 2 }) with
        {
            Reservations = [new CapacityReservation("running", offer, Now.AddHours(-1), Now.AddHours(2))],
        };
    }

    public static TheoryData<string> PlannerNames => [.. Planners.Names];

    [Theory]
    [MemberData(nameof(PlannerNames))]
    public void A_job_waits_for_capacity_a_running_job_holds(string planner)
    {
        var problem = HeldForTwoHours(Job("next", hours: 1, deadlineHours: 5));

        var plan = PlanWith(Planners.Create(planner)!, problem);

        Assert.Equal(Now.AddHours(2), Scheduled(plan, "next").Start);
    }

    [Theory]
    [MemberData(nameof(PlannerNames))]
    public void A_job_that_cannot_wait_for_held_capacity_is_reported_unplanned(string planner)
    {
        var problem = HeldForTwoHours(Job("urgent", hours: 1, deadlineHours: 1.5));

        var plan = PlanWith(Planners.Create(planner)!, problem);

        Assert.Equal("urgent", Assert.Single(plan.Unplanned).JobId);
    }

    [Fact]
    public void Cp_sat_fits_two_jobs_around_a_reservation_in_deadline_order()
    {
        var problem = HeldForTwoHours(Job("late", hours: 1, deadlineHours: 6, priority: 9), Job("soon", hours: 1, deadlineHours: 3, priority: 1));

        var plan = PlanWith(new CpSatPlanner(), problem);

        Assert.Equal(Now.AddHours(2), Scheduled(plan, "soon").Start);
        Assert.Equal(Now.AddHours(3), Scheduled(plan, "late").Start);
    }

    [Fact]
    public void The_validator_flags_a_plan_that_overlaps_held_capacity()
    {
        var problem = HeldForTwoHours(Job("next", hours: 1, deadlineHours: 5));
        var free = problem with { Reservations = [] };
        var plan = PlanWith(new GreedyPlanner(), free);

        var violation = Assert.Single(PlanValidator.Validate(plan, problem));

        Assert.Equal((ViolationKind.OverCapacity, "next"), (violation.Kind, violation.JobId));
    }
}
