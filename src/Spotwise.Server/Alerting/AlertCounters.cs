using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Spotwise.Runtime;
using Spotwise.Runtime.Alerting;

namespace Spotwise.Server.Alerting;

/// <summary>
/// Alerts raised, by kind (<c>spotwise_alerts_total{kind}</c>), and webhook deliveries by outcome
/// (<c>spotwise_alert_deliveries_total{outcome}</c>: <c>delivered</c>, <c>failed</c> after every try, <c>dropped</c> when a
/// webhook's queue was full), observed over the tallies so every series is there at 0 from the start.
/// </summary>
public sealed class AlertCounters
{
    public const string Delivered = "delivered";
    public const string Failed = "failed";
    public const string Dropped = "dropped";

    private readonly ConcurrentDictionary<string, long> _raised = new(AlertKinds.All.Select(k => KeyValuePair.Create(k, 0L)), StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _deliveries = new(new[] { Delivered, Failed, Dropped }.Select(k => KeyValuePair.Create(k, 0L)), StringComparer.Ordinal);

    public AlertCounters(IMeterFactory? meters = null)
    {
        if (meters is null)
        {
            return;
        }
        var meter = meters.Create(RuntimeCounters.MeterName);
        meter.CreateObservableCounter("spotwise.alerts", () => Measure(_raised, "kind"), "{alert}", "Alerts raised since start, by kind.");
        meter.CreateObservableCounter("spotwise.alert_deliveries", () => Measure(_deliveries, "outcome"), "{delivery}",
            "Alert deliveries to webhooks since start, by outcome: delivered, failed (after every try), dropped (the webhook's queue was full).");
    }

    public long Raised(string kind) => _raised.GetValueOrDefault(kind);

    public long Deliveries(string outcome) => _deliveries.GetValueOrDefault(outcome);

    public void Raise(string kind) => _raised.AddOrUpdate(kind, 1, (_, n) => n + 1);

    public void Delivery(string outcome) => _deliveries.AddOrUpdate(outcome, 1, (_, n) => n + 1);

    private static IEnumerable<Measurement<long>> Measure(ConcurrentDictionary<string, long> tallies, string tag) =>
        tallies.Select(t => new Measurement<long>(t.Value, new KeyValuePair<string, object?>(tag, t.Key)));
}
