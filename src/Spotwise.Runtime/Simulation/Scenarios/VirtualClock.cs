namespace Spotwise.Runtime.Simulation.Scenarios;

/// <summary>
/// A clock that only moves when told: the scenario engine sets it to each tick so the simulated cloud lives through a
/// 70-hour job in microseconds. (Tests use FakeTimeProvider; the runtime must not depend on a testing package.)
/// </summary>
public sealed class VirtualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    /// <summary>Moves the clock to <paramref name="at"/>; virtual time never runs backwards.</summary>
    public void MoveTo(DateTimeOffset at)
    {
        if (at < _now)
        {
            throw new ArgumentOutOfRangeException(nameof(at), at, $"the clock is at {_now:O}; virtual time never runs backwards");
        }
        _now = at;
    }
}
