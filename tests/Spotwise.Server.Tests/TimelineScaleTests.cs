using CsCheck;
using Spotwise.Server.Dashboard;

namespace Spotwise.Server.Tests;

public sealed class TimelineScaleTests
{
    private static readonly DateTimeOffset T0 = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);
    private static readonly TimelineScale TenHours = new(T0, T0.AddHours(10), Left: 100, Width: 500);

    [Fact]
    public void The_window_ends_map_to_the_left_and_right_edges_and_time_is_linear_between()
    {
        Assert.Equal(100, TenHours.X(T0), 9);
        Assert.Equal(600, TenHours.X(T0.AddHours(10)), 9);
        Assert.Equal(350, TenHours.X(T0.AddHours(5)), 9);
        Assert.Equal(125, TenHours.X(T0.AddMinutes(30)), 9);
    }

    [Fact]
    public void Times_outside_the_window_are_clamped_to_its_edges()
    {
        Assert.Equal(100, TenHours.X(T0.AddHours(-3)), 9);
        Assert.Equal(600, TenHours.X(T0.AddDays(2)), 9);
        Assert.False(TenHours.Shows(T0.AddHours(-1)));
        Assert.True(TenHours.Shows(T0.AddHours(1)));
    }

    [Fact]
    public void A_bar_starts_at_its_start_and_is_as_long_as_its_duration()
    {
        var (x, width) = TenHours.Bar(T0.AddHours(2), T0.AddHours(4));

        Assert.Equal(200, x, 9);
        Assert.Equal(100, width, 9);
    }

    [Fact]
    public void A_bar_that_began_before_the_window_starts_at_the_left_edge_and_one_past_it_stops_at_the_right()
    {
        var (early, earlyWidth) = TenHours.Bar(T0.AddHours(-2), T0.AddHours(1));
        var (late, lateWidth) = TenHours.Bar(T0.AddHours(8), T0.AddHours(30));

        Assert.Equal((100, 50), (early, earlyWidth));
        Assert.Equal(500, late, 9);
        Assert.Equal(100, lateWidth, 9);
    }

    [Fact]
    public void A_very_short_job_still_gets_a_visible_bar_inside_the_window()
    {
        var (x, width) = TenHours.Bar(T0.AddHours(10), T0.AddHours(10).AddSeconds(1));

        Assert.Equal(TimelineScale.MinBarWidth, width);
        Assert.Equal(600 - TimelineScale.MinBarWidth, x, 9);
    }

    [Fact]
    public void Ticks_fall_on_round_hours_inside_the_window()
    {
        var scale = new TimelineScale(T0.AddMinutes(-20), T0.AddHours(5).AddMinutes(10), 0, 1);

        var ticks = scale.Ticks(10);

        Assert.Equal([T0, T0.AddHours(1), T0.AddHours(2), T0.AddHours(3), T0.AddHours(4), T0.AddHours(5)], ticks);
    }

    [Fact]
    public void The_window_around_now_shows_a_little_past_and_everything_up_to_the_last_time()
    {
        var scale = TimelineScale.Around(T0, [T0.AddHours(3), T0.AddHours(20)], 0, 1000);

        Assert.True(scale.From < T0);
        Assert.True(scale.To >= T0.AddHours(20));
        Assert.True(TimelineScale.Around(T0, [], 0, 1000).To >= T0.AddHours(2));
        Assert.True(TimelineScale.Around(T0, [T0.AddYears(1)], 0, 1000).To <= T0.AddDays(8));
    }

    [Fact]
    public void Every_bar_lies_inside_the_window_and_later_times_are_never_left_of_earlier_ones()
    {
        Gen.Select(Gen.Int[-2_000, 2_000], Gen.Int[0, 3_000]).Sample((startMinutes, lengthMinutes) =>
        {
            var start = T0.AddMinutes(startMinutes);
            var (x, width) = TenHours.Bar(start, start.AddMinutes(lengthMinutes));
            return x >= TenHours.Left - 1e-9 && x + width <= TenHours.Right + 1e-9 && width >= TimelineScale.MinBarWidth
                && TenHours.X(start) <= TenHours.X(start.AddMinutes(lengthMinutes));
        });
    }
}
