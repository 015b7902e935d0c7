using Spotwise.Core;

namespace Spotwise.Runtime.Policy;

/// <summary>
/// The safety net of the Can't Be Late paper as Spotwise applies it, in one place: the latest moment to move to on-demand
/// is the plan's <see cref="CostModel.FallbackAt"/> (deadline − restart overhead − the whole job), moved later by every
/// hour of saved progress. The spot policy asks it one decision ahead: a job may spend the coming tick off on-demand only
/// if, should it then stand idle (preempted), switching to on-demand at the next decision still finishes by the deadline.
/// </summary>
public static class SafetyNet
{
    private const double Epsilon = 1e-9;

    /// <summary>
    /// The latest moment to switch <paramref name="job"/> to on-demand with <paramref name="savedHours"/> done, leaving
    /// <paramref name="launchAllowance"/> for the on-demand instance to boot; null without a deadline.
    /// </summary>
    public static DateTimeOffset? FallbackMoment(Job job, double savedHours, TimeSpan launchAllowance = default) =>
        CostModel.FallbackAt(job)?.AddHours(Math.Min(savedHours, job.DurationHours)) - launchAllowance;

    /// <summary>The same rule in the policy's hours since the start: deadline − changeover − the work not yet saved.</summary>
    public static double FallbackHours(IPolicyInputs inputs, double savedHours) =>
        inputs.DeadlineHours - (inputs.WorkHours + inputs.OverheadHours) + Math.Min(savedHours, inputs.WorkHours);

    /// <summary>
    /// Whether the job can stay off on-demand (idle or on spot) for the coming tick and still fall back to on-demand at
    /// the next decision. <paramref name="progressHours"/> is the work the candidate would make this tick.
    /// </summary>
    public static bool CanStayOff(IPolicyInputs inputs, double progressHours) =>
        inputs.ElapsedHours + inputs.TickHours <= FallbackHours(inputs, inputs.DoneHours + progressHours) + Epsilon;

    /// <summary>The work a spot tick saves: the tick less the changeover still to pay (a new launch pays all of it).</summary>
    public static double SpotProgress(IPolicyInputs inputs, int zone)
    {
        if (!inputs.ContinuousCheckpoints)
        {
            return 0;
        }
        var overhead = inputs.Current == Choice.Spot(zone) ? inputs.RemainingOverheadHours : inputs.OverheadHours;
        return Math.Max(0, inputs.TickHours - overhead);
    }

    /// <summary>
    /// The choice that keeps the deadline safe: <paramref name="wish"/> when it can be afforded, else on-demand. A job
    /// already on on-demand stays there once the net has caught it (leaving would cost a changeover it has no slack for).
    /// </summary>
    public static Choice Guard(IPolicyInputs inputs, Choice wish)
    {
        if (wish.Kind == ChoiceKind.OnDemand)
        {
            return wish;
        }
        var progress = wish.Kind == ChoiceKind.Spot ? SpotProgress(inputs, wish.Zone) : 0;
        return CanStayOff(inputs, progress) ? wish : Choice.OnDemand;
    }
}
