using System.Net;
using System.Threading.Channels;
using Spotwise.Core;
using Spotwise.Runtime.Alerting;

namespace Spotwise.Server.Alerting;

/// <summary>
/// One webhook's queue and sender. Alerts wait in a bounded queue (full: the new one is dropped and counted, so no
/// raiser ever waits), and are sent one at a time, each signed, tried again after a 5xx, 408, 429 or no answer with the
/// shared <see cref="RetryPolicy"/>'s capped exponential backoff and jitter on the <see cref="TimeProvider"/>. An alert
/// that fails every try is logged and counted, and the next one is sent. Each webhook has its own, so a slow or broken
/// receiver delays no other.
/// </summary>
internal sealed partial class WebhookDelivery(
    WebhookOptions hook, string secret, HttpClient http, AlertsOptions options, TimeProvider time, AlertCounters counters, ILogger logger)
{
    private readonly Channel<Alert> _queue = Channel.CreateBounded<Alert>(new BoundedChannelOptions(options.QueueCapacity)
    {
        SingleReader = true,
        FullMode = BoundedChannelFullMode.Wait,
    });

    private readonly RetryPolicy _retry = options.Retry;

    public Uri Url { get; } = new(hook.Url!);

    /// <summary>Queues the alert; false (and counted as dropped) when the queue is full. Never waits.</summary>
    public bool TryEnqueue(Alert alert)
    {
        if (_queue.Writer.TryWrite(alert))
        {
            return true;
        }
        counters.Delivery(AlertCounters.Dropped);
        LogDropped(Url.Host, alert.Kind, options.QueueCapacity);
        return false;
    }

    public async Task RunAsync(CancellationToken stoppingToken)
    {
        await foreach (var alert in _queue.Reader.ReadAllAsync(stoppingToken))
        {
            await DeliverAsync(alert, stoppingToken);
        }
    }

    private async Task DeliverAsync(Alert alert, CancellationToken ct)
    {
        var body = WebhookBodies.For(hook.Format, alert);
        var delivery = Guid.NewGuid().ToString("N");
        var last = "";
        for (var attempt = 1; attempt <= _retry.MaxAttempts; attempt++)
        {
            var (ok, retryable, why) = await SendAsync(body, delivery, ct);
            if (ok)
            {
                counters.Delivery(AlertCounters.Delivered);
                return;
            }
            last = why;
            if (!retryable)
            {
                break;
            }
            if (attempt < _retry.MaxAttempts)
            {
                var wait = _retry.DelayAfter(attempt, Random.Shared.NextDouble());
                LogRetrying(Url.Host, alert.Kind, attempt, why, wait.TotalSeconds);
                await Task.Delay(wait, time, ct);
            }
        }
        counters.Delivery(AlertCounters.Failed);
        LogFailed(Url.Host, alert.Kind, last);
    }

    /// <summary>One try: success, or whether trying again may help, and why not.</summary>
    private async Task<(bool Ok, bool Retryable, string Why)> SendAsync(byte[] body, string delivery, CancellationToken ct)
    {
        var timestamp = time.GetUtcNow().ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, Url) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.Add(WebhookSignature.TimestampHeader, timestamp.ToString(System.Globalization.CultureInfo.InvariantCulture));
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.Sign(secret, timestamp, body));
        request.Headers.Add(WebhookSignature.DeliveryHeader, delivery);
        try
        {
            using var response = await http.SendAsync(request, ct);
            var status = (int)response.StatusCode;
            return response.IsSuccessStatusCode ? (true, false, "")
                : (false, status >= 500 || response.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests, $"HTTP {status}");
        }
        catch (HttpRequestException e)
        {
            return (false, true, e.Message);
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            return (false, true, $"no answer within {options.RequestTimeout.TotalSeconds:0.#} s");
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Kind} to webhook {Host} failed (try {Attempt}: {Why}); trying again in {Seconds:0.#} s")]
    private partial void LogRetrying(string host, string kind, int attempt, string why, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Alert {Kind} to webhook {Host} failed for good: {Why}; it is counted and the next alert is sent")]
    private partial void LogFailed(string host, string kind, string why);

    [LoggerMessage(Level = LogLevel.Error, Message = "Alert {Kind} to webhook {Host} dropped: {Capacity} alerts already wait for it")]
    private partial void LogDropped(string host, string kind, int capacity);
}
