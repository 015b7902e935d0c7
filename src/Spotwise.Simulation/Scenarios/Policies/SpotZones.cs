using Spotwise.Runtime.Policy;

namespace Spotwise.Simulation.Scenarios.Policies;

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
