namespace Spotwise.Core.Tests;

public class InterruptionBandsTests
{
    [Theory]
    [InlineData(0, 0.025)]
    [InlineData(1, 0.075)]
    [InlineData(2, 0.125)]
    [InlineData(3, 0.175)]
    [InlineData(4, 0.25)]
    public void Each_band_means_its_midpoint_as_monthly_interruption_fraction(int band, double monthly) =>
        Assert.Equal(monthly, InterruptionBands.MonthlyFraction(band), 12);

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void The_hourly_rate_gives_the_band_midpoint_as_the_chance_of_an_interruption_within_a_month(int band)
    {
        var rate = InterruptionBands.HourlyRate(band);

        var pWithinMonth = 1 - Math.Exp(-rate * InterruptionBands.HoursPerMonth);

        Assert.Equal(InterruptionBands.MonthlyFraction(band), pWithinMonth, 12);
    }

    [Fact]
    public void Higher_bands_interrupt_more_often()
    {
        var rates = Enumerable.Range(0, 5).Select(InterruptionBands.HourlyRate).ToList();

        Assert.Equal(rates.Order(), rates);
        Assert.Equal(5, rates.Distinct().Count());
        Assert.True(rates[0] > 0);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(5)]
    public void A_band_outside_0_to_4_is_refused(int band) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => InterruptionBands.HourlyRate(band));
}
