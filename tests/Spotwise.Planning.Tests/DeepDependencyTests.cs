using System.Diagnostics;
using Spotwise.Core;
using Xunit.Abstractions;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

/// <summary>
/// Dependencies of any depth and breadth plan without recursion: a 10,000-deep chain and 10,000-wide fans are planned
/// by both planners on a thread with a small stack, where one stack frame per link would overflow. Every walk over
/// dependsOn goes through DependencyGraph.
/// </summary>
public class DeepDependencyTests(ITestOutputHelper output)
{
    private const int Many = 10_000;

    /// <summary>Far less than a thread's default: 10,000 nested calls of even 30 bytes would not fit.</summary>
    private const int SmallStackBytes = 256 * 1024;

    private static readonly Catalog OneType = TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.03));

    /// <summary>
    /// A chain of 10,000 one-minute jobs on a one-minute grid: 10,000 minutes (about a week), inside the 14-day window
    /// of jobs without a deadline.
    /// </summary>
    private static PlanningProblem Chain()
    {
        var jobs = Enumerable.Range(0, Many).Select(i => Job($"c{i}", hours: 1.0 / 60, deadlineHours: null, dependsOn: i == 0 ? [] : [$"c{i - 1}"]));
        return Problem(jobs, OneType, CapacityLimits.None, gridMinutes: 1);
    }

    /// <summary>One root and 10,000 jobs that each wait for it.</summary>
    private static PlanningProblem FanOut() =>
        Problem([Job("root", 1, null), .. Enumerable.Range(0, Many).Select(i => Job($"leaf{i}", 1, null, dependsOn: "root"))],
            OneType, CapacityLimits.None, gridMinutes: 5);

    /// <summary>10,000 independent jobs and one that waits for all of them.</summary>
    private static PlanningProblem FanIn() =>
        Problem([.. Enumerable.Range(0, Many).Select(i => Job($"src{i}", 1, null)), Job("sink", 1, null, dependsOn: [.. Enumerable.Range(0, Many).Select(i => $"src{i}")])],
            OneType, CapacityLimits.None, gridMinutes: 5);

    public static TheoryData<string> PlannerNames => [.. Planners.Names];

    [Theory, MemberData(nameof(PlannerNames))]
    public void A_10000_deep_chain_is_planned_link_after_link(string planner)
    {
        var problem = Chain();

        var plan = Timed(planner, "chain", problem);

        Assert.Empty(plan.Unplanned);
        var byId = plan.Schedule.ToDictionary(a => a.JobId, StringComparer.Ordinal);
        for (var i = 1; i < Many; i++)
        {
            Assert.True(byId[$"c{i}"].Start >= byId[$"c{i - 1}"].End, $"c{i} starts before c{i - 1} ends");
        }
    }

    [Theory, MemberData(nameof(PlannerNames))]
    public void Ten_thousand_jobs_waiting_on_one_all_start_after_it(string planner)
    {
        var problem = FanOut();

        var plan = Timed(planner, "fan-out", problem);

        Assert.Empty(plan.Unplanned);
        var rootEnd = Scheduled(plan, "root").End;
        Assert.All(plan.Schedule.Where(a => a.JobId != "root"), a => Assert.True(a.Start >= rootEnd, $"{a.JobId} starts before root ends"));
    }

    [Theory, MemberData(nameof(PlannerNames))]
    public void One_job_waiting_on_ten_thousand_starts_after_the_last_of_them(string planner)
    {
        var problem = FanIn();

        var plan = Timed(planner, "fan-in", problem);

        Assert.Empty(plan.Unplanned);
        Assert.Equal(plan.Schedule.Where(a => a.JobId != "sink").Max(a => a.End), Scheduled(plan, "sink").Start);
    }

    [Fact]
    public void Cp_sat_started_from_an_all_on_demand_plan_moves_a_10000_deep_chain_to_spot()
    {
        // The start is valid but dear, so the solver must build its models over the chain (in segments, the rest
        // fixed) instead of taking greedy's plan as proven. It proves every segment optimal in about 6 s on an idle
        // 2-core machine and then stops; the generous limit only keeps a loaded machine from failing the test.
        var problem = Chain();
        var onDemand = OnDemandOnly(problem);
        var start = PlanWith(new GreedyPlanner(), onDemand);
        var dearStart = start with { Schedule = [.. start.Schedule.Select(a => a with { Offer = OneType.OfferFor(OneType.Entries[0], Market.OnDemand) })] };

        var plan = OnSmallStack(() => Measure("cpsat from an on-demand start", "chain",
            () => new CpSatPlanner().Solve(problem, Solve(seconds: 60), dearStart, CancellationToken.None)));

        AssertValid(plan, problem);
        Assert.Empty(plan.Unplanned);
        output.WriteLine($"{plan.Schedule.Count(a => a.Market == Market.Spot)} of {Many} jobs moved to spot");
        Assert.True(plan.Totals.ExpectedCostUsd < start.Totals.ExpectedCostUsd,
            $"cost {plan.Totals.ExpectedCostUsd} is not below the all-on-demand start's {start.Totals.ExpectedCostUsd}");
    }

    /// <summary>The same chain where spot never pays (spot at the on-demand price): its plan is all on-demand.</summary>
    private static PlanningProblem OnDemandOnly(PlanningProblem problem) =>
        problem with { Catalog = TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.10)) };

    /// <summary>Plans on a small stack, checks the plan and writes how long it took (the figures in the report).</summary>
    private Plan Timed(string planner, string queue, PlanningProblem problem)
    {
        var plan = OnSmallStack(() => Measure(planner, queue, () => Completed(Planners.Create(planner)!.SolveAsync(problem, Solve(seconds: 8), CancellationToken.None))));
        AssertValid(plan, problem);
        return plan;
    }

    private Plan Measure(string planner, string queue, Func<Plan> solve)
    {
        var clock = Stopwatch.StartNew();
        var plan = solve();
        output.WriteLine($"{planner} on the {Many}-job {queue}: {clock.Elapsed.TotalSeconds:0.00} s, {plan.Status}");
        return plan;
    }

    private static T OnSmallStack<T>(Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = e;
            }
        }, SmallStackBytes);
        thread.Start();
        thread.Join();
        return failure is null ? result : throw new InvalidOperationException("planning failed", failure);
    }
}
