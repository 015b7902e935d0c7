namespace Spotwise.Runtime.Policy;

/// <summary>
/// Spotwise's spot policy, the one <c>serve</c> runs and <c>simulate --policy spotwise</c> scores: for a running or
/// waiting job, every tick, stay on spot, wait for spot, move to on-demand, come back to spot, or move zone.
/// <para>
/// A job's lost-time budget (deadline − work) is spent on waiting and changeovers; spot time is free of it, on-demand
/// time costs money but no budget. What the job will need on on-demand is the work that the spot capacity still to
/// come cannot cover, so the policy forecasts it from what it has seen: the share of time spot was available and how
/// long spot spells last (each preemption costs a changeover), measured from a week before the job's start up to now,
/// with a weak prior while history is short. It is <em>behind</em> when the remaining work exceeds the spot time it
/// expects before the deadline (net of changeovers). When it is behind that forecast and behind uniform progress too,
/// outages are spent on on-demand (work that would be needed on on-demand anyway, done while spot is away, so the end
/// of the job keeps the slack to use spot); otherwise it waits. Spot is taken whenever available; on-demand is never
/// left to wait (coming back would cost a changeover), only for spot. Every choice passes <see cref="SafetyNet"/>.
/// </para>
/// Stateless: everything it needs is in the <see cref="IPolicyInputs"/>, so a service that restarts decides as before.
/// </summary>
public static class SpotPolicy
{
    /// <summary>How far before the job's start availability is measured (hours).</summary>
    public const double HistoryHours = 24 * 7;

    /// <summary>Prior: availability one half, worth this many hours of observation.</summary>
    public const double PriorHours = 24;

    public static Choice Decide(IPolicyInputs view)
    {
        if (view.RemainingWorkHours() <= 1e-9)
        {
            return Choice.Idle;
        }
        var spot = Zone(view);
        if (double.IsPositiveInfinity(view.DeadlineHours))
        {
            // No deadline, no net and nothing to forecast: spot whenever it can be had, else wait (on-demand is kept).
            return spot is { } free ? Choice.Spot(free) : view.Current.Kind == ChoiceKind.OnDemand ? Choice.OnDemand : Choice.Idle;
        }
        var history = Forecast.Of(view);
        var d = view.OverheadHours;
        var gap = ExpectedSpotHours(view, history) - view.RemainingWorkHours(); // > 0: ahead of what spot can cover
        Choice wish;
        if (view.Current.Kind == ChoiceKind.OnDemand)
        {
            // Leave on-demand only for spot (never to wait: that costs a changeover to come back), and only for
            // spells long enough to repay the two changeovers a switch may cost, or when ahead by two changeovers.
            wish = spot is { } z && (gap >= 2 * d || history.MeanSpellHours >= 4 * d) ? Choice.Spot(z) : Choice.OnDemand;
        }
        else if (spot is { } z)
        {
            wish = Choice.Spot(z);
        }
        else
        {
            // Behind both the forecast and uniform progress: the forecast alone runs on-demand too early when the
            // deadline is loose, the line alone when the forecast is good.
            var uniform = view.DoneHours < view.ElapsedHours * view.WorkHours / view.DeadlineHours;
            wish = gap < 0 && uniform ? Choice.OnDemand : Choice.Idle;
        }
        return SafetyNet.Guard(view, wish);
    }

    // Where to run spot: the current zone while it lasts, unless another is cheaper by enough to repay the changeover
    // a move costs (and the one it may cost to come back) within the work left; else the cheapest available.
    private static int? Zone(IPolicyInputs view)
    {
        int? cheapest = null;
        for (var z = 0; z < view.ZoneCount; z++)
        {
            if (view.SpotAvailable(z) && (cheapest is null || view.SpotPrice(z) < view.SpotPrice(cheapest.Value)))
            {
                cheapest = z;
            }
        }
        if (view.Current.Kind != ChoiceKind.Spot || !view.SpotAvailable(view.Current.Zone) || cheapest is not { } best)
        {
            return cheapest;
        }
        var here = view.Current.Zone;
        var saving = (view.SpotPrice(here) - view.SpotPrice(best)) * view.RemainingWorkHours();
        var cost = 2 * view.OverheadHours * view.SpotPrice(best);
        return saving > cost ? best : here;
    }

    // Spot hours the job can expect before its deadline: the availability share of the time left, less a changeover
    // for each spell it will have to start (time left on spot / mean spell), and the final fallback's changeover.
    private static double ExpectedSpotHours(IPolicyInputs view, Forecast history)
    {
        var left = view.HoursToDeadline() - view.OverheadHours;
        var spotTime = history.AvailableShare * left;
        var spells = spotTime / Math.Max(view.TickHours, history.MeanSpellHours);
        return spotTime - (spells * view.OverheadHours);
    }

    /// <summary>What spot did from a week before the job's start until now: share of ticks with capacity in some zone, and mean spell length.</summary>
    private readonly record struct Forecast(double AvailableShare, double MeanSpellHours)
    {
        public static Forecast Of(IPolicyInputs view)
        {
            var tick = view.TickHours;
            var seen = view.History((int)(HistoryHours / tick) + view.TicksSinceStart() + 1);
            var prior = PriorHours / tick;
            return new Forecast(
                (seen.AvailableTicks + (0.5 * prior)) / (seen.Ticks + prior),
                seen.Spells == 0 ? PriorHours : (double)seen.AvailableTicks * tick / seen.Spells);
        }
    }
}
