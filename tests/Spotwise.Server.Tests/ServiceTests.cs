using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spotwise.Runtime;

namespace Spotwise.Server.Tests;

/// <summary>The service around the API: options, the scheduler loop, limits, metrics, the OpenAPI document.</summary>
public sealed class ServiceTests
{
    private const string Job1 = """{"jobId":"job-1","deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_small"}}""";

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task A_submit_wakes_the_scheduler_loop_without_waiting_for_the_interval()
    {
        await using var factory = new SpotwiseServerFactory();
        using var client = factory.ClientFor("k1");
        var store = factory.Services.GetRequiredService<IJobStore>();

        await client.PostAsync("/api/jobs", Json(Job1));

        // The fake clock never moves, so only the submit's signal can have planned the job; poll real time briefly.
        await WaitForAsync(async () => (await store.GetAsync(new JobKey("team-a", "job-1"), default))!.State == JobState.Planned);
    }

    [Fact]
    public async Task Submissions_after_a_cycle_wait_for_the_minimum_gap_and_fold_into_one_cycle()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:MinCycleGap"] = "00:00:01.5" });
        using var client = factory.ClientFor("k1");
        var store = factory.Services.GetRequiredService<IJobStore>();
        var counters = factory.Services.GetRequiredService<RuntimeCounters>();
        await client.PostAsync("/api/jobs", Json(Job1));
        await WaitForAsync(async () => (await store.GetAsync(new JobKey("team-a", "job-1"), default))!.State == JobState.Planned);
        var cyclesBefore = counters.Cycles;
        var clock = System.Diagnostics.Stopwatch.StartNew();

        for (var i = 2; i <= 6; i++)
        {
            await client.PostAsync("/api/jobs", Json(Job1.Replace("job-1", $"job-{i}", StringComparison.Ordinal)));
        }
        await WaitForAsync(async () => (await store.GetAsync(new JobKey("team-a", "job-6"), default))!.State == JobState.Planned);

        // Five signals, one cycle, and not before the gap (counted from the first cycle's start, which is earlier).
        Assert.Equal(cyclesBefore + 1, counters.Cycles);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"planned after {clock.Elapsed}: the gap was not kept");
        Assert.Equal(JobState.Planned, (await store.GetAsync(new JobKey("team-a", "job-2"), default))!.State);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (10 * TimeProvider.System.TimestampFrequency);
        while (!await condition() && TimeProvider.System.GetTimestamp() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
        Assert.True(await condition(), "the condition did not hold within 10 s");
    }

    [Fact]
    public async Task An_unknown_planner_fails_the_start_naming_the_setting()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:Planner"] = "magic" });

        var e = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("Spotwise:Planner is 'magic'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_over_its_rate_limit_is_answered_429_and_other_keys_are_not()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:RateLimitPermits"] = "3", ["Spotwise:RateLimitWindow"] = "01:00:00" });
        using var teamA = factory.ClientFor("k1");
        using var teamB = factory.ClientFor("k2");

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await teamA.GetAsync("/api/jobs")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await teamA.GetAsync("/api/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await teamB.GetAsync("/api/jobs")).StatusCode);
    }

    [Fact]
    public async Task Metrics_count_jobs_per_state_in_prometheus_text()
    {
        await using var factory = new SpotwiseServerFactory();
        using var client = factory.ClientFor("k1");
        await client.PostAsync("/api/jobs", Json(Job1));
        await client.DeleteAsync("/api/jobs/job-1");
        using var scraper = factory.CreateClient();

        var text = await scraper.GetStringAsync("/metrics");

        Assert.Contains("spotwise_jobs{state=\"cancelled\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("spotwise_jobs{state=\"running\"} 0", text, StringComparison.Ordinal);
        // A series without labels reads as before the exporter: no empty braces (docs/server.md#metrics).
        Assert.Contains("\nspotwise_spend_usd_total 0", text, StringComparison.Ordinal);
        Assert.Contains("\nspotwise_interruptions_total 0", text, StringComparison.Ordinal);
        Assert.DoesNotContain("{}", text, StringComparison.Ordinal);
        Assert.Contains("# TYPE spotwise_cycle_seconds gauge", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_openapi_document_lists_the_jobs_and_plan_endpoints()
    {
        await using var factory = new SpotwiseServerFactory();
        using var client = factory.CreateClient();

        var document = await client.GetStringAsync("/openapi/v1.json");

        Assert.Contains("\"/api/jobs\"", document, StringComparison.Ordinal);
        Assert.Contains("\"/api/jobs/{id}\"", document, StringComparison.Ordinal);
        Assert.Contains("\"/api/plan/preview\"", document, StringComparison.Ordinal);
    }
}
