namespace Spotwise.Core.Tests;

public class BudgetValidatorTests
{
    private static readonly DateTimeOffset Now = TestData.Now;

    private static readonly ResourceRequest P3 = ResourceRequest.ForInstanceTypes(["p3.2xlarge"]);

    private static Job Gpu(string id, int priority, string team = "ml") =>
        TestData.Job(id, 2, Now.AddHours(2.5)) with { Resources = P3, Priority = priority, Team = team };

    [Fact]
    public void A_plan_spending_more_than_a_team_has_left_names_its_least_urgent_jobs_beyond_the_budget()
    {
        var open = new PlanningProblem(Now, [Gpu("high", 9), Gpu("mid", 5), Gpu("low", 1), Gpu("other", 1, team: "web")], TestData.Catalog, CapacityLimits.None);
        var plan = TestPlanner.CheapestAtEarliest(open);
        var cost = plan.Schedule.Single(a => a.JobId == "high").ExpectedCostUsd;
        // Room for two of ml's three equal jobs; web has no budget.
        var budgeted = open with { Budgets = [new TeamBudget("ml", cost * 2 + 0.01, "this week")] };

        var violations = PlanValidator.Validate(plan, budgeted);

        var v = Assert.Single(violations);
        Assert.Equal((ViolationKind.OverBudget, "low"), (v.Kind, v.JobId));
        Assert.Contains("team ml has", v.Message, StringComparison.Ordinal);
        Assert.Contains("this week", v.Message, StringComparison.Ordinal);
        Assert.Empty(PlanValidator.Validate(plan, open with { Budgets = [new TeamBudget("ml", cost * 3 + 0.01)] }));
    }
}
