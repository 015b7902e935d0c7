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
    [GeneratedRegex(@"^(?<sign>[+-])(?<n>\d+(\.\d+)?)(?<unit>[mhd])$")]
    private static partial Regex Relative();

    [GeneratedRegex(@"(Z|[+-]\d{2}:?\d{2})$", RegexOptions.IgnoreCase)]
    private static partial Regex HasOffset();

    public static bool TryParse(string text, DateTimeOffset now, out DateTimeOffset value, out string? error)
    {
        text = text.Trim();
        var rel = Relative().Match(text);
        if (rel.Success)
        {
            var n = double.Parse(rel.Groups["n"].Value, CultureInfo.InvariantCulture);
            var hours = rel.Groups["unit"].Value switch { "m" => n / 60, "h" => n, _ => n * 24 };
            value = now.AddHours(rel.Groups["sign"].Value == "-" ? -hours : hours);
            error = null;
            return true;
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
}
