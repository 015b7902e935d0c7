namespace Spotwise.Runtime;

/// <summary>
/// The clock of a simulation: it stands still until the driver moves it, so the simulated cloud lives through days
/// in milliseconds. Only "now" is virtual; timestamps (<see cref="TimeProvider.GetTimestamp"/>) stay real, so measured
/// durations (a scheduler cycle, a policy's decision) are real work. It has no timers: drivers call the loops' ticks
/// themselves instead of waiting on them. (Tests use FakeTimeProvider; the runtime must not depend on a testing
/// package.) Used by the single-job scenario engine and the queue scenario alike.
/// </summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    /// <summary>Moves the clock forward to <paramref name="at"/>; virtual time never runs backwards.</summary>
    public void MoveTo(DateTimeOffset at)
    {
        if (at < _now)
        {
            throw new ArgumentOutOfRangeException(nameof(at), at, $"the clock is at {_now:O}; virtual time never runs backwards");
        }
        _now = at;
    }
}
