namespace Spotwise.Core.Tests;

public class CostModelTests
{
    [Theory]
    [InlineData(1e-20, 1)]
    [InlineData(1e-15, 1)]
    [InlineData(1e-13, 0.05)]
    [InlineData(1e-12, 100)]
    public void A_vanishingly_small_rate_prices_spot_as_almost_never_interrupted(double rate, double hours)
    {
        // Regression: 1 - e^(-λd) rounded to 0 for λd below 1e-16 and the mean interruption time divided by it,
        // so the cost was NaN (which no money comparison of the validator catches); a little above, cancellation
        // put the cost off by up to 0.1%.
        var job = TestData.Job("a", hours);
        var x = rate * hours;
        var expected = 1.0 * hours * (1 - x / 2) + x * 5.0 * (hours + job.RestartOverheadHours);

        var cost = CostModel.ExpectedSpot(job, 1.0, rate, 5.0).CostUsd;

        Assert.Equal(expected, cost, 1e-9 * expected);
        Assert.Equal(expected, CostModel.ExpectedSpot(job with { Checkpointable = true }, 1.0, rate, 5.0).CostUsd, 1e-9 * expected);
    }
}
