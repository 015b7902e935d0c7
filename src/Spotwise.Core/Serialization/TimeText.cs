using System.Globalization;
using System.Text.RegularExpressions;

namespace Spotwise.Core.Serialization;

/// <summary>
/// Times in job files: ISO 8601 with an explicit offset ("2026-11-24T18:00:00Z", "...+01:00"), or relative to the
/// planning moment ("+2h", "+30m", "+1.5d", "-1h"). A time without an offset is refused: it would silently mean a
/// different moment on every machine.
/// </summary>
public static partial class TimeText
{
    // ASCII digits only: \d also matches other scripts' digits (+١h), which double.Parse then refuses.
    [GeneratedRegex(@"^(?<sign>[+-])(?<n>[0-9]{1,9}(\.[0-9]{1,9})?)(?<unit>[mhd])$")]
    private static partial Regex Relative();

    [GeneratedRegex(@"(Z|[+-][0-9]{2}:?[0-9]{2})$", RegexOptions.IgnoreCase)]
    private static partial Regex HasOffset();

    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset value, out string? error)
    {
        text = text.Trim();
        var rel = Relative().Match(text);
        if (rel.Success)
        {
            var n = double.Parse(rel.Groups["n"].Value, CultureInfo.InvariantCulture);
            var ticksPerUnit = rel.Groups["unit"].Value switch { "m" => TimeSpan.TicksPerMinute, "h" => TimeSpan.TicksPerHour, _ => TimeSpan.TicksPerDay };
            // Whole ticks of the unit asked for: "+30m" as hours (0.5) is exact, "+7m" (0.11666...) came back 100 ns early.
            var ticks = Math.Round(n * ticksPerUnit) * (rel.Groups["sign"].Value == "-" ? -1 : 1);
            if (!Fits(now, ticks))
            {
                value = default;
                error = $"'{text}' lies outside the calendar (years 1 to 9999) from {now:yyyy-MM-ddTHH:mm:ssZ}";
                return false;
            }
            value = now.AddTicks((long)ticks);
            error = null;
            return true;
        }
        if (text.Length > 64)
        {
            value = default;
            error = $"'{text[..40]}...' is {text.Length} characters long: not a time";
            return false;
        }
        if (!HasOffset().IsMatch(text))
        {
            value = default;
            error = $"'{text}' has no UTC offset: write it as 2026-11-24T18:00:00Z or with +hh:mm, or relative as +2h";
            return false;
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out value))
        {
            error = null;
            return true;
        }
        error = $"'{text}' is not an ISO 8601 time (2026-11-24T18:00:00Z) nor a relative one (+30m, +2h, +1d)";
        return false;
    }

    /// <summary>Whether <paramref name="now"/> plus that many ticks is still a DateTimeOffset (AddTicks throws beyond).</summary>
    private static bool Fits(DateTimeOffset now, double ticks)
    {
        return double.IsFinite(ticks)
            && ticks < DateTimeOffset.MaxValue.UtcTicks - now.UtcTicks
            && ticks > DateTimeOffset.MinValue.UtcTicks - now.UtcTicks;
    }
}
