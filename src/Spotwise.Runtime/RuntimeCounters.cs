namespace Spotwise.Runtime;

/// <summary>
/// What the control loop has done since start, for <c>/metrics</c>: planning cycles and the last one's duration,
/// interruptions seen, safety-net moves to on-demand. Thread-safe; one instance per service.
/// </summary>
public sealed class RuntimeCounters
{
    private long _cycles;
    private long _lastCycleTicks;
    private long _interruptions;
    private long _fallbacks;
    private long _refusals;

    public long Cycles => Interlocked.Read(ref _cycles);

    public TimeSpan LastCycle => TimeSpan.FromTicks(Interlocked.Read(ref _lastCycleTicks));

    public long Interruptions => Interlocked.Read(ref _interruptions);

    public long Fallbacks => Interlocked.Read(ref _fallbacks);

    /// <summary>Spot launches the market refused outright (no capacity): not interruptions, nothing ran.</summary>
    public long SpotRefusals => Interlocked.Read(ref _refusals);

    public void CycleDone(TimeSpan took)
    {
        Interlocked.Increment(ref _cycles);
        Interlocked.Exchange(ref _lastCycleTicks, took.Ticks);
    }

    public void Interrupted() => Interlocked.Increment(ref _interruptions);

    public void FellBack() => Interlocked.Increment(ref _fallbacks);

    public void SpotRefused() => Interlocked.Increment(ref _refusals);
}
