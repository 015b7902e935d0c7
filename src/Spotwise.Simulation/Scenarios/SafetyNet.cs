using Spotwise.Core;

namespace Spotwise.Simulation.Scenarios;

/// <summary>
/// The product's safety net, applied at tick boundaries: the same rule the Reconciler uses (CostModel.FallbackAt,
/// moved later by every hour of saved progress), asked one decision ahead. A job may spend the coming tick off
/// on-demand only if, should it then stand idle (preempted), switching to on-demand at the next boundary still
/// finishes by the deadline.
/// </summary>
public sealed class SafetyNet
{
    private static readonly DateTimeOffset Start = ZoneTraces.Origin;
    private readonly Job _job;

    public SafetyNet(JobScenario scenario)
    {
        // The scenario's job as the product models it: checkpointable continuously, restart overhead = changeover.
        _job = new Job
        {
            Id = "scenario",
            DurationHours = scenario.WorkHours,
            Resources = ResourceRequest.ForInstanceTypes(["simulated"]),
            Deadline = Start.AddHours(scenario.DeadlineHours),
            Checkpointable = true,
            CheckpointIntervalHours = 0,
            RestartOverheadHours = scenario.OverheadHours,
        };
    }

    /// <summary>The latest moment (hours since the start) to switch to on-demand with <paramref name="savedHours"/> done.</summary>
    public double FallbackHours(double savedHours) =>
        (CostModel.FallbackAt(_job)!.Value - Start).TotalHours + Math.Min(savedHours, _job.DurationHours);

    /// <summary>
    /// Whether the job can stay off on-demand (idle or on spot) for the coming tick and still fall back to
    /// on-demand at the next boundary. <paramref name="progressHours"/> is the work the candidate would make this tick.
    /// </summary>
    public bool CanStayOff(PolicyView view, double progressHours) =>
        view.ElapsedHours + view.TickHours <= FallbackHours(view.DoneHours + progressHours) + 1e-9;

    /// <summary>The work a spot tick makes: the tick less the changeover still to pay (a new launch pays all of it).</summary>
    public static double SpotProgress(PolicyView view, int zone)
    {
        var overhead = view.Current == Choice.Spot(zone) ? view.RemainingOverheadHours : view.OverheadHours;
        return Math.Max(0, view.TickHours - overhead);
    }

    /// <summary>
    /// The choice that keeps the deadline safe: <paramref name="wish"/> when it can be afforded, else on-demand.
    /// A job already on on-demand stays there once the net has caught it (leaving would cost a changeover it has no slack for).
    /// </summary>
    public Choice Guard(PolicyView view, Choice wish)
    {
        if (wish.Kind == ChoiceKind.OnDemand)
        {
            return wish;
        }
        var progress = wish.Kind == ChoiceKind.Spot ? SpotProgress(view, wish.Zone) : 0;
        return CanStayOff(view, progress) ? wish : Choice.OnDemand;
    }
}
