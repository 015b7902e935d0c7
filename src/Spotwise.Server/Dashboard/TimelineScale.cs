namespace Spotwise.Server.Dashboard;

/// <summary>
/// Maps time to x for the timeline and the charts (pure geometry, unit-tested): <see cref="From"/> is at
/// <see cref="Left"/>, <see cref="To"/> at <see cref="Left"/> + <see cref="Width"/>; times outside are clamped to the
/// edges, so a bar that started before the window begins at its left edge.
/// </summary>
public sealed record TimelineScale(DateTimeOffset From, DateTimeOffset To, double Left, double Width)
{
    /// <summary>A bar is never thinner than this, so a short job stays visible (and clickable).</summary>
    public const double MinBarWidth = 3;

    private static readonly TimeSpan[] TickSteps =
    [
        TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(30), TimeSpan.FromHours(1), TimeSpan.FromHours(2),
        TimeSpan.FromHours(3), TimeSpan.FromHours(6), TimeSpan.FromHours(12), TimeSpan.FromDays(1), TimeSpan.FromDays(2), TimeSpan.FromDays(7),
    ];

    public double Right => Left + Width;

    public double X(DateTimeOffset at)
    {
        var share = (at - From) / (To - From);
        return Left + (Math.Clamp(share, 0, 1) * Width);
    }

    public bool Shows(DateTimeOffset at) => at >= From && at <= To;

    /// <summary>A bar's x and width for [start, end]; at least <see cref="MinBarWidth"/> wide, and inside the window.</summary>
    public (double X, double Width) Bar(DateTimeOffset start, DateTimeOffset end)
    {
        var x = X(start);
        var width = Math.Max(MinBarWidth, X(end < start ? start : end) - x);
        return (Math.Min(x, Right - width), width);
    }

    /// <summary>Round times to label the axis, at most <paramref name="most"/> of them.</summary>
    public IReadOnlyList<DateTimeOffset> Ticks(int most)
    {
        var span = To - From;
        var step = TickSteps.FirstOrDefault(s => span / s <= most, TickSteps[^1]);
        var first = new DateTimeOffset(From.UtcTicks - (From.UtcTicks % step.Ticks), TimeSpan.Zero);
        var ticks = new List<DateTimeOffset>();
        for (var t = first < From ? first + step : first; t <= To; t += step)
        {
            ticks.Add(t);
        }
        return ticks;
    }

    /// <summary>
    /// A window that shows a little of the past and everything ahead up to the last of <paramref name="times"/>: at
    /// least two hours, at most a week ahead of now.
    /// </summary>
    public static TimelineScale Around(DateTimeOffset now, IEnumerable<DateTimeOffset> times, double left, double width)
    {
        var last = times.Where(t => t > now).DefaultIfEmpty(now).Max();
        var ahead = TimeSpan.FromTicks(Math.Clamp((last - now).Ticks, TimeSpan.FromHours(2).Ticks, TimeSpan.FromDays(7).Ticks));
        ahead += ahead / 20;
        return new TimelineScale(now - (ahead / 8), now + ahead, left, width);
    }
}

/// <summary>Maps a value to y for the charts: <see cref="Min"/> at the bottom, <see cref="Max"/> at the top.</summary>
public sealed record ValueScale(double Min, double Max, double Top, double Height)
{
    public double Y(double value)
    {
        var share = Max > Min ? (value - Min) / (Max - Min) : 0;
        return Top + Height - (Math.Clamp(share, 0, 1) * Height);
    }

    /// <summary>From zero up to a little above the largest value (a flat line of zeros still gets an axis).</summary>
    public static ValueScale UpTo(IEnumerable<double> values, double top, double height)
    {
        var max = values.DefaultIfEmpty(0).Max();
        return new ValueScale(0, max > 0 ? max * 1.1 : 1, top, height);
    }
}
