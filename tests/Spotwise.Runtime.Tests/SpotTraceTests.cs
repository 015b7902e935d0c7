using static Spotwise.Runtime.Tests.SimTestData;

namespace Spotwise.Runtime.Tests;

public class SpotTraceTests
{
    private static readonly TimeSpan TenMinutes = TimeSpan.FromMinutes(10);

    [Fact]
    public void Tick_i_covers_from_its_start_up_to_the_next_tick()
    {
        var trace = Trace(10, [1, 0, 2], [0.5, 0.6, 0.7]);

        Assert.Equal(1, trace.AvailableAt(T0));
        Assert.Equal(1, trace.AvailableAt(T0 + TenMinutes - TimeSpan.FromTicks(1)));
        Assert.Equal(0, trace.AvailableAt(T0 + TenMinutes));
        Assert.Equal(2, trace.AvailableAt(T0 + (2 * TenMinutes)));
        Assert.Equal(0.6, trace.SpotPriceAt(T0 + TimeSpan.FromMinutes(15)));
        Assert.Equal(T0 + (3 * TenMinutes), trace.EndTime);
    }

    [Fact]
    public void Outside_the_recording_the_edge_ticks_hold()
    {
        var trace = Trace(10, [1, 0, 2], [0.5, 0.6, 0.7]);

        Assert.Equal(1, trace.AvailableAt(T0.AddDays(-1)));
        Assert.Equal(2, trace.AvailableAt(T0.AddDays(1)));
        Assert.Equal(0.7, trace.SpotPriceAt(T0.AddDays(1)));
        Assert.Null(trace.NextChange(T0.AddDays(1)));
    }

    [Fact]
    public void A_trace_without_prices_has_no_spot_price()
    {
        var trace = Trace(10, [1, 0]);

        Assert.False(trace.HasPrices);
        Assert.Null(trace.SpotPriceAt(T0));
        Assert.Null(trace.SpotCostUsd(T0, T0.AddHours(1)));
    }

    [Fact]
    public void NextChange_skips_ticks_that_keep_the_same_availability()
    {
        var trace = Trace(10, [1, 1, 1, 0, 0, 3, 3]);

        Assert.Equal(T0 + (3 * TenMinutes), trace.NextChange(T0));
        Assert.Equal(T0 + (3 * TenMinutes), trace.NextChange(T0 + (2 * TenMinutes) + TimeSpan.FromMinutes(9)));
        Assert.Equal(T0 + (5 * TenMinutes), trace.NextChange(T0 + (3 * TenMinutes)));
        Assert.Null(trace.NextChange(T0 + (5 * TenMinutes)));
        Assert.Equal(T0 + (3 * TenMinutes), trace.NextChange(T0.AddDays(-1)));
    }

    [Fact]
    public void NextChange_agrees_with_stepping_every_tick()
    {
        var random = new Random(42);
        var available = Enumerable.Range(0, 500).Select(_ => random.Next(0, 10) < 8 ? 1 : random.Next(0, 3)).ToArray();
        var trace = Trace(3, available);

        for (var i = 0; i < available.Length; i++)
        {
            var at = trace.TickStart(i) + TimeSpan.FromSeconds(random.Next(0, 180));
            var expected = Enumerable.Range(i + 1, available.Length - i - 1).Cast<int?>().FirstOrDefault(j => available[j!.Value] != available[i]);
            Assert.Equal(expected is { } j ? trace.TickStart(j) : null, trace.NextChange(at));
        }
    }

    [Fact]
    public void SpotCost_integrates_the_price_over_the_ticks_it_spans()
    {
        var trace = Trace(30, [1, 1, 1], [1.0, 2.0, 4.0]);

        Assert.Equal(0.5 + 1.0 + 2.0, trace.SpotCostUsd(T0, T0.AddMinutes(90))!.Value, 9);
        Assert.Equal((0.25 * 1.0) + (0.25 * 2.0), trace.SpotCostUsd(T0.AddMinutes(15), T0.AddMinutes(45))!.Value, 9);
        Assert.Equal(1.0 + 4.0, trace.SpotCostUsd(T0.AddMinutes(-60), T0.AddMinutes(0))!.Value + trace.SpotCostUsd(T0.AddMinutes(90), T0.AddMinutes(150))!.Value, 9);
        Assert.Equal(0, trace.SpotCostUsd(T0.AddMinutes(45), T0.AddMinutes(15)));
    }

    [Fact]
    public void StartingAt_replays_the_same_ticks_from_another_moment()
    {
        var trace = Trace(10, [1, 0, 1]).StartingAt(T0.AddDays(3));

        Assert.Equal(0, trace.AvailableAt(T0.AddDays(3).AddMinutes(10)));
        Assert.Equal(T0.AddDays(3).AddMinutes(10), trace.NextChange(T0.AddDays(3)));
    }

    [Fact]
    public void Prices_must_align_with_the_ticks_one_for_one() =>
        Assert.Throws<ArgumentException>(() => Trace(10, [1, 1, 1], [1.0, 2.0]));
}
