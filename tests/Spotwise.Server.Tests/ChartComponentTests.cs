using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Server.Components;
using Spotwise.Server.Dashboard;

namespace Spotwise.Server.Tests;

/// <summary>The charts' value axis (round ticks told apart) and the dashboard's joined fields, on their own.</summary>
public sealed partial class ChartComponentTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private static async Task<string> RenderAsync(string unit, params double[] values)
    {
        await using var services = new ServiceCollection().BuildServiceProvider();
        await using var renderer = new HtmlRenderer(services, NullLoggerFactory.Instance);
        var points = values.Select((v, i) => (Now.AddMinutes(10 * i), v)).ToList();
        return await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var parameters = ParameterView.FromDictionary(new Dictionary<string, object?>
            {
                [nameof(LineChart.Name)] = "spend",
                [nameof(LineChart.Unit)] = unit,
                [nameof(LineChart.Series)] = (IReadOnlyList<Series>)[new Series("spent", "spend", points)],
            });
            return (await renderer.RenderComponentAsync<LineChart>(parameters)).ToHtmlString();
        });
    }

    private static List<string> YLabels(string html) => [.. YTick().Matches(html).Select(m => m.Groups[1].Value)];

    [GeneratedRegex("data-y-tick>([^<]*)<")]
    private static partial Regex YTick();

    [Fact]
    public async Task A_spend_of_a_few_tenths_of_a_cent_gets_distinct_dollar_ticks_not_0_00_twice()
    {
        var labels = YLabels(await RenderAsync("$", 0, 0.0011, 0.0027, 0.0042));

        Assert.Equal(["$0.000", "$0.002", "$0.004", "$0.006"], labels);
    }

    [Fact]
    public async Task Dollar_ticks_keep_cents_and_counts_need_no_decimals()
    {
        Assert.Equal(["$0.00", "$5.00", "$10.00", "$15.00"], YLabels(await RenderAsync("$", 0, 3.2, 12.9)));
        Assert.Equal(["0", "1", "2", "3", "4"], YLabels(await RenderAsync("", 4, 3, 1)));
        Assert.Equal(["$0.00", "$0.25", "$0.50", "$0.75", "$1.00"], YLabels(await RenderAsync("$", 0, 0)));
    }

    [Theory]
    [InlineData(0.0042, 0.002, 0.006, 3)]
    [InlineData(12.9, 5, 15, 0)]
    [InlineData(0.9, 0.25, 1, 2)]
    [InlineData(1_234, 500, 1_500, 0)]
    [InlineData(0.07, 0.02, 0.08, 2)]
    public void The_value_scale_ends_on_a_round_tick_at_or_above_the_largest_value(double max, double step, double top, int decimals)
    {
        var scale = ValueScale.UpTo([0, max], 10, 140);

        Assert.Equal(step, scale.Step, 9);
        Assert.Equal(top, scale.Max, 9);
        Assert.Equal(decimals, scale.Decimals);
        Assert.InRange(scale.Ticks().Count, 2, 5);
        Assert.Equal(scale.Ticks().Count, scale.Ticks().Select(t => Math.Round(t, decimals)).Distinct().Count());
    }

    [Fact]
    public void Joined_fields_leave_out_the_empty_ones_and_their_separators()
    {
        Assert.Equal("a · c", Show.Join("a", "", "c", null, " "));
        Assert.Equal("", Show.Join(null, ""));
        Assert.Equal("deadline 2026-03-03 08:00", Show.Join(Show.Labelled("earliest start", Show.Time(null)), Show.Labelled("deadline", Show.Time(Now.AddDays(1)))));
    }
}
