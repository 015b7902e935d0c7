using System.Collections.Immutable;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Runtime;
using Spotwise.Runtime.Alerting;
using Spotwise.Server.Alerting;

namespace Spotwise.Server.Tests.Alerting;

/// <summary>
/// Alerts as a webhook receives them: a real receiver on loopback checks the signature, the two bodies, retries after a
/// 500 on the fake clock, and the service's own alerts (a deadline at risk, a budget threshold once).
/// </summary>
public sealed class WebhookAlertsTests
{
    private const string Secret = "whsec-test-0123456789";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Now);
    private readonly AlertCounters _counters = new();

    private WebhookAlerts Webhooks(params WebhookOptions[] hooks)
    {
        var options = new AlertsOptions { Webhooks = [.. hooks], MaxAttempts = 4, RetryBaseDelay = TimeSpan.FromSeconds(2), RetryMaxDelay = TimeSpan.FromSeconds(8) };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["TEST_HOOK_SECRET"] = Secret }).Build();
        return new WebhookAlerts(Options.Create(options), configuration, _time, _counters, NullLogger<WebhookAlerts>.Instance);
    }

    private static WebhookOptions Hook(WebhookReceiver receiver, string format = WebhookOptions.Json) =>
        new() { Url = receiver.Url, Format = format, SecretEnv = "TEST_HOOK_SECRET" };

    private static Alert Sample() => new(AlertKinds.DeadlineAtRisk, AlertSeverities.Warning, "ml", "train-7",
        "job 'train-7' of team 'ml' is at risk: <planned> & late", Now)
    {
        Figures = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, object>
        {
            ["deadline"] = Now.AddHours(3),
            ["slackHours"] = 0.125,
        }),
    };

    /// <summary>The signature as a receiver computes it, written out here rather than through the product's helper.</summary>
    private static string ExpectedSignature(string timestamp, byte[] body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(timestamp + ".").Concat(body).ToArray()));

    [Fact]
    public async Task A_json_webhook_gets_the_alert_with_its_figures_signed_over_the_timestamp_and_the_body()
    {
        await using var receiver = new WebhookReceiver();
        using var webhooks = Webhooks(Hook(receiver));
        await webhooks.StartAsync(CancellationToken.None);

        webhooks.Publish(Sample());
        var got = await receiver.NextAsync(Wait);

        Assert.NotNull(got);
        Assert.Equal(Now.ToUnixTimeSeconds().ToString(System.Globalization.CultureInfo.InvariantCulture), got.Timestamp);
        Assert.Equal(ExpectedSignature(got.Timestamp!, got.Body), got.Signature);
        Assert.True(WebhookSignature.Verify(Secret, got.Timestamp, got.Body, got.Signature));
        Assert.False(WebhookSignature.Verify("another-secret", got.Timestamp, got.Body, got.Signature));
        Assert.StartsWith("application/json", got.ContentType, StringComparison.Ordinal);
        using var body = JsonDocument.Parse(got.Body);
        var root = body.RootElement;
        Assert.Equal(("deadlineAtRisk", "warning", "ml", "train-7"),
            (root.GetProperty("kind").GetString(), root.GetProperty("severity").GetString(), root.GetProperty("team").GetString(), root.GetProperty("jobId").GetString()));
        Assert.Equal("job 'train-7' of team 'ml' is at risk: <planned> & late", root.GetProperty("message").GetString());
        Assert.Equal(Now, root.GetProperty("at").GetDateTimeOffset());
        Assert.Equal(0.125, root.GetProperty("slackHours").GetDouble());
        Assert.Equal(Now.AddHours(3), root.GetProperty("deadline").GetDateTimeOffset());
        await UntilAsync(() => _counters.Deliveries(AlertCounters.Delivered) == 1);
        await webhooks.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_slack_webhook_gets_text_for_notifications_and_escaped_blocks_for_the_channel()
    {
        await using var receiver = new WebhookReceiver();
        using var webhooks = Webhooks(Hook(receiver, WebhookOptions.Slack));
        await webhooks.StartAsync(CancellationToken.None);

        webhooks.Publish(Sample());
        var got = await receiver.NextAsync(Wait);

        Assert.NotNull(got);
        Assert.True(WebhookSignature.Verify(Secret, got.Timestamp, got.Body, got.Signature));
        using var body = JsonDocument.Parse(got.Body);
        var root = body.RootElement;
        Assert.StartsWith("[warning] Deadline at risk: job 'train-7'", root.GetProperty("text").GetString(), StringComparison.Ordinal);
        var section = root.GetProperty("blocks")[0];
        Assert.Equal("section", section.GetProperty("type").GetString());
        var text = section.GetProperty("text");
        Assert.Equal("mrkdwn", text.GetProperty("type").GetString());
        Assert.Contains("team `ml` · job `train-7`", text.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Contains("&lt;planned&gt; &amp; late", text.GetProperty("text").GetString(), StringComparison.Ordinal);
        Assert.Contains("slackHours: 0.125", root.GetProperty("blocks")[1].GetProperty("elements")[0].GetProperty("text").GetString(), StringComparison.Ordinal);
        await webhooks.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task A_500_is_tried_again_after_the_backoff_on_the_fake_clock_under_the_same_delivery_id()
    {
        await using var receiver = new WebhookReceiver(HttpStatusCode.InternalServerError);
        using var webhooks = Webhooks(Hook(receiver));
        await webhooks.StartAsync(CancellationToken.None);

        webhooks.Publish(Sample());
        var first = await receiver.NextAsync(Wait);
        Assert.NotNull(first);
        // The retry waits on the fake clock: nothing more arrives until it moves. The wait is at least half the 2 s base.
        var early = await receiver.NextAsync(TimeSpan.FromMilliseconds(200));
        Assert.Null(early);
        ReceivedWebhook? second = null;
        for (var step = 0; step < 40 && second is null; step++)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            second = await receiver.NextAsync(TimeSpan.FromMilliseconds(250));
        }

        Assert.NotNull(second);
        Assert.Equal(first.Delivery, second.Delivery);
        Assert.True(long.Parse(second.Timestamp!, System.Globalization.CultureInfo.InvariantCulture) > long.Parse(first.Timestamp!, System.Globalization.CultureInfo.InvariantCulture));
        Assert.True(WebhookSignature.Verify(Secret, second.Timestamp, second.Body, second.Signature));
        Assert.Equal(first.Text, second.Text);
        await UntilAsync(() => _counters.Deliveries(AlertCounters.Delivered) == 1);
        await webhooks.StopAsync(CancellationToken.None);
        Assert.Equal(0, _counters.Deliveries(AlertCounters.Failed));
    }

    [Fact]
    public async Task A_refused_alert_is_counted_failed_and_the_next_alert_is_still_sent()
    {
        await using var receiver = new WebhookReceiver(HttpStatusCode.BadRequest);
        using var webhooks = Webhooks(Hook(receiver));
        await webhooks.StartAsync(CancellationToken.None);

        webhooks.Publish(Sample());
        webhooks.Publish(Sample() with { JobId = "train-8" });
        var first = await receiver.NextAsync(Wait);
        var second = await receiver.NextAsync(Wait);

        Assert.Contains("train-7", first!.Text, StringComparison.Ordinal);
        Assert.Contains("train-8", second!.Text, StringComparison.Ordinal);
        await UntilAsync(() => _counters.Deliveries(AlertCounters.Delivered) == 1);
        await webhooks.StopAsync(CancellationToken.None);
        Assert.Equal(1, _counters.Deliveries(AlertCounters.Failed));
    }

    [Fact]
    public async Task The_service_alerts_its_webhook_once_for_a_deadline_at_risk_and_once_per_budget_threshold()
    {
        await using var receiver = new WebhookReceiver();
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string>
        {
            ["Spotwise:Alerts:Webhooks:0:Url"] = receiver.Url,
            ["Spotwise:Alerts:Webhooks:0:Format"] = "json",
            ["Spotwise:Alerts:Webhooks:0:Secret"] = Secret,
        });
        using var client = factory.ClientFor("k1");
        // Not due for an hour, so every cycle plans it again; 2 h of work and the 90 s boot leave 10.5 minutes before the deadline.
        var tight = """{"jobId":"tight","estimatedDurationHours":2,"earliestStart":"2026-03-02T09:00:00Z","deadline":"2026-03-02T11:12:00Z","resourceRequirements":{"type":"cpu_small"}}""";
        using var posted = await client.PostAsync("/api/jobs", new StringContent(tight, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
        var scheduler = factory.Services.GetRequiredService<Scheduler>();

        await scheduler.RunCycleAsync(default);
        await scheduler.RunCycleAsync(default);
        var alerts = factory.Services.GetRequiredService<Alerts>();
        alerts.BudgetThreshold("team-a", "week 2026-03-02", spentUsd: 82, limitUsd: 100);
        alerts.BudgetThreshold("team-a", "week 2026-03-02", spentUsd: 85, limitUsd: 100);
        var atRisk = await receiver.NextAsync(Wait);
        var budget = await receiver.NextAsync(Wait);

        Assert.NotNull(atRisk);
        Assert.True(WebhookSignature.Verify(Secret, atRisk.Timestamp, atRisk.Body, atRisk.Signature));
        using var risk = JsonDocument.Parse(atRisk.Body);
        Assert.Equal(("deadlineAtRisk", "team-a", "tight"),
            (risk.RootElement.GetProperty("kind").GetString(), risk.RootElement.GetProperty("team").GetString(), risk.RootElement.GetProperty("jobId").GetString()));
        Assert.Contains("budgetThreshold", budget!.Text, StringComparison.Ordinal);
        var counters = factory.Services.GetRequiredService<AlertCounters>();
        Assert.Equal((1, 1), (counters.Raised(AlertKinds.DeadlineAtRisk), counters.Raised(AlertKinds.BudgetThreshold)));
        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("spotwise_alerts_total{kind=\"deadlineAtRisk\"} 1", metrics, StringComparison.Ordinal);
    }

    /// <summary>Waits (at most 10 s) for the sender to count what the receiver already answered: the count follows the answer.</summary>
    private static async Task UntilAsync(Func<bool> condition)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (10 * TimeProvider.System.TimestampFrequency);
        while (!condition() && TimeProvider.System.GetTimestamp() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
        Assert.True(condition(), "the condition did not hold within 10 s");
    }

    [Fact]
    public async Task A_webhook_without_a_secret_fails_the_start_naming_the_setting()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string>
        {
            ["Spotwise:Alerts:Webhooks:0:Url"] = "http://127.0.0.1:9/hook",
            ["Spotwise:Alerts:Webhooks:0:SecretEnv"] = "SPOTWISE_TEST_UNSET_SECRET_VARIABLE",
        });

        var e = Assert.Throws<OptionsValidationException>(() => factory.CreateClient());

        Assert.Contains("Spotwise:Alerts:Webhooks:0:SecretEnv names 'SPOTWISE_TEST_UNSET_SECRET_VARIABLE'", e.Message, StringComparison.Ordinal);
    }
}
