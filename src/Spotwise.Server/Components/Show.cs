using System.Globalization;

namespace Spotwise.Server.Components;

/// <summary>How the dashboard writes times, money and hours: UTC, invariant culture, one format everywhere.</summary>
public static class Show
{
    public static string Time(DateTimeOffset? at) => at is { } t ? t.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "";

    public static string Clock(DateTimeOffset at) => at.UtcDateTime.ToString("HH:mm", CultureInfo.InvariantCulture);

    public static string Usd(double? usd) => usd is { } v ? "$" + v.ToString(v >= 100 ? "N0" : "N2", CultureInfo.InvariantCulture) : "";

    public static string Hours(double? hours) => hours is { } h ? h.ToString("0.0", CultureInfo.InvariantCulture) + " h" : "";

    public static string Number(double value, string format = "0.##") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>
    /// The parts that have something to show, joined by <c> · </c>: an empty field leaves no stray separator, and a row
    /// of empty fields is empty.
    /// </summary>
    public static string Join(params string?[] parts) => string.Join(" · ", parts.Where(p => !string.IsNullOrWhiteSpace(p)));

    /// <summary>"<paramref name="label"/> <paramref name="value"/>", or nothing when the value is empty (for <see cref="Join"/>).</summary>
    public static string? Labelled(string label, string? value) => string.IsNullOrWhiteSpace(value) ? null : label + " " + value;

    /// <summary>SVG coordinates: invariant, two decimals.</summary>
    public static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
