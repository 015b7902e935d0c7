using Spotwise.Runtime.Policy;

namespace Spotwise.Simulation.Scenarios.Policies;

/// <summary>On-demand from start to finish: the cost every other policy is measured against.</summary>
public sealed class OnDemandPolicy : ISpotPolicy
{
    public const string Name = "on-demand";

    public Choice Decide(PolicyView view) => Choice.OnDemand;
}
