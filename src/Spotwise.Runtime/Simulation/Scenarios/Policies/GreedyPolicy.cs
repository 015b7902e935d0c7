namespace Spotwise.Runtime.Simulation.Scenarios.Policies;

/// <summary>
/// Greedy (Can't Be Late, §4): spot whenever it is available, idle when it is not, on-demand once the slack runs out
/// (the safety net), and never back. With several zones it takes spot where it runs, else the cheapest zone that has it.
/// </summary>
public sealed class GreedyPolicy(JobScenario scenario) : ISpotPolicy
{
    public const string Name = "greedy";

    private readonly SafetyNet _net = new(scenario);

    public Choice Decide(PolicyView view)
    {
        if (view.Current.Kind == ChoiceKind.OnDemand)
        {
            return Choice.OnDemand;
        }
        var spot = SpotZones.Preferred(view);
        return _net.Guard(view, spot is { } z ? Choice.Spot(z) : Choice.Idle);
    }
}

/// <summary>Which zone an online policy takes spot in: the one it runs in while it lasts, else the cheapest available now.</summary>
public static class SpotZones
{
    public static int? Preferred(PolicyView view)
    {
        if (view.Current.Kind == ChoiceKind.Spot && view.SpotAvailable(view.Current.Zone))
        {
            return view.Current.Zone;
        }
        int? best = null;
        for (var z = 0; z < view.ZoneCount; z++)
        {
            if (view.SpotAvailable(z) && (best is null || view.SpotPrice(z) < view.SpotPrice(best.Value)))
            {
                best = z;
            }
        }
        return best;
    }
}
