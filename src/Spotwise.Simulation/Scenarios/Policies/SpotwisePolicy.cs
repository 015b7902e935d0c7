namespace Spotwise.Simulation.Scenarios.Policies;

/// <summary>
/// Spotwise's own policy: forecast progress under the product's safety net.
/// <para>
/// A job's lost-time budget (deadline − work) is spent on waiting and changeovers; spot time is free of it, on-demand
/// time costs money but no budget. What the job will need on on-demand is the work that the spot capacity still to
/// come cannot cover, so the policy forecasts it from what it has seen: the share of time spot was available and how
/// long spot spells last (each preemption costs a changeover), estimated from the trace up to now (a week back, with
/// a weak prior while history is short). It is <em>behind</em> when the remaining work exceeds the spot time it
/// expects before the deadline (net of changeovers). When it is behind that forecast and behind uniform progress too,
/// outages are spent on on-demand (work that would be needed on on-demand anyway, done while spot is away, so the end
/// of the job keeps the slack to use spot); otherwise it waits. Spot is taken whenever available; on-demand is never
/// left to wait (coming back would cost a changeover), only for spot. Every choice passes <see cref="SafetyNet"/>:
/// the Reconciler's fallback rule (CostModel.FallbackAt), asked one tick ahead.
/// </para>
/// </summary>
public sealed class SpotwisePolicy(JobScenario scenario) : ISpotPolicy
{
    public const string Name = "spotwise";

    /// <summary>How far back availability is measured (hours).</summary>
    public const double HistoryHours = 24 * 7;

    /// <summary>Prior: availability one half, worth this many hours of observation.</summary>
    public const double PriorHours = 24;

    private readonly SafetyNet _net = new(scenario);
    private AvailabilityHistory? _history;

    public Choice Decide(PolicyView view)
    {
        if (view.RemainingWorkHours <= 1e-9)
        {
            return Choice.Idle;
        }
        _history ??= AvailabilityHistory.Since(view, (int)(HistoryHours / view.TickHours));
        _history.Observe(view);

        var spot = Zone(view);
        var d = view.OverheadHours;
        var gap = ExpectedSpotHours(view) - view.RemainingWorkHours; // > 0: ahead of what spot can cover
        Choice wish;
        if (view.Current.Kind == ChoiceKind.OnDemand)
        {
            // Leave on-demand only for spot (never to wait: that costs a changeover to come back), and only for
            // spells long enough to repay the two changeovers a switch may cost, or when ahead by two changeovers.
            wish = spot is { } z && (gap >= 2 * d || _history.MeanSpellHours >= 4 * d) ? Choice.Spot(z) : Choice.OnDemand;
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
        return _net.Guard(view, wish);
    }

    // Where to run spot: the current zone while it lasts, unless another is cheaper by enough to repay the changeover
    // a move costs (and the one it may cost to come back) within the work left; else the cheapest available.
    private static int? Zone(PolicyView view)
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
        var saving = (view.SpotPrice(here) - view.SpotPrice(best)) * view.RemainingWorkHours;
        var cost = 2 * view.OverheadHours * view.SpotPrice(best);
        return saving > cost ? best : here;
    }

    // Spot hours the job can expect before its deadline: the availability share of the time left, less a changeover
    // for each spell it will have to start (time left on spot / mean spell), and the final fallback's changeover.
    private double ExpectedSpotHours(PolicyView view)
    {
        var left = view.HoursToDeadline - view.OverheadHours;
        var spotTime = _history!.AvailableShare * left;
        var spells = spotTime / Math.Max(view.TickHours, _history.MeanSpellHours);
        return spotTime - (spells * view.OverheadHours);
    }

    /// <summary>What spot did in the market so far: share of ticks with capacity in some zone, and mean spell length.</summary>
    private sealed class AvailabilityHistory
    {
        private readonly double _tickHours;
        private double _available;
        private double _ticks;
        private int _spells;
        private bool _last;
        private int _seenTick = -1;

        private AvailabilityHistory(double tickHours) => _tickHours = tickHours;

        public double AvailableShare => (_available + (0.5 * PriorHours / _tickHours)) / (_ticks + (PriorHours / _tickHours));

        public double MeanSpellHours => _spells == 0 ? PriorHours : _available * _tickHours / _spells;

        public static AvailabilityHistory Since(PolicyView view, int ticksBack)
        {
            var history = new AvailabilityHistory(view.TickHours);
            var back = Math.Min(ticksBack, view.HistoryTicks);
            for (var ago = back; ago >= 1; ago--)
            {
                history.Add(AnyZone(view, ago));
            }
            return history;
        }

        public void Observe(PolicyView view)
        {
            if (view.Tick > _seenTick)
            {
                _seenTick = view.Tick;
                Add(AnyZone(view, 0));
            }
        }

        private void Add(bool available)
        {
            _ticks++;
            if (available)
            {
                _available++;
                _spells += _last ? 0 : 1;
            }
            _last = available;
        }

        private static bool AnyZone(PolicyView view, int ago)
        {
            for (var z = 0; z < view.ZoneCount; z++)
            {
                if (view.SpotAvailableAgo(z, ago))
                {
                    return true;
                }
            }
            return false;
        }
    }
}
