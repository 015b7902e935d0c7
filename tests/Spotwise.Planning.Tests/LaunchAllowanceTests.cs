using Spotwise.Core;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

/// <summary>
/// The launch allowance is part of the planning problem: every planner holds each job's instance for its work plus the
/// allowance, prices and bounds it so, and refuses a job whose slack is shorter; the validator judges plans by it.
/// </summary>
public sealed class LaunchAllowanceTests
{
    private static readonly TimeSpan Boot = TimeSpan.FromSeconds(90);

    private static readonly Catalog Catalog = TinyCatalog(Row("c5.large", 0.10, 0.04));

    private static PlanningProblem WithBoot(params Job[] jobs) =>
        Problem(jobs, Catalog, CapacityLimits.None, gridMinutes: 5) with
        {
            Settings = PlanningSettings.Default with { GridMinutes = 5, LaunchAllowance = Boot },
        };

    public static TheoryData<string> PlannerNames => [.. Planners.Names];

    [Theory, MemberData(nameof(PlannerNames))]
    public void A_job_whose_slack_is_shorter_than_the_boot_is_refused_with_the_reason(string planner)
    {
        var problem = WithBoot(Job("tight", 1, deadlineHours: 1 + 60.0 / 3600), Job("room", 1, deadlineHours: 1 + 120.0 / 3600));

        var plan = PlanWith(Planners.Create(planner)!, problem);

        Assert.Contains("1 h of work after the 90 s launch allowance (boot) cannot fit", UnplannedOf(plan, "tight").Reason, StringComparison.Ordinal);
        Assert.Equal(Boot, plan.LaunchAllowance);
        var room = Scheduled(plan, "room");
        Assert.True(AboutEqual(room.Start.AddHours(1) + Boot, room.End), $"ends {room.End:O}, not an hour and a boot after {room.Start:O}");
    }

    [Theory, MemberData(nameof(PlannerNames))]
    public void The_boot_is_priced_and_counted_in_the_lower_bound_and_the_fallback(string planner)
    {
        var job = Job("a", 2, deadlineHours: 24);
        var problem = WithBoot(job);

        var plan = PlanWith(Planners.Create(planner)!, problem);

        var a = Scheduled(plan, "a");
        Assert.Equal(Market.Spot, a.Market);
        var asPlanned = job with { DurationHours = 2 + Boot.TotalHours };
        Assert.Equal(PlanBuilder.Round(CostModel.ExpectedCostUsd(asPlanned, a.Offer, 0.10)), a.ExpectedCostUsd, 4);
        Assert.Equal(CostModel.FallbackAt(asPlanned), a.FallbackAt);
        Assert.Equal(plan.Totals.ExpectedCostUsd, plan.Totals.LowerBoundUsd, 4);
    }

    [Fact]
    public void The_validator_refuses_a_plan_made_without_the_allowance()
    {
        var jobs = new[] { Job("a", 1, deadlineHours: 1 + 60.0 / 3600) };
        var withoutBoot = Problem(jobs, Catalog, CapacityLimits.None, gridMinutes: 5);
        var plan = PlanWith(new GreedyPlanner(), withoutBoot);

        var violations = PlanValidator.Validate(plan, WithBoot(jobs));

        Assert.Contains(violations, v => v is { Kind: ViolationKind.WrongDuration, JobId: "a" });
    }

    [Fact]
    public void Dependents_start_after_the_prerequisites_work_including_its_boot()
    {
        var problem = WithBoot(Job("first", 1, deadlineHours: 10), Job("then", 1, 10, dependsOn: ["first"]));

        var plan = PlanWith(new CpSatPlanner(), problem);

        Assert.True(Scheduled(plan, "then").Start >= Scheduled(plan, "first").End);
        Assert.True(AboutEqual(Scheduled(plan, "first").End, Scheduled(plan, "first").Start.AddHours(1) + Boot));
    }

    /// <summary>Hours as doubles: equal to well under the validator's second.</summary>
    private static bool AboutEqual(DateTimeOffset a, DateTimeOffset b) => (a - b).Duration() < TimeSpan.FromMilliseconds(1);
}
