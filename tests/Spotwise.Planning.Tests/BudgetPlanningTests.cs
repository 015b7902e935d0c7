using Spotwise.Core;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

/// <summary>A team's remaining budget binds every planner: the least urgent jobs are left out first, with a <c>budget:</c> reason and the figures.</summary>
public class BudgetPlanningTests
{
    private static readonly Catalog OneType = TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.03));

    /// <summary>One c5.large of on-demand quota and no spot room: capacity binds at once.</summary>
    private static readonly CapacityLimits OneOnDemandSlot = new() { DefaultOnDemandVcpuQuota = 2, DefaultSpotPoolSize = 0 };

    public static TheoryData<string> Planners => [GreedyPlanner.PlannerName, CpSatPlanner.PlannerName];

    private static IPlanner Planner(string name) => name == GreedyPlanner.PlannerName ? new GreedyPlanner() : new CpSatPlanner();

    private static Job Ml(string id, int priority, double hours = 1, double deadlineHours = 1.5) =>
        Job(id, hours, deadlineHours, priority) with { Team = "ml" };

    [Theory]
    [MemberData(nameof(Planners))]
    public void A_budget_leaves_out_the_lowest_priority_job_with_a_budget_reason(string planner)
    {
        var jobs = new[] { Ml("low", priority: 2), Ml("high", priority: 9), Ml("mid", priority: 5), Job("web", 1, 1.5, priority: 1) with { Team = "web" } };
        var open = Problem(jobs, OneType, CapacityLimits.None, gridMinutes: 5);
        var unbounded = PlanWith(Planner(planner), open);
        Assert.Empty(unbounded.Unplanned);
        var each = Scheduled(unbounded, "high").ExpectedCostUsd;
        // Room for two of ml's three equal jobs; web has no budget and is planned whatever ml has.
        var problem = open with { Budgets = [new TeamBudget("ml", (each * 2) + 0.001, "this week")] };

        var plan = PlanWith(Planner(planner), problem);

        Assert.Equal(["high", "mid", "web"], plan.Schedule.Select(a => a.JobId).Order(StringComparer.Ordinal));
        var why = UnplannedOf(plan, "low").Reason;
        Assert.StartsWith("budget: team ml has $0.", why, StringComparison.Ordinal);
        Assert.Contains("this week", why, StringComparison.Ordinal);
        Assert.Contains(FormattableString.Invariant($"costs ${each:0.00}"), why, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Planners))]
    public void A_team_with_nothing_left_has_nothing_planned(string planner)
    {
        var problem = Problem([Ml("a", 5), Ml("b", 5)], OneType, CapacityLimits.None, gridMinutes: 5) with { Budgets = [new TeamBudget("ml", -3.5)] };

        var plan = PlanWith(Planner(planner), problem);

        Assert.Empty(plan.Schedule);
        Assert.All(plan.Unplanned, u => Assert.StartsWith("budget: team ml has $-3.50 left", u.Reason, StringComparison.Ordinal));
    }

    [Fact]
    public void CpSat_keeps_a_rearranged_plan_within_the_budget()
    {
        // One slot. Greedy puts the urgent job first and the tight low-priority job finds no room; CP-SAT can fit both by
        // moving the urgent one later (asserted without a budget), but the budget pays for one job only: the urgent one.
        var jobs = new[] { Ml("urgent", priority: 9, deadlineHours: 3), Ml("tight", priority: 2, deadlineHours: 1) };
        var open = Problem(jobs, OneType, OneOnDemandSlot, gridMinutes: 60);
        var unbounded = PlanWith(new CpSatPlanner(), open);
        Assert.Empty(unbounded.Unplanned);
        var problem = open with { Budgets = [new TeamBudget("ml", Scheduled(unbounded, "urgent").ExpectedCostUsd + 0.05)] };

        var plan = PlanWith(new CpSatPlanner(), problem);

        Assert.Equal("urgent", Assert.Single(plan.Schedule).JobId);
        Assert.StartsWith("budget: ", UnplannedOf(plan, "tight").Reason, StringComparison.Ordinal);
    }
}
