using Spotwise.Core;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

public class PlanPlacementTests
{
    [Theory]
    [InlineData(5)]
    [InlineData(60)]
    public void A_plan_read_back_onto_the_grid_keeps_every_job_on_its_option_and_step(int gridMinutes)
    {
        var random = new Random(31);
        for (var instance = 0; instance < 4; instance++)
        {
            var limits = new CapacityLimits { DefaultSpotPoolSize = 1, DefaultOnDemandVcpuQuota = 16 };
            var queue = RandomQueues.Medium(random, jobs: 30, dependencies: instance % 2 == 0);
            var problem = new PlanningProblem(Now, [.. queue], RealCatalog, limits, PlanningSettings.Default with { GridMinutes = gridMinutes });
            var model = new GridModel(problem, OptionBuilder.Build(problem));
            var greedy = GreedyPlanner.Place(model, CancellationToken.None);

            var read = PlanPlacement.From(model, greedy.ToPlan("greedy", model, PlanStatus.Feasible, 0));

            Assert.Equal(greedy.OptionIndex, read.OptionIndex);
            Assert.Equal(greedy.OptionIndex.Select((o, j) => o < 0 ? 0 : greedy.StartStep[j]), read.StartStep);
        }
    }
}
