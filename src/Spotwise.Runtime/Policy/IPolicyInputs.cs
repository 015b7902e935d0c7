namespace Spotwise.Runtime.Policy;

/// <summary>
/// What the spot policy sees of one job at a decision moment: the job (work, deadline, changeover, progress, what it runs
/// on) and the spot market of the pools (zones) it can use, now and in the past. Times are hours since the job's start
/// (its earliest start, or its submission). Two feeders: the service (<see cref="JobPolicyInputs"/>, from the job record,
/// the backend's report and <see cref="SpotAvailabilityHistory"/>) and the single-job simulation (its PolicyView, over the
/// traces). Both must show only what a live service can know: the present and the past.
/// </summary>
public interface IPolicyInputs
{
    /// <summary>The job's whole work (hours).</summary>
    double WorkHours { get; }

    /// <summary>The deadline, hours after the start; +∞ when the job has none.</summary>
    double DeadlineHours { get; }

    /// <summary>The changeover: time a new instance runs (and is paid) before it makes progress (restart, reload).</summary>
    double OverheadHours { get; }

    /// <summary>How long a decision holds: the next one comes a tick later.</summary>
    double TickHours { get; }

    double ElapsedHours { get; }

    /// <summary>Work done and kept (checkpointed) so far.</summary>
    double DoneHours { get; }

    /// <summary>What the job runs on now: idle when it has no live instance.</summary>
    Choice Current { get; }

    /// <summary>Changeover still to pay on the current instance before it makes progress.</summary>
    double RemainingOverheadHours { get; }

    /// <summary>
    /// Whether work is kept as it is made (checkpoints all the time), so the coming tick's spot work moves the safety net
    /// later; with checkpoints at intervals (or none) the net counts only what is saved already.
    /// </summary>
    bool ContinuousCheckpoints { get; }

    /// <summary>
    /// Whether the job's spot instance has its interruption notice (<see cref="SpotNotice"/>): the instance is shown as
    /// ending (the current choice is idle, its pool has no capacity), and that pool's outage is certain, not a forecast.
    /// </summary>
    bool UnderNotice { get; }

    /// <summary>How many spot pools (zones) the job can use.</summary>
    int ZoneCount { get; }

    /// <summary>Whether spot capacity can be had in <paramref name="zone"/> now (the job's own instance counts as had).</summary>
    bool SpotAvailable(int zone);

    double SpotPrice(int zone);

    /// <summary>What an hour of on-demand costs the job ($/h): the price of buying back time a changeover took from the slack.</summary>
    double OnDemandPricePerHourUsd { get; }

    /// <summary>
    /// How spot did over the last <paramref name="ticks"/> ticks up to and including now, in any of the job's zones
    /// (fewer when the record does not reach that far back).
    /// </summary>
    AvailabilitySummary History(int ticks);
}

/// <summary>
/// Spot availability over a run of ticks: how many ticks were seen, in how many some zone had capacity, and how many
/// spells of availability started in it (a spell under way when the run begins counts as starting with it).
/// </summary>
public readonly record struct AvailabilitySummary(int Ticks, int AvailableTicks, int Spells);

/// <summary>What follows from the inputs, said once.</summary>
public static class PolicyInputs
{
    public static double HoursToDeadline(this IPolicyInputs inputs) => inputs.DeadlineHours - inputs.ElapsedHours;

    public static double RemainingWorkHours(this IPolicyInputs inputs) => Math.Max(0, inputs.WorkHours - inputs.DoneHours);

    /// <summary>Whole ticks since the start (the decision moments so far, less one).</summary>
    public static int TicksSinceStart(this IPolicyInputs inputs) => (int)Math.Round(inputs.ElapsedHours / inputs.TickHours);
}
