using Microsoft.Extensions.Time.Testing;

namespace Spotwise.Runtime.Tests;

public class ScaledTimeProviderTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Virtual_time_starts_at_the_real_time_and_runs_speed_times_faster()
    {
        var real = new FakeTimeProvider(Start);
        var demo = new ScaledTimeProvider(real, speed: 600);

        Assert.Equal(Start, demo.GetUtcNow());
        real.Advance(TimeSpan.FromSeconds(6));

        Assert.Equal(Start.AddHours(1), demo.GetUtcNow());
    }

    [Fact]
    public void A_periodic_timer_fires_at_its_virtual_period()
    {
        var real = new FakeTimeProvider(Start);
        var demo = new ScaledTimeProvider(real, speed: 60);
        var fired = 0;
        using var timer = demo.CreateTimer(_ => fired++, null, TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1));

        real.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, fired);
        real.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(3, fired);
    }

    [Fact]
    public void A_speed_of_zero_or_less_is_refused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new ScaledTimeProvider(TimeProvider.System, 0));
}
