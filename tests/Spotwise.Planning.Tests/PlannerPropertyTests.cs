using System.Collections.Immutable;
using System.Diagnostics;
using CsCheck;
using Spotwise.Core;
using Xunit.Abstractions;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

public class PlannerPropertyTests(ITestOutputHelper output)
{
    /// <summary>Quotas a small account has: a few instances' worth per class, one or two per spot pool.</summary>
    private static CapacityLimits TightLimits(Random random) => new()
    {
        OnDemandVcpuQuotas = new Dictionary<string, int>
        {
            [QuotaClasses.Standard] = 16 * random.Next(1, 5),
            ["g"] = 8 * random.Next(1, 3),
            ["p"] = 8 * random.Next(1, 3),
        }.ToImmutableDictionary(),
        DefaultOnDemandVcpuQuota = 16,
        DefaultSpotPoolSize = random.Next(1, 3),
    };

    private static readonly IPlanner[] BothPlanners = [new GreedyPlanner(), new CpSatPlanner()];

    [Fact]
    public void Cp_sat_is_never_worse_than_greedy_on_medium_queues_with_tight_limits()
    {
        var random = new Random(4242);
        var options = Solve(seconds: 2);
        var lines = new List<string>();
        for (var instance = 0; instance < 8; instance++)
        {
            var queue = RandomQueues.Medium(random, jobs: random.Next(20, 61));
            var problem = new PlanningProblem(Now, queue, RealCatalog, TightLimits(random));

            var greedy = PlanWith(new GreedyPlanner(), problem, options);
            var clock = Stopwatch.StartNew();
            var cpsat = PlanWith(new CpSatPlanner(), problem, options);
            var seconds = clock.Elapsed.TotalSeconds;

            var (gw, cw) = (PlannedWeight(greedy, problem), PlannedWeight(cpsat, problem));
            Assert.True(cw > gw || (cw == gw && cpsat.Totals.ExpectedCostUsd <= greedy.Totals.ExpectedCostUsd + 1e-6),
                $"instance {instance}: CP-SAT plans weight {cw} at {cpsat.Totals.ExpectedCostUsd} USD, greedy {gw} at {greedy.Totals.ExpectedCostUsd} USD");
            Assert.True(cpsat.Totals.LowerBoundUsd <= cpsat.Totals.ExpectedCostUsd + 1e-6);
            lines.Add(FormattableString.Invariant(
                $"{queue.Count} jobs: greedy {greedy.Totals.JobsPlanned} planned {greedy.Totals.ExpectedCostUsd:0.####} USD; CP-SAT {cpsat.Totals.JobsPlanned} planned {cpsat.Totals.ExpectedCostUsd:0.####} USD, {cpsat.Status}, gap {cpsat.Totals.GapPct}%, {seconds:0.##} s"));
        }
        output.WriteLine(string.Join("\n", lines));
    }

    [Fact]
    public void With_unlimited_capacity_every_job_that_can_meet_its_deadline_alone_is_planned()
    {
        Gen.Select(Gen.Int[0, 1_000_000], Gen.Int[1, 30]).Sample((seed, count) =>
        {
            var queue = RandomQueues.Medium(new Random(seed), count);
            var problem = new PlanningProblem(Now, queue, RealCatalog, CapacityLimits.None);
            var feasible = queue.Where(job => PlannableAlone(job, queue)).Select(j => j.Id).ToHashSet(StringComparer.Ordinal);
            foreach (var planner in BothPlanners)
            {
                var plan = PlanWith(planner, problem, Solve(seconds: 2));
                Assert.Equal(feasible.Order(StringComparer.Ordinal), plan.Schedule.Select(a => a.JobId).Order(StringComparer.Ordinal));
            }
        }, iter: 40, threads: 1);
    }

    [Fact]
    public void Plans_under_tight_limits_respect_every_rule_and_account_for_every_job()
    {
        Gen.Select(Gen.Int[0, 1_000_000], Gen.Int[1, 40]).Sample((seed, count) =>
        {
            var random = new Random(seed);
            var problem = new PlanningProblem(Now, RandomQueues.Medium(random, count), RealCatalog, TightLimits(random));
            foreach (var planner in BothPlanners)
            {
                // PlanWith asserts the validator's verdict (deadlines, capacity, dependencies, spot safety, totals)
                // and that every job is scheduled or unplanned with a reason.
                var plan = PlanWith(planner, problem, Solve(seconds: 1));
                Assert.All(plan.Schedule, a => Assert.True(
                    problem.Jobs.Single(j => j.Id == a.JobId).Deadline is not { } d || a.End <= d));
            }
        }, iter: 30, threads: 1);
    }

    /// <summary>Whether greedy plans the job in a queue of only the job and what it depends on.</summary>
    private static bool PlannableAlone(Job job, IReadOnlyList<Job> queue)
    {
        var byId = queue.ToDictionary(j => j.Id, StringComparer.Ordinal);
        var closure = new Dictionary<string, Job>(StringComparer.Ordinal);
        void Add(Job j)
        {
            if (closure.TryAdd(j.Id, j))
            {
                foreach (var dep in j.DependsOn)
                {
                    Add(byId[dep]);
                }
            }
        }
        Add(job);
        var alone = new PlanningProblem(Now, closure.Values, RealCatalog, CapacityLimits.None);
        var plan = new GreedyPlanner().Solve(alone, SolveOptions.Default, CancellationToken.None);
        return plan.Schedule.Any(a => a.JobId == job.Id);
    }
}
