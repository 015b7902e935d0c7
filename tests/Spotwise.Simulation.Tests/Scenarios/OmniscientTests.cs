using Spotwise.Simulation.Scenarios;
using Spotwise.Simulation.Scenarios.Policies;

namespace Spotwise.Simulation.Tests.Scenarios;

public class OmniscientTests
{
    [Fact]
    public void The_engine_charges_the_omniscient_schedule_what_the_planner_promised()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var market = Markets.Random(seed, 200, 1 + (seed % 3), 0.25);
            var scenario = new JobScenario(10, 13 + (seed % 5), 0.1 + (0.05 * (seed % 4)), seed * 3);
            var policy = new OmniscientPolicy(market, scenario);
            var run = ScenarioEngine.Run(market, scenario, policy);
            Assert.False(run.MissedDeadline, $"seed {seed}");
            Assert.Equal(policy.PlannedCostUsd!.Value, run.CostUsd, 6);
        }
    }
}
