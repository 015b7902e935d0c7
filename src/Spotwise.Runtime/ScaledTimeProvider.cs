namespace Spotwise.Runtime;

/// <summary>
/// A clock that starts at the real time and runs <c>speed</c> times faster (<c>serve --speed 600</c> plays an hour in
/// six seconds): the demo clock. Timers made from it fire <c>speed</c> times sooner in real time, so periodic loops
/// keep their virtual rhythm.
/// </summary>
public sealed class ScaledTimeProvider : TimeProvider
{
    private readonly TimeProvider _real;
    private readonly double _speed;
    private readonly DateTimeOffset _start;
    private readonly long _startTimestamp;

    public ScaledTimeProvider(TimeProvider real, double speed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(speed, 0);
        _real = real;
        _speed = speed;
        _start = real.GetUtcNow();
        _startTimestamp = real.GetTimestamp();
    }

    public double Speed => _speed;

    public override DateTimeOffset GetUtcNow() => _start + (_real.GetElapsedTime(_startTimestamp) * _speed);

    public override long GetTimestamp() => _startTimestamp + (long)((_real.GetTimestamp() - _startTimestamp) * _speed);

    public override long TimestampFrequency => _real.TimestampFrequency;

    public override TimeZoneInfo LocalTimeZone => _real.LocalTimeZone;

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        _real.CreateTimer(callback, state, Scale(dueTime), Scale(period));

    private TimeSpan Scale(TimeSpan span) => span == Timeout.InfiniteTimeSpan ? span : span / _speed;
}
