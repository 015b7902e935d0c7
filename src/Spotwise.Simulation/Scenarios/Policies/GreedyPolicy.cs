using Spotwise.Runtime.Policy;

namespace Spotwise.Simulation.Scenarios.Policies;

/// <summary>
/// Greedy (Can't Be Late, §4): spot whenever it is available, idle when it is not, on-demand once the slack runs out
/// (the safety net), and never back. With several zones it takes spot where it runs, else the cheapest zone that has it.
/// </summary>
public sealed class GreedyPolicy : ISpotPolicy
{
    public const string Name = "greedy";

    public Choice Decide(PolicyView view)
    {
        if (view.Current.Kind == ChoiceKind.OnDemand)
        {
            return Choice.OnDemand;
        }
        var spot = SpotZones.Preferred(view);
        return SafetyNet.Guard(view, spot is { } z ? Choice.Spot(z) : Choice.Idle);
    }
}
