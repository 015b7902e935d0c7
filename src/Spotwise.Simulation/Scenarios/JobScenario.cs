namespace Spotwise.Simulation.Scenarios;

/// <summary>
/// One job of the single-job scenario: <see cref="WorkHours"/> of work, due <see cref="DeadlineHours"/> after it starts
/// at tick <see cref="StartTick"/> of the market's traces, paying <see cref="OverheadHours"/> of changeover (restart)
/// each time it starts or switches instance. Work done is checkpointed: a preemption keeps it.
/// </summary>
public sealed record JobScenario(double WorkHours, double DeadlineHours, double OverheadHours, int StartTick)
{
    /// <summary>
    /// Whether the first start pays the changeover too, as the Can't Be Late model (and every figure of the sweep) has it.
    /// The service pays it only on restarts (a first start's boot is the planner's launch allowance): set false to play a
    /// job as <c>serve</c> runs it (the same-decisions test does).
    /// </summary>
    public bool FirstStartPaysChangeover { get; init; } = true;

    /// <summary>What is wrong with this scenario in this market, one line each; empty when it can run.</summary>
    public IReadOnlyList<string> Validate(ZoneTraces market)
    {
        var errors = new List<string>();
        if (!(WorkHours > 0) || !double.IsFinite(WorkHours))
        {
            errors.Add(FormattableString.Invariant($"--job-hours: {WorkHours} must be a number > 0"));
        }
        if (!(DeadlineHours >= WorkHours + OverheadHours) || !double.IsFinite(DeadlineHours))
        {
            errors.Add(FormattableString.Invariant($"--deadline-hours: {DeadlineHours} must be at least the job's hours plus one overhead ({WorkHours + OverheadHours})"));
        }
        if (!(OverheadHours >= 0) || !double.IsFinite(OverheadHours))
        {
            errors.Add(FormattableString.Invariant($"--overhead-hours: {OverheadHours} must be a number >= 0"));
        }
        if (errors.Count == 0 && StartTick + TicksToDeadline(market) > market.TickCount)
        {
            errors.Add(FormattableString.Invariant(
                $"--deadline-hours: {DeadlineHours} h from tick {StartTick} runs past the trace's end ({market.TickCount} ticks of {market.TickHours:0.###} h)"));
        }
        return errors;
    }

    /// <summary>Ticks from the start until the deadline, the last one possibly partial.</summary>
    public int TicksToDeadline(ZoneTraces market) => (int)Math.Ceiling((DeadlineHours / market.TickHours) - 1e-9);
}
