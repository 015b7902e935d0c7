using Spotwise.Core;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

/// <summary>Fair share in the planners (issue 16): equal priorities go to the team furthest behind its weighted share.</summary>
public class FairSharePlanningTests
{
    private static readonly Catalog OneType = TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.03));

    /// <summary>One c5.large of on-demand quota and no spot room: capacity binds at once.</summary>
    private static readonly CapacityLimits OneSlot = new() { DefaultOnDemandVcpuQuota = 2, DefaultSpotPoolSize = 0 };

    public static TheoryData<string> Planners => [CpSatPlanner.PlannerName, GreedyPlanner.PlannerName];

    private static IPlanner Planner(string name) => name == CpSatPlanner.PlannerName ? new CpSatPlanner() : new GreedyPlanner();

    private static Job TeamJob(string team, string id, double hours = 2, double? deadlineHours = 48, int priority = 5) =>
        Job($"{team}/{id}", hours, deadlineHours, priority) with { Team = team };

    /// <summary>Equal weights; team a used <paramref name="usedByA"/> instance-hours of the window, team b <paramref name="usedByB"/>.</summary>
    private static FairShare Used(double usedByA, double usedByB, double weightOfB = 1) =>
        new([new TeamShare("a", 1, usedByA), new TeamShare("b", weightOfB, usedByB)], WindowHours: 24);

    [Theory]
    [MemberData(nameof(Planners))]
    public void The_team_that_used_little_goes_first_among_equal_priorities(string planner)
    {
        var problem = Problem([TeamJob("a", "1"), TeamJob("b", "1")], OneType, OneSlot) with { FairShare = Used(10, 0) };

        var plan = PlanWith(Planner(planner), problem);

        Assert.Equal(Now, Scheduled(plan, "b/1").Start);
        Assert.Equal(Now.AddHours(2), Scheduled(plan, "a/1").Start);
    }

    [Theory]
    [MemberData(nameof(Planners))]
    public void Without_fair_share_the_same_queue_goes_by_id(string planner)
    {
        var problem = Problem([TeamJob("a", "1"), TeamJob("b", "1")], OneType, OneSlot);

        Assert.Equal(Now, Scheduled(PlanWith(Planner(planner), problem), "a/1").Start);
    }

    [Theory]
    [MemberData(nameof(Planners))]
    public void Weights_count_a_team_weighted_three_to_one_is_not_behind_at_two_thirds_of_the_use(string planner)
    {
        // b's weight 3 gives it a share of 75%; it used 67%: still behind, so it goes first although it used more.
        var problem = Problem([TeamJob("a", "1"), TeamJob("b", "1")], OneType, OneSlot) with { FairShare = Used(5, 10, weightOfB: 3) };

        Assert.Equal(Now, Scheduled(PlanWith(Planner(planner), problem), "b/1").Start);
    }

    [Theory]
    [MemberData(nameof(Planners))]
    public void Priority_comes_before_fair_share(string planner)
    {
        var problem = Problem([TeamJob("a", "1", priority: 6), TeamJob("b", "1")], OneType, OneSlot) with { FairShare = Used(10, 0) };

        Assert.Equal(Now, Scheduled(PlanWith(Planner(planner), problem), "a/1").Start);
    }

    [Theory]
    [MemberData(nameof(Planners))]
    public void A_small_difference_in_use_does_not_reorder_the_queue(string planner)
    {
        // 10.2 against 10 instance-hours: 50.5% and 49.5% of the use, within half a 2-point band, so neither team is behind.
        var problem = Problem([TeamJob("a", "1"), TeamJob("b", "1")], OneType, OneSlot) with { FairShare = Used(10.2, 10) };

        Assert.Equal(Now, Scheduled(PlanWith(Planner(planner), problem), "a/1").Start);
    }

    [Theory]
    [MemberData(nameof(Planners))]
    public void A_job_left_out_for_fair_share_says_so_with_its_teams_figures(string planner)
    {
        // One slot and room before the deadlines for one of the two: b, behind its share, gets it.
        var problem = Problem([TeamJob("a", "1", deadlineHours: 3), TeamJob("b", "1", deadlineHours: 3)], OneType, OneSlot) with { FairShare = Used(10, 0) };

        var plan = PlanWith(Planner(planner), problem);

        Scheduled(plan, "b/1");
        var why = UnplannedOf(plan, "a/1").Reason;
        Assert.StartsWith("fair share: ", why, StringComparison.Ordinal);
        Assert.Contains("team a: weight 1 of 2, share 50%, used 10 of 10 instance-hours (100%) in the last 24 h", why, StringComparison.Ordinal);
        Assert.DoesNotContain("team b", why, StringComparison.Ordinal);
    }

    [Fact]
    public void CpSat_pricing_puts_the_deprived_teams_job_first_even_from_an_unfair_start()
    {
        var problem = Problem([TeamJob("a", "1"), TeamJob("b", "1")], OneType, OneSlot) with { FairShare = Used(10, 0) };
        var grid = new GridModel(problem, OptionBuilder.Build(problem));
        var unfair = new Placement(2);
        unfair.Place(0, 0, 0);
        unfair.Place(1, 0, 2);

        var model = CpSatModel.Build(grid, [0, 1], unfair, Contention.ContendedPools(grid), CpSatObjective.Cost);
        var outcome = model.Solve(TimeSpan.FromSeconds(5), 1, CancellationToken.None);

        Assert.Equal(0, outcome.Placement!.StartStep[1]);
        Assert.True(model.IsBetter(outcome.Placement, unfair));
        Assert.Null(outcome.LowerBoundUsd);
    }
}
