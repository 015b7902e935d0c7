namespace Spotwise.Core;

/// <summary>
/// The AWS Spot Instance Advisor publishes, per instance type, a band of how many instances were interrupted
/// in the past month: 0 = &lt;5%, 1 = 5-10%, 2 = 10-15%, 3 = 15-20%, 4 = &gt;20%. We take the band's midpoint
/// (25% for the open top band) as the monthly probability of interruption and turn it into a constant hourly
/// rate, so that P(interrupted within d hours) = 1 - exp(-rate * d).
/// </summary>
public static class InterruptionBands
{
    public const double HoursPerMonth = 730.0;

    private static readonly double[] MonthlyFractionMidpoints = [0.025, 0.075, 0.125, 0.175, 0.25];

    public static double MonthlyFraction(int band) =>
        band is >= 0 and <= 4
            ? MonthlyFractionMidpoints[band]
            : throw new ArgumentOutOfRangeException(nameof(band), band, "interruption band must be 0..4");

    public static double HourlyRate(int band) => -Math.Log(1.0 - MonthlyFraction(band)) / HoursPerMonth;
}
