namespace Spotwise.Runtime.Policy;

/// <summary>
/// Spotwise's spot policy, the one <c>serve</c> runs and <c>simulate --policy spotwise</c> scores: for a running or
/// waiting job, every tick, stay on spot, wait for spot, move to on-demand, come back to spot, or move zone.
/// <para>
/// A job's lost-time budget (deadline − work, its slack) is spent on waiting and changeovers; spot time is free of it,
/// on-demand time costs money but no budget. Spot is taken whenever available, and on-demand is never left to wait
/// (coming back would cost a changeover), only for spot. The one hard question is what to do while spot is away: wait
/// (spend slack) or run on-demand (spend money). The policy answers it from an availability model fitted to the past
/// (<see cref="AvailabilityModel"/>: how long spot spells and outages last, from a week before the job's start up to
/// now, with a weak prior): the on-demand hours the job will need are its <em>deficit</em>, the remaining work that the
/// spot time expected before the deadline (net of a changeover per spell) cannot cover. Any on-demand hour spent in an
/// outage is as good as any other only if it turns out needed; so the policy spends it as late in an outage as it
/// can, in the outages that have lasted longest. Outages are long-tailed: the share of outage time that lies beyond
/// age θ in an outage is e^(−θ/mean) for memoryless ones, so covering outages past θ = mean · ln(outage time ahead /
/// deficit) spends the deficit in expectation; the slack decides how patient to be (with little of it an outage
/// waited through may be the one that leaves no room, so θ shrinks to 0 and the policy covers every outage from its
/// start, behind the uniform-progress line). On-demand in an outage is also only chosen when behind that line, so a
/// job ahead of a steady pace never pays for it. An interruption notice (<see cref="IPolicyInputs.UnderNotice"/>) is
/// not such a forecast but the cloud saying the job's pool is going: a job with a deadline covers it at once, patience or
/// not, by spot in another pool with capacity, else on-demand. Every choice passes <see cref="SafetyNet"/>.
/// </para>
/// Stateless: everything it needs is in the <see cref="IPolicyInputs"/>, so a service that restarts decides as before,
/// and what it sees is the present and the past alone (a test scrambles the future and checks the decisions up to it).
/// </summary>
public static class SpotPolicy
{
    /// <summary>How far before the job's start availability is measured (hours).</summary>
    public const double HistoryHours = 24 * 7;

    /// <summary>Prior: one spell and one outage of this length, so a short history does not decide alone.</summary>
    public const double PriorSpellHours = 6;

    /// <summary>
    /// How patient the policy is in an outage, per unit of slack share (slack / time left) above
    /// <see cref="PatienceFloor"/>: θ is multiplied by Patience × (share − floor). Measured on the 9-zone V100 sweep (40
    /// starts per zone) and checked, unchanged, on the 2022 traces (docs/benchmarks.md).
    /// </summary>
    public const double Patience = 10;

    /// <summary>Below this share of slack in the time left the policy covers every outage from its start.</summary>
    public const double PatienceFloor = 0.05;

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
        var model = AvailabilityModel.Of(view);
        Choice wish;
        if (view.Current.Kind == ChoiceKind.OnDemand)
        {
            // Leave on-demand only for spot, and only where spells are long enough to repay the two changeovers a
            // switch may cost (this one, and the one back to on-demand when the spell ends).
            wish = spot is { } z && model.SpellHours >= 4 * view.OverheadHours ? Choice.Spot(z) : Choice.OnDemand;
        }
        else if (spot is { } z)
        {
            wish = Choice.Spot(z);
        }
        else if (view.UnderNotice)
        {
            // EC2 has said it takes the pool back: a certain outage, not a forecast one the job could wait out, so it is
            // covered now, while the instance has its last minutes to checkpoint (another pool with spot came first).
            wish = Choice.OnDemand;
        }
        else
        {
            wish = CoversOutage(view, model) ? Choice.OnDemand : Choice.Idle;
        }
        return SafetyNet.Guard(view, wish);
    }

    /// <summary>Whether to spend the coming tick of an outage on on-demand rather than waiting for spot.</summary>
    private static bool CoversOutage(IPolicyInputs view, AvailabilityModel model)
    {
        var left = view.HoursToDeadline() - view.OverheadHours;
        var remaining = view.RemainingWorkHours();
        var deficit = remaining - ExpectedSpotHours(view, model, left);
        var behindLine = view.DoneHours < view.ElapsedHours * view.WorkHours / view.DeadlineHours;
        if (deficit <= 0 || !behindLine)
        {
            return false;
        }
        var outageAhead = (1 - model.Share) * left;
        if (deficit >= outageAhead)
        {
            return true;
        }
        var slackShare = Math.Max(0, left - remaining) / Math.Max(1e-9, left);
        var patience = Patience * Math.Max(0, slackShare - PatienceFloor);
        var theta = patience * model.OutageHours * Math.Log(outageAhead / deficit);
        return OutageAgeHours(view) + (view.TickHours / 2) > theta;
    }

    // Where to run spot: the current zone while it lasts, unless another is cheaper by enough to repay the changeover
    // a move costs (and the one it may cost to come back) within the work left; else the cheapest available. A
    // changeover is paid at spot and takes its hours from the slack, which the job may have to buy back on on-demand:
    // priced at on-demand, a cent's difference between two cheap pools no longer moves the job every time prices tick.
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
        var cost = 2 * view.OverheadHours * view.OnDemandPricePerHourUsd;
        return saving > cost ? best : here;
    }

    // Spot hours the job can expect in the time left: the availability share of it, less a changeover for each spell
    // it will have to start (time on spot / mean spell).
    private static double ExpectedSpotHours(IPolicyInputs view, AvailabilityModel model, double left)
    {
        var spotTime = model.Share * left;
        var spells = spotTime / Math.Max(view.TickHours, model.SpellHours);
        return spotTime - (spells * view.OverheadHours);
    }

    /// <summary>
    /// How long spot has been away in every zone of the job (0 in the first tick of an outage or when spot is here):
    /// the ticks since the last one with capacity, found by halving over the history's running counts (O(log n)).
    /// </summary>
    private static double OutageAgeHours(IPolicyInputs view)
    {
        var reach = HistoryTicks(view);
        var all = view.History(reach);
        if (all.Ticks == 0)
        {
            return 0;
        }
        if (all.AvailableTicks == 0)
        {
            return all.Ticks * view.TickHours;
        }
        int lo = 1, hi = reach;
        while (lo < hi)
        {
            var mid = lo + ((hi - lo) / 2);
            if (view.History(mid).AvailableTicks > 0)
            {
                hi = mid;
            }
            else
            {
                lo = mid + 1;
            }
        }
        return Math.Max(0, lo - 2) * view.TickHours;
    }

    private static int HistoryTicks(IPolicyInputs view) => (int)(HistoryHours / view.TickHours) + view.TicksSinceStart() + 1;

    /// <summary>
    /// Spot availability as an alternating renewal process fitted to what was seen from a week before the job's start
    /// until now: mean spell and mean outage (hours), each with one prior spell and outage of
    /// <see cref="PriorSpellHours"/>; the share of time spot is there follows from them.
    /// </summary>
    private readonly record struct AvailabilityModel(double SpellHours, double OutageHours)
    {
        public double Share => SpellHours / (SpellHours + OutageHours);

        public static AvailabilityModel Of(IPolicyInputs view)
        {
            var tick = view.TickHours;
            var seen = view.History(HistoryTicks(view));
            var up = seen.AvailableTicks * tick;
            var down = (seen.Ticks - seen.AvailableTicks) * tick;
            return new AvailabilityModel((up + PriorSpellHours) / (seen.Spells + 1), (down + PriorSpellHours) / (seen.Spells + 1));
        }
    }
}
