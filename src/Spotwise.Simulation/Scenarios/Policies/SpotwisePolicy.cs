using Spotwise.Runtime.Policy;

namespace Spotwise.Simulation.Scenarios.Policies;

/// <summary>
/// Spotwise's own policy, as <c>serve</c> runs it: <see cref="SpotPolicy"/> from Spotwise.Runtime, fed through the
/// <see cref="PolicyView"/> (which shows it only the present and the past of the traces, as the service's
/// <see cref="SpotAvailabilityHistory"/> does). Nothing of the policy lives here.
/// </summary>
public sealed class SpotwisePolicy : ISpotPolicy
{
    public const string Name = "spotwise";

    public Choice Decide(PolicyView view) => SpotPolicy.Decide(view);
}
