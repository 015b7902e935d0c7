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

/// <summary>
/// Maps a value to y for the charts: <see cref="Min"/> at the bottom, <see cref="Max"/> at the top, with round ticks
/// every <see cref="Step"/> (1, 2, 2.5 or 5 times a power of ten) that <see cref="Decimals"/> digits tell apart, so an
/// axis over cents never reads <c>$0.00</c> twice.
/// </summary>
public sealed record ValueScale(double Min, double Max, double Top, double Height, double Step = 0)
{
    private static readonly double[] NiceSteps = [1, 2, 2.5, 5, 10];

    /// <summary>The round values from <see cref="Min"/> to <see cref="Max"/>, <see cref="Step"/> apart (just the two ends without a step).</summary>
    public IReadOnlyList<double> Ticks() => Step > 0
        ? [.. Enumerable.Range(0, (int)Math.Round((Max - Min) / Step) + 1).Select(i => Min + (i * Step))]
        : [Min, Max];

    /// <summary>Decimal digits that show every tick distinctly (0 for steps of 1 and more; 3 for a step of 0.005).</summary>
    public int Decimals
    {
        get
        {
            if (Step <= 0 || Step >= 1)
            {
                return 0;
            }
            var digits = (int)Math.Ceiling(-Math.Log10(Step) - 1e-9);
            // 0.25 or 0.025 needs one digit more than its power of ten.
            return Math.Abs((Step * Math.Pow(10, digits)) - Math.Round(Step * Math.Pow(10, digits))) > 1e-9 ? digits + 1 : digits;
        }
    }

    public double Y(double value)
    {
        var share = Max > Min ? (value - Min) / (Max - Min) : 0;
        return Top + Height - (Math.Clamp(share, 0, 1) * Height);
    }

    /// <summary>
    /// From zero up to the first round tick at or above the largest value, with at most <paramref name="ticks"/> steps
    /// (a flat line of zeros still gets an axis, 0 to 1).
    /// </summary>
    public static ValueScale UpTo(IEnumerable<double> values, double top, double height, int ticks = 4)
    {
        var max = values.DefaultIfEmpty(0).Max();
        if (!(max > 0) || double.IsInfinity(max))
        {
            return new ValueScale(0, 1, top, height, 0.25);
        }
        var magnitude = Math.Pow(10, Math.Floor(Math.Log10(max / ticks)));
        var step = NiceSteps.Select(n => n * magnitude).First(s => s * ticks >= max);
        return new ValueScale(0, step * Math.Ceiling((max / step) - 1e-9), top, height, step);
    }
}
