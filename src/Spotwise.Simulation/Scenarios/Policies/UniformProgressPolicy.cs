using Spotwise.Runtime.Policy;

namespace Spotwise.Simulation.Scenarios.Policies;

/// <summary>
/// Uniform Progress, the policy of "Can't Be Late: Optimizing Spot Instance Savings under Deadlines" (Wu et al.,
/// NSDI 2024, §5.2), as its artifact (skypilot-org's sky_spot simulator, strategy rc_cr_threshold) decides at each tick:
/// <list type="number">
/// <item>Uniform progress: when behind the line ep(t) = t·C₀/R₀ and spot is not available, run on-demand.</item>
/// <item>Taking risks: take spot whenever it is available; stay on it until preempted.</item>
/// <item>Hysteresis: on on-demand, stay until progress reaches ep(t + 2d) and spot is available (the artifact keeps the
/// on-demand VM while spot is away).</item>
/// <item>Safety net: when the remaining work plus 2d (idle or on-demand) or plus d (anything else), rounded up to
/// whole ticks, no longer fits in the whole ticks left, run on-demand to the end; a spot instance past its changeover
/// is kept until preempted.</item>
/// </list>
/// With several zones (the paper's policy is single-zone) it takes spot where it runs, else the cheapest zone that has it.
/// </summary>
public sealed class UniformProgressPolicy : ISpotPolicy
{
    public const string Name = "uniform-progress";

    public Choice Decide(PolicyView view)
    {
        var c0 = view.WorkHours;
        var r0 = view.DeadlineHours;
        var t = view.ElapsedHours;
        var d = view.OverheadHours;
        var gap = view.TickHours;
        var progress = view.DoneHours;
        var remaining = view.RemainingWorkHours;
        if (remaining <= 1e-9)
        {
            return Choice.Idle;
        }
        var spot = SpotZones.Preferred(view);
        var current = view.Current.Kind;

        var request = spot is { } z ? Choice.Spot(z) : Choice.Idle;
        if (progress < t * c0 / r0 && spot is null)
        {
            request = Choice.OnDemand;
        }
        if (current == ChoiceKind.OnDemand && (spot is null || progress < (t + (2 * d)) * c0 / r0))
        {
            // The artifact keeps the on-demand VM while spot is away, and leaves it for spot only once ahead of ep(t + 2d).
            request = Choice.OnDemand;
        }

        // The safety net in whole ticks, as the artifact rounds it (1e-9 absorbs floating error in exact multiples).
        var ticksLeft = Math.Floor(((r0 - t) / gap) + 1e-9);
        var need = Math.Ceiling(((remaining + d) / gap) - 1e-9);
        var needWith2D = Math.Ceiling(((remaining + (2 * d)) / gap) - 1e-9);
        if (needWith2D >= ticksLeft && current is ChoiceKind.Idle or ChoiceKind.OnDemand)
        {
            request = Choice.OnDemand;
        }
        if (need >= ticksLeft)
        {
            request = current == ChoiceKind.Spot && view.RemainingOverheadHours < 1e-9 && view.SpotAvailable(view.Current.Zone)
                ? view.Current
                : Choice.OnDemand;
            if (d == 0 && spot is { } free)
            {
                request = Choice.Spot(free);
            }
        }
        return request;
    }
}
