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

    /// <summary>SVG coordinates: invariant, two decimals.</summary>
    public static string N(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
