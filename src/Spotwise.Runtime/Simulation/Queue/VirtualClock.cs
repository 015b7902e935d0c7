namespace Spotwise.Runtime.Simulation.Queue;

/// <summary>
/// The clock of a simulation: it stands still until the driver moves it. Only "now" is virtual; timestamps
/// (<see cref="TimeProvider.GetTimestamp"/>) stay real, so the scheduler's cycle durations measure the planner's real
/// work. It has no timers: the driver calls the loops' ticks itself instead of waiting on them.
/// </summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    /// <summary>Moves the clock forward to <paramref name="at"/>; time never runs backwards.</summary>
    public void MoveTo(DateTimeOffset at)
    {
        if (at < _now)
        {
            throw new ArgumentOutOfRangeException(nameof(at), at, $"the clock is at {_now:O}; it does not run backwards");
        }
        _now = at;
    }
}
