using Spotwise.Runtime.Policy;

namespace Spotwise.Simulation.Scenarios;

/// <summary>
/// What an online policy sees at a tick boundary: the job (work, deadline, overhead, progress, what it runs on) and the
/// market up to and including the present tick. Asking about a future tick throws: only the omniscient bound, which
/// is built with the whole trace, knows the future. History before the job's start is visible (a real scheduler has
/// yesterday's availability too; the service's <see cref="SpotAvailabilityHistory"/> records it as its loop runs). The
/// engine updates one view in place as time passes. It is also the shipped policy's <see cref="IPolicyInputs"/>: the
/// adapter through which <c>spotwise</c> runs the same code as the service.
/// </summary>
public sealed class PolicyView : IPolicyInputs
{
    private readonly ZoneTraces _market;

    internal PolicyView(ZoneTraces market, JobScenario scenario)
    {
        _market = market;
        Scenario = scenario;
    }

    public JobScenario Scenario { get; }

    public double WorkHours => Scenario.WorkHours;

    public double DeadlineHours => Scenario.DeadlineHours;

    public double OverheadHours => Scenario.OverheadHours;

    public double TickHours => _market.TickHours;

    public int ZoneCount => _market.ZoneCount;

    public double OnDemandPricePerHourUsd => _market.OnDemandPricePerHourUsd;

    /// <summary>Ticks since the job started.</summary>
    public int Tick { get; internal set; }

    public double ElapsedHours => Tick * _market.TickHours;

    public double HoursToDeadline => Scenario.DeadlineHours - ElapsedHours;

    /// <summary>Work done and kept (checkpointed) so far.</summary>
    public double DoneHours { get; internal set; }

    public double RemainingWorkHours => Math.Max(0, Scenario.WorkHours - DoneHours);

    /// <summary>What the job runs on now: idle after a preemption.</summary>
    public Choice Current { get; internal set; }

    /// <summary>Changeover still to pay on the current instance before it makes progress.</summary>
    public double RemainingOverheadHours { get; internal set; }

    /// <summary>A scenario's job checkpoints continuously: a preemption keeps all the work done.</summary>
    public bool ContinuousCheckpoints => true;

    /// <summary>
    /// Never: the engine's cloud takes spot back without a warning (its InterruptionNotice is zero), as the recorded traces
    /// show a preemption only at the tick after it; the policy learns of it at the next boundary, as idle.
    /// </summary>
    public bool UnderNotice => false;

    /// <summary>Whether spot capacity can be had in <paramref name="zone"/> now.</summary>
    public bool SpotAvailable(int zone) => _market.Available(zone, Scenario.StartTick + Tick);

    public double SpotPrice(int zone) => _market.SpotPrice(zone, Scenario.StartTick + Tick);

    /// <summary>
    /// Availability <paramref name="ticksAgo"/> ticks ago (0 = now), reaching back before the job's start to the
    /// trace's first tick (<see cref="HistoryTicks"/>).
    /// </summary>
    public bool SpotAvailableAgo(int zone, int ticksAgo)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(ticksAgo, "a policy sees only the past and the present");
        return _market.Available(zone, Scenario.StartTick + Tick - ticksAgo);
    }

    /// <summary>How many ticks back from now the recording reaches (0 = now is the first tick).</summary>
    public int HistoryTicks => Scenario.StartTick + Tick;

    public AvailabilitySummary History(int ticks)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(ticks);
        var now = Scenario.StartTick + Tick;
        return _market.AnyZoneSummary(Math.Max(0, now - ticks + 1), now);
    }
}

/// <summary>
/// A policy of the single-job scenario: at every tick boundary it decides what the job runs on for the coming tick.
/// One instance per run (policies may keep state). Every policy but the omniscient bound decides from the
/// <see cref="PolicyView"/> alone.
/// </summary>
public interface ISpotPolicy
{
    Choice Decide(PolicyView view);
}
