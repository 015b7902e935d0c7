using Microsoft.Extensions.Options;
using Spotwise.Runtime;
using Spotwise.Runtime.Alerting;

namespace Spotwise.Server.Alerting;

/// <summary>
/// The service's <see cref="IAlertSink"/>: hands each raised alert to every configured webhook's queue and returns
/// (<see cref="WebhookDelivery"/> sends them in the background). With no webhook, alerts are only logged and counted.
/// </summary>
public sealed class WebhookAlerts : BackgroundService, IAlertSink
{
    private readonly List<WebhookDelivery> _deliveries;
    private readonly HttpClient _http;
    private readonly AlertCounters _counters;

    public WebhookAlerts(IOptions<AlertsOptions> options, IConfiguration configuration, TimeProvider time, AlertCounters counters, ILogger<WebhookAlerts> logger)
    {
        var o = options.Value;
        _counters = counters;
        _http = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = o.RequestTimeout };
        _deliveries = [.. o.Webhooks.Select(hook => new WebhookDelivery(hook, hook.ResolveSecret(key => configuration[key])!, _http, o, time, counters, logger))];
    }

    public IReadOnlyList<Uri> Webhooks => [.. _deliveries.Select(d => d.Url)];

    public void Publish(Alert alert)
    {
        _counters.Raise(alert.Kind);
        foreach (var delivery in _deliveries)
        {
            delivery.TryEnqueue(alert);
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(_deliveries.Select(d => d.RunAsync(stoppingToken)));

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }

    /// <summary>
    /// The clock webhooks are sent on: a receiver lives in real time, so under <c>--speed</c> the signature's timestamp
    /// and the backoff are the wall clock's (a scaled timestamp would be refused as from the future); a test's fake
    /// clock is kept, so tests advance the backoff.
    /// </summary>
    public static TimeProvider Clock(TimeProvider service) => service is ScaledTimeProvider ? TimeProvider.System : service;
}

/// <summary>Registers the alerts: the options, the webhooks, and the <see cref="Alerts"/> the scheduler and the reconcile loop raise through.</summary>
public static class AlertsRegistration
{
    public static IServiceCollection AddSpotwiseAlerts(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AlertsOptions>().Bind(configuration.GetSection(AlertsOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<AlertsOptions>>(new AlertsOptionsValidator(key => configuration[key]));
        services.AddSingleton(sp => new AlertCounters(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>()));
        services.AddSingleton(sp => new WebhookAlerts(sp.GetRequiredService<IOptions<AlertsOptions>>(), configuration,
            WebhookAlerts.Clock(sp.GetRequiredService<TimeProvider>()), sp.GetRequiredService<AlertCounters>(), sp.GetRequiredService<ILogger<WebhookAlerts>>()));
        services.AddSingleton<IAlertSink>(sp => sp.GetRequiredService<WebhookAlerts>());
        services.AddHostedService(sp => sp.GetRequiredService<WebhookAlerts>());
        services.AddSingleton(sp => new Alerts(sp.GetRequiredService<IAlertSink>(), sp.GetRequiredService<IOptions<AlertsOptions>>().Value.Rules,
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<Alerts>>()));
        return services;
    }
}
