using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Server.Components;
using Spotwise.Server.Dashboard;

namespace Spotwise.Server.Tests;

/// <summary>The timeline component rendered to HTML on its own: what it draws, where, and that names stay text.</summary>
public sealed class TimelineComponentTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private static JobView Job(string id, string market, string state, DateTimeOffset plannedStart, double hours, DateTimeOffset? deadline = null,
        DateTimeOffset? fallbackAt = null, IReadOnlyList<EventView>? events = null, DateTimeOffset? startedAt = null) =>
        new(id, "team-a", 5, null, deadline, hours, "cpu_small", state, market, "t3a.medium", "us-east-1", Now.AddHours(-1),
            startedAt, null, 0, plannedStart, fallbackAt, null)
        {
            PlannedEnd = plannedStart.AddHours(hours),
            Events = events,
        };

    private static async Task<string> RenderAsync(IReadOnlyList<JobView> jobs, TimelineScale window)
    {
        await using var services = new ServiceCollection().BuildServiceProvider();
        await using var renderer = new HtmlRenderer(services, NullLoggerFactory.Instance);
        return await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var parameters = ParameterView.FromDictionary(new Dictionary<string, object?>
            {
                [nameof(Timeline.Jobs)] = jobs,
                [nameof(Timeline.Window)] = window,
                [nameof(Timeline.Now)] = Now,
            });
            return (await renderer.RenderComponentAsync<Timeline>(parameters)).ToHtmlString();
        });
    }

    private static TimelineScale Window => new(Now.AddHours(-2), Now.AddHours(18), 0, 1);

    /// <summary>Where the component puts a time: its own scale over the drawing area right of the labels.</summary>
    private static string X(DateTimeOffset at) => (Window with { Left = Timeline.LabelWidth, Width = Timeline.Width - Timeline.LabelWidth - 10 }).X(at)
        .ToString("0.##", CultureInfo.InvariantCulture);

    [Fact]
    public async Task Each_placed_job_is_one_bar_with_its_id_market_and_the_scales_position_and_length()
    {
        var html = await RenderAsync([
            Job("a", "spot", "planned", Now.AddHours(2), 4, deadline: Now.AddHours(12), fallbackAt: Now.AddHours(7)),
            Job("b", "on-demand", "planned", Now.AddHours(1), 1, deadline: Now.AddHours(3)),
        ], Window);

        Assert.Contains($"data-job-id=\"a\" data-market=\"spot\" data-state=\"planned\" x=\"{X(Now.AddHours(2))}\"", html, StringComparison.Ordinal);
        Assert.Contains("fill=\"#2b6cb0\"", html, StringComparison.Ordinal);
        Assert.Contains($"data-job-id=\"b\" data-market=\"on-demand\" data-state=\"planned\" x=\"{X(Now.AddHours(1))}\"", html, StringComparison.Ordinal);
        Assert.Contains("fill=\"#dd6b20\"", html, StringComparison.Ordinal);
        Assert.Contains($"class=\"deadline\" data-job-id=\"a\" x1=\"{X(Now.AddHours(12))}\"", html, StringComparison.Ordinal);
        Assert.Contains($"class=\"fallback-at\" data-job-id=\"a\" d=\"M {X(Now.AddHours(7))} ", html, StringComparison.Ordinal);
        Assert.DoesNotContain("class=\"fallback-at\" data-job-id=\"b\"", html, StringComparison.Ordinal);
        Assert.Contains($"class=\"now\" x1=\"{X(Now)}\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Interruptions_and_moves_to_on_demand_are_drawn_where_they_happened()
    {
        var interrupted = Now.AddMinutes(-90);
        var movedAt = Now.AddMinutes(-30);
        EventView[] events =
        [
            new(interrupted, "running", "interrupted", "spot capacity reclaimed"),
            new(movedAt, "running", "launching", "safety net: moved to on-demand p3.2xlarge (i-2) to meet the deadline"),
        ];

        var html = await RenderAsync([Job("c", "on-demand", "running", movedAt, 3, startedAt: Now.AddHours(-2), events: events)], Window);

        Assert.Contains($"class=\"interruption\" data-job-id=\"c\" cx=\"{X(interrupted)}\"", html, StringComparison.Ordinal);
        Assert.Contains("class=\"fallback\" data-job-id=\"c\"", html, StringComparison.Ordinal);
        Assert.Contains($"x=\"{X(Now.AddHours(-2))}\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_id_with_markup_is_escaped_in_labels_attributes_and_titles()
    {
        var html = await RenderAsync([Job("<script>alert(1)</script>", "spot", "planned", Now, 1)], Window);

        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("data-job-id=\"&lt;script&gt;alert(1)&lt;/script&gt;\"", html, StringComparison.Ordinal);
        Assert.Contains("<title>&lt;script&gt;alert(1)&lt;/script&gt;:", html, StringComparison.Ordinal);
    }
}
