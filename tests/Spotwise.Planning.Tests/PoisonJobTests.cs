using Spotwise.Core;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

/// <summary>
/// A job no plan can hold, handed to a planner by old stored data or another caller (the intake refuses them): a
/// dependency cycle, a missing prerequisite, numbers that overflow the planning model. Each is reported unplanned with
/// a reason that names what is wrong; the rest of the queue is planned, by both planners, and the validator accepts
/// the plan. Before, a self-dependency overflowed the stack in CP-SAT planning and a 1e15-hour job threw in option
/// building, every cycle.
/// </summary>
public class PoisonJobTests
{
    private static readonly Catalog OneType = TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.03));

    /// <summary>One spot instance and two on-demand ones: the healthy queue contends for spot, so CP-SAT builds models.</summary>
    private static readonly CapacityLimits Tight = new() { DefaultSpotPoolSize = 1, DefaultOnDemandVcpuQuota = 4 };

    /// <summary>
    /// The healthy rest of the queue: a chain, and a pair where greedy's order (priority first) takes the only spot
    /// instance from the job that needed it, so CP-SAT has something to improve.
    /// </summary>
    private static Job[] Healthy =>
    [
        Job("first", hours: 1, deadlineHours: 12),
        Job("second", hours: 1, deadlineHours: 12, dependsOn: "first"),
        Job("important", hours: 2, deadlineHours: 10, priority: 9),
        Job("urgent", hours: 1, deadlineHours: 2.5, priority: 1),
    ];

    private static readonly DateTimeOffset Year9999 = new(9999, 6, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Each case: the poison jobs, and for each poison job a fragment its reason must hold.</summary>
    private static readonly Dictionary<string, (Job[] Jobs, (string Id, string[] Says)[] Expected)> Cases = new()
    {
        ["self-dependency"] = ([Job("p", hours: 1.5, deadlineHours: null, dependsOn: "p")], [("p", ["dependency cycle", "p -> p"])]),
        ["two-job cycle"] = (
            [Job("x", 1, null, dependsOn: "y"), Job("y", 1, null, dependsOn: "x")],
            [("x", ["dependency cycle", "x -> y -> x"]), ("y", ["dependency cycle", "y -> x -> y"])]),
        ["long cycle"] = (
            [.. Enumerable.Range(0, 50).Select(i => Job($"ring{i}", 1, null, dependsOn: $"ring{(i + 1) % 50}"))],
            [("ring0", ["dependency cycle", "ring0 -> ring1", "(50 jobs)"]), ("ring49", ["dependency cycle", "ring49 -> ring0"])]),
        ["behind a cycle"] = (
            [Job("p", 1, null, dependsOn: "p"), Job("after", 1, null, dependsOn: "p"), Job("later", 1, null, dependsOn: "after")],
            [("after", ["'p'", "p -> p"]), ("later", ["'after'", "'p'", "p -> p"])]),
        ["missing prerequisite"] = (
            [Job("orphan", 1, null, dependsOn: "ghost"), Job("grandchild", 1, null, dependsOn: "orphan")],
            [("orphan", ["'ghost'", "not in the queue"]), ("grandchild", ["'orphan'", "'ghost'", "not in the queue"])]),
        ["duration 1e15 h"] = ([Job("huge", hours: 1e15, deadlineHours: null)], [("huge", ["estimatedDurationHours 1E+15", "planning horizon"])]),
        ["duration 1e308 h"] = ([Job("huger", hours: 1e308, deadlineHours: 24)], [("huger", ["estimatedDurationHours 1E+308", "planning horizon"])]),
        ["duration NaN"] = ([Job("nan", hours: double.NaN, deadlineHours: 24)], [("nan", ["estimatedDurationHours NaN"])]),
        ["restart overhead 1e308 min"] = (
            [Job("slow-restart", 1, deadlineHours: 24) with { RestartOverheadHours = 1e308 / 60 }],
            [("slow-restart", ["restartOverheadMinutes 1E+308", "planning horizon"])]),
        ["checkpoint interval 1e308 min"] = (
            [Job("rare-checkpoint", 1, deadlineHours: 24, checkpointable: true) with { CheckpointIntervalHours = 1e308 / 60 }],
            [("rare-checkpoint", ["checkpointIntervalMinutes 1E+308"])]),
        ["deadline in 9999"] = ([Job("far", 1.5, null) with { Deadline = Year9999 }], [("far", ["deadline 9999-06-01", "planning horizon"])]),
        ["deadline at the end of time"] = ([Job("last", 1.5, null) with { Deadline = DateTimeOffset.MaxValue }], [("last", ["deadline 9999-12-31"])]),
        ["deadline at the start of time"] = ([Job("first-ever", 1.5, null) with { Deadline = DateTimeOffset.MinValue }], [("first-ever", ["deadline 0001-01-01"])]),
        ["earliest start in 9999"] = ([Job("later", 1.5, null) with { EarliestStart = Year9999 }], [("later", ["earliestStart 9999-06-01", "planning horizon"])]),
        ["earliest start at the end of time"] = (
            [Job("never", 1.5, null) with { EarliestStart = DateTimeOffset.MaxValue, Deadline = DateTimeOffset.MaxValue }],
            [("never", ["earliestStart 9999-12-31"])]),
        ["priority 64"] = ([Job("loud", 1, 24, priority: 64)], [("loud", ["priority 64", "1..10"])]),
    };

    public static TheoryData<string, string> PlannersAndCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var planner in Planners.Names)
        {
            foreach (var name in Cases.Keys)
            {
                data.Add(planner, name);
            }
        }
        return data;
    }

    [Theory, MemberData(nameof(PlannersAndCases))]
    public void A_poison_job_is_unplanned_with_its_reason_and_the_rest_is_planned(string planner, string poison)
    {
        var (jobs, expected) = Cases[poison];
        var problem = Problem([.. Healthy, .. jobs], OneType, Tight, gridMinutes: 5);

        var plan = PlanWith(Planners.Create(planner)!, problem);

        foreach (var job in Healthy)
        {
            Scheduled(plan, job.Id);
        }
        Assert.Equal(jobs.Length, plan.Unplanned.Length);
        foreach (var (id, says) in expected)
        {
            var reason = UnplannedOf(plan, id).Reason;
            Assert.All(says, s => Assert.Contains(s, reason, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void The_healthy_queue_needs_the_solver_so_cp_sat_builds_models_around_the_poison()
    {
        // Greedy gives the only spot instance to "important" (priority first) and puts "urgent" on on-demand;
        // CP-SAT runs "urgent" on spot first and "important" after it, for less.
        var problem = Problem([.. Healthy, .. Cases["self-dependency"].Jobs], OneType, Tight, gridMinutes: 5);

        var greedy = PlanWith(new GreedyPlanner(), problem);
        var cpsat = PlanWith(new CpSatPlanner(), problem);

        Assert.Equal(Market.OnDemand, Scheduled(greedy, "urgent").Market);
        Assert.Equal(Market.Spot, Scheduled(cpsat, "urgent").Market);
        Assert.True(cpsat.Totals.ExpectedCostUsd < greedy.Totals.ExpectedCostUsd);
    }

    [Fact]
    public void A_job_listing_one_prerequisite_twice_waits_for_it_once()
    {
        var problem = Problem([Job("a", 1, 12), Job("b", 1, 12, dependsOn: ["a", "a"])], OneType, Tight, gridMinutes: 5);

        foreach (var planner in new IPlanner[] { new GreedyPlanner(), new CpSatPlanner() })
        {
            var plan = PlanWith(planner, problem);

            Assert.Equal(Scheduled(plan, "a").End, Scheduled(plan, "b").Start);
        }
    }
}
