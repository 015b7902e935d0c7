using System.Collections.Immutable;
using System.Globalization;

namespace Spotwise.Core;

/// <summary>An allowed stretch of time, [Start, End).</summary>
public readonly record struct AllowedInterval(DateTimeOffset Start, DateTimeOffset End)
{
    public bool Holds(DateTimeOffset from, DateTimeOffset to) => from >= Start && to <= End;
}

/// <summary>One refusal of a window text: the field it sits in (<c>windows[1]</c>) and why.</summary>
public sealed record WindowError(string Field, string Message);

/// <summary>
/// When a job may run, from texts such as <c>"Mon-Fri 20:00-06:00"</c>, <c>"Sat-Sun"</c>, <c>"Mon 09:00-17:00"</c> or
/// <c>"20:00-06:00 Europe/Berlin"</c> (every day): days, an optional time range, an optional IANA zone (UTC without
/// one). A range that crosses midnight belongs to the day it starts (Fri 20:00-06:00 runs into Saturday morning).
/// Local times become instants through <see cref="TimeZoneInfo"/>, so a window keeps its wall-clock hours across a
/// DST change: a time in the skipped hour counts from after the gap, a time that happens twice counts once, the first.
/// </summary>
public sealed class ScheduleWindows
{
    private static readonly string[] DayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

    private readonly ImmutableArray<WindowRule> _rules;

    private ScheduleWindows(ImmutableArray<WindowRule> rules) => _rules = rules;

    /// <summary>The texts as given, one per rule.</summary>
    public IEnumerable<string> Texts => _rules.Select(r => r.Text);

    /// <summary>
    /// Parses a job's <c>windows</c>; every bad text is an error naming <c>{field}[k]</c> and the text. An empty list
    /// means "any time" (null windows).
    /// </summary>
    public static (ScheduleWindows? Windows, IReadOnlyList<WindowError> Errors) Parse(IReadOnlyList<string> texts, string field = "windows")
    {
        var errors = new List<WindowError>();
        var rules = ImmutableArray.CreateBuilder<WindowRule>(texts.Count);
        for (var k = 0; k < texts.Count; k++)
        {
            var name = FormattableString.Invariant($"{field}[{k}]");
            if (ParseRule(texts[k], out var rule) is { } why)
            {
                errors.Add(new WindowError(name, $"{why}: '{Shorten(texts[k])}'"));
            }
            else
            {
                rules.Add(rule!);
            }
        }
        return errors.Count > 0 || rules.Count == 0 ? (null, errors) : (new ScheduleWindows(rules.ToImmutable()), errors);
    }

    /// <summary>The job's windows, or null when it has none (or, for a job stored before a rule existed, none that parse).</summary>
    public static ScheduleWindows? Of(Job job) => job.Windows.IsDefaultOrEmpty ? null : Parse(job.Windows).Windows;

    /// <summary>
    /// The allowed intervals that overlap [<paramref name="from"/>, <paramref name="to"/>), in order, merged where they
    /// touch or overlap, and cut to that range.
    /// </summary>
    public IReadOnlyList<AllowedInterval> Between(DateTimeOffset from, DateTimeOffset to)
    {
        var raw = new List<AllowedInterval>();
        foreach (var rule in _rules)
        {
            rule.AddIntervals(from, to, raw);
        }
        raw.Sort((a, b) => a.Start.CompareTo(b.Start));
        var merged = new List<AllowedInterval>(raw.Count);
        foreach (var i in raw)
        {
            var cut = new AllowedInterval(i.Start < from ? from : i.Start, i.End > to ? to : i.End);
            if (cut.End <= cut.Start)
            {
                continue;
            }
            if (merged.Count > 0 && cut.Start <= merged[^1].End)
            {
                merged[^1] = merged[^1] with { End = cut.End > merged[^1].End ? cut.End : merged[^1].End };
            }
            else
            {
                merged.Add(cut);
            }
        }
        return merged;
    }

    /// <summary>Whether a run from <paramref name="from"/> to <paramref name="to"/> lies inside one allowed interval.</summary>
    public bool Holds(DateTimeOffset from, DateTimeOffset to) =>
        Between(from.AddDays(-8), to.AddDays(1)).Any(i => i.Holds(from, to));

    /// <summary>The first allowed interval that ends after <paramref name="after"/> (within <paramref name="within"/>), or null.</summary>
    public AllowedInterval? Next(DateTimeOffset after, TimeSpan within) =>
        Between(after, after + within).Cast<AllowedInterval?>().FirstOrDefault();

    public override string ToString() => string.Join(", ", Texts.Select(t => $"'{t}'"));

    private static string? ParseRule(string text, out WindowRule? rule)
    {
        rule = null;
        var tokens = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Length is 0 or > 3)
        {
            return "expected days, an optional time range and an optional IANA zone, like 'Mon-Fri 20:00-06:00 Europe/Berlin'";
        }
        var at = 0;
        var days = new bool[7];
        if (!tokens[0].Contains(':', StringComparison.Ordinal))
        {
            if (ParseDays(tokens[0], days) is { } whyDays)
            {
                return whyDays;
            }
            at++;
        }
        else
        {
            Array.Fill(days, true);
        }
        (int From, int To)? minutes = null;
        if (at < tokens.Length && tokens[at].Contains(':', StringComparison.Ordinal))
        {
            if (ParseTimes(tokens[at], out var range) is { } whyTimes)
            {
                return whyTimes;
            }
            minutes = range;
            at++;
        }
        var zone = TimeZoneInfo.Utc;
        if (at < tokens.Length)
        {
            if (FindZone(tokens[at]) is not { } found)
            {
                return $"'{Shorten(tokens[at])}' is not a time range (HH:mm-HH:mm) or an IANA time zone (Europe/Berlin, America/New_York, UTC)";
            }
            zone = found;
            at++;
        }
        if (at < tokens.Length)
        {
            return $"'{Shorten(tokens[at])}' is not expected after the days, the time range and the zone";
        }
        rule = new WindowRule(text, days, minutes, zone);
        return null;
    }

    private static string? ParseDays(string token, bool[] days)
    {
        var parts = token.Split('-');
        if (parts.Length > 2 || parts.Any(p => Day(p) < 0))
        {
            return $"'{Shorten(token)}' is not a day or a day range; days are {string.Join(", ", DayNames.Skip(1).Append(DayNames[0]))} (Mon-Fri, Sat-Sun, Fri-Mon)";
        }
        var from = Day(parts[0]);
        var to = Day(parts[^1]);
        for (var d = from; ; d = (d + 1) % 7)
        {
            days[d] = true;
            if (d == to)
            {
                return null;
            }
        }
    }

    private static int Day(string name) => Array.FindIndex(DayNames, d => string.Equals(d, name, StringComparison.OrdinalIgnoreCase));

    private static string? ParseTimes(string token, out (int From, int To) range)
    {
        range = default;
        var parts = token.Split('-');
        if (parts.Length != 2 || Minutes(parts[0], allowMidnightEnd: false) is not { } from || Minutes(parts[1], allowMidnightEnd: true) is not { } to)
        {
            return $"'{Shorten(token)}' is not a time range; write HH:mm-HH:mm on a 24-hour clock (20:00-06:00, 09:00-17:30, 00:00-24:00)";
        }
        if (from == to)
        {
            return $"'{Shorten(token)}' starts and ends at the same time; leave the time range out for the whole day";
        }
        range = (from, to);
        return null;
    }

    private static int? Minutes(string hhmm, bool allowMidnightEnd)
    {
        if (hhmm.Length != 5 || hhmm[2] != ':'
            || !int.TryParse(hhmm.AsSpan(0, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            || !int.TryParse(hhmm.AsSpan(3, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var m) || m > 59)
        {
            return null;
        }
        return h < 24 || (allowMidnightEnd && h == 24 && m == 0) ? (h * 60) + m : null;
    }

    private static TimeZoneInfo? FindZone(string id)
    {
        // Only IANA names (and UTC): a Windows name or an abbreviation (CET) means different things on different machines.
        if (!id.Contains('/', StringComparison.Ordinal) && !string.Equals(id, "UTC", StringComparison.Ordinal))
        {
            return null;
        }
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (Exception e) when (e is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            return null;
        }
    }

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";

    /// <summary>One text: on these days (Sunday = 0), these local minutes (null: the whole day), in this zone.</summary>
    private sealed record WindowRule(string Text, bool[] Days, (int From, int To)? Minutes, TimeZoneInfo Zone)
    {
        public void AddIntervals(DateTimeOffset from, DateTimeOffset to, List<AllowedInterval> into)
        {
            // A day's window may start the evening before "from" and run into it: begin a day early.
            var first = TimeZoneInfo.ConvertTime(from, Zone).Date.AddDays(-1);
            var last = TimeZoneInfo.ConvertTime(to, Zone).Date;
            for (var day = first; day <= last; day = day.AddDays(1))
            {
                if (!Days[(int)day.DayOfWeek])
                {
                    continue;
                }
                var (startMinute, endMinute) = Minutes ?? (0, 24 * 60);
                var start = day.AddMinutes(startMinute);
                var end = endMinute > startMinute ? day.AddMinutes(endMinute) : day.AddDays(1).AddMinutes(endMinute);
                var interval = new AllowedInterval(Instant(start), Instant(end));
                if (interval.End > from && interval.Start < to && interval.End > interval.Start)
                {
                    into.Add(interval);
                }
            }
        }

        /// <summary>A wall-clock time in the zone as an instant: in a skipped hour, after the gap; when it happens twice, the first time.</summary>
        private DateTimeOffset Instant(DateTime local)
        {
            local = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
            TimeSpan offset;
            if (Zone.IsInvalidTime(local))
            {
                // Read with the offset before the gap, the wall clock lands as far past the gap as it was inside it.
                offset = Zone.GetUtcOffset(local.AddDays(-1)) < Zone.GetUtcOffset(local.AddDays(1)) ? Zone.GetUtcOffset(local.AddDays(-1)) : Zone.GetUtcOffset(local.AddDays(1));
            }
            else if (Zone.IsAmbiguousTime(local))
            {
                offset = Zone.GetAmbiguousTimeOffsets(local).Max();
            }
            else
            {
                offset = Zone.GetUtcOffset(local);
            }
            return new DateTimeOffset(local, offset).ToUniversalTime();
        }
    }
}
