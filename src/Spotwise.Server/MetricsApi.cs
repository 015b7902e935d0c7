using System.Diagnostics.Metrics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Spotwise.Runtime;
using Spotwise.Runtime.Budgeting;
using Spotwise.Runtime.Leadership;

namespace Spotwise.Server;

/// <summary>
/// <c>GET /metrics</c>: the Spotwise meter (<see cref="RuntimeCounters"/>' instruments and <see cref="StoreGauges"/>) in
/// the Prometheus text format (OpenMetrics when asked), written by OpenTelemetry's Prometheus exporter. Counts are over all teams and carry no
/// job ids, so the endpoint needs no key (scrapers rarely have one) and is not rate-limited, as before the exporter.
/// A scrape reads two aggregates from the store and never the plan document (docs/server.md#metrics).
/// </summary>
public static partial class MetricsApi
{
    public const string Path = "/metrics";

    public static IServiceCollection AddSpotwiseMetrics(this IServiceCollection services)
    {
        services.AddSingleton<StoreGauges>();
        services.AddSingleton(sp => new BudgetGauges(sp.GetService<Budgets>(), sp.GetRequiredService<IMeterFactory>()));
        services.AddSingleton(sp => new LeaderGauges(sp.GetService<ILeadership>(), sp.GetRequiredService<IMeterFactory>()));
        services.AddHostedService<StoredPlanFigures>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("spotwise"))
            .WithMetrics(metrics => metrics
                .AddMeter(RuntimeCounters.MeterName)
                .AddPrometheusExporter(options =>
                {
                    // Every scrape is read afresh (StoreGauges.RefreshAsync runs first), as the hand-written endpoint was.
                    options.ScrapeResponseCacheDurationMilliseconds = 0;
                    // One meter is exported: an otel_scope_name label on every series would say nothing and change
                    // the label sets that dashboards match on.
                    options.ScopeInfoEnabled = false;
                }));
        // The view needs the service's own meter factory, so it is added once the provider is built.
        services.ConfigureOpenTelemetryMeterProvider((sp, metrics) => metrics.AddView(OnlyFrom(sp.GetRequiredService<IMeterFactory>())));
        return services;
    }

    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        app.MapPrometheusScrapingEndpoint(Path, meterProvider: null,
                configureBranchedPipeline: branch => branch.Use(async (context, next) =>
                {
                    await context.RequestServices.GetRequiredService<StoreGauges>().RefreshAsync(context.RequestAborted);
                    await context.RequestServices.GetRequiredService<BudgetGauges>().RefreshAsync(context.RequestAborted);
                    context.RequestServices.GetRequiredService<LeaderGauges>();
                    await WithoutEmptyLabelSetsAsync(context, next);
                }),
                optionsName: null)
            .WithTags("Metrics");
        return app;
    }

    /// <summary>
    /// The exporter writes a series without labels as <c>name{} value</c>; the hand-written endpoint wrote
    /// <c>name value</c>, and scripts that grep the text for <c>spotwise_spend_usd_total 12.5</c> still do. Both are valid
    /// exposition format, so the scrape is passed through with the empty braces dropped (a few kilobytes, buffered).
    /// </summary>
    private static async Task WithoutEmptyLabelSetsAsync(HttpContext context, RequestDelegate next)
    {
        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }
        var text = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        var bytes = System.Text.Encoding.UTF8.GetBytes(EmptyLabelSet().Replace(text, "$1 "));
        context.Response.ContentLength = bytes.Length;
        await original.WriteAsync(bytes, context.RequestAborted);
    }

    /// <summary>A sample line's name followed by <c>{}</c>.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"(?m)^([a-zA-Z_:][a-zA-Z0-9_:]*)\{\} ")]
    private static partial System.Text.RegularExpressions.Regex EmptyLabelSet();

    /// <summary>
    /// Exports only the meters this service's factory made. A listener hears every meter of the name in the process,
    /// and several services share one process in tests (or a simulation beside a service): without the filter their
    /// counts would add up.
    /// </summary>
    private static Func<Instrument, MetricStreamConfiguration?> OnlyFrom(IMeterFactory factory) =>
        instrument => ReferenceEquals(instrument.Meter.Scope, factory) ? null : MetricStreamConfiguration.Drop;
}

/// <summary>
/// The figures <c>/metrics</c> reads from the store: jobs in each state and spend so far, over all teams. The exporter
/// asks observable instruments synchronously and the store answers asynchronously, so the scrape awaits
/// <see cref="RefreshAsync"/> first and the instruments report what it read (nothing before the first scrape).
/// </summary>
public sealed class StoreGauges
{
    private readonly IJobStore _store;
    private Figures? _last;

    public StoreGauges(IJobStore store, IMeterFactory meters)
    {
        _store = store;
        var meter = meters.Create(RuntimeCounters.MeterName);
        meter.CreateObservableGauge("spotwise.jobs", Jobs, "{job}", "Jobs in each state.");
        // Named with its unit: "{USD}" is an annotation the exporter drops, so the name stays spotwise_spend_usd_total.
        meter.CreateObservableCounter("spotwise.spend_usd", Spend, "{USD}", "What every job has cost so far, in USD.");
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var counts = await _store.CountByStateAsync(team: null, cancellationToken);
        var spend = await _store.SpendSoFarUsdAsync(team: null, cancellationToken);
        Volatile.Write(ref _last, new Figures(counts, spend));
    }

    private IEnumerable<Measurement<int>> Jobs() => Volatile.Read(ref _last) is { } last
        ? Enum.GetValues<JobState>().Select(state =>
            new Measurement<int>(last.Counts.GetValueOrDefault(state), new KeyValuePair<string, object?>("state", state.ToWire())))
        : [];

    private IEnumerable<Measurement<double>> Spend() => Volatile.Read(ref _last) is { } last ? [new(last.SpendUsd)] : [];

    private sealed record Figures(IReadOnlyDictionary<JobState, int> Counts, double SpendUsd);
}

/// <summary>
/// Each budgeted team's figures (<see cref="BudgetStatus"/>), labelled by team:
/// <c>spotwise_team_budget_limit_usd</c>, <c>_spent_usd</c>, <c>_committed_usd</c> and <c>_left_usd</c>. Read before the
/// scrape, like <see cref="StoreGauges"/>; no series before the first scrape or without budgets.
/// </summary>
public sealed class BudgetGauges
{
    private readonly Budgets? _budgets;
    private IReadOnlyList<BudgetStatus> _last = [];

    public BudgetGauges(Budgets? budgets, IMeterFactory meters)
    {
        _budgets = budgets;
        var meter = meters.Create(RuntimeCounters.MeterName);
        // Named with their unit, as spotwise.spend_usd: "{USD}" is an annotation the exporter drops.
        meter.CreateObservableGauge("spotwise.team_budget_limit_usd", () => Each(s => s.LimitUsd), "{USD}", "Each team's budget for the period running, in USD.");
        meter.CreateObservableGauge("spotwise.team_budget_spent_usd", () => Each(s => s.SpentUsd), "{USD}", "What each team's jobs have cost in the period running, in USD.");
        meter.CreateObservableGauge("spotwise.team_budget_committed_usd", () => Each(s => s.CommittedUsd), "{USD}",
            "What each team's planned and running jobs are still expected to cost in the period, in USD.");
        meter.CreateObservableGauge("spotwise.team_budget_left_usd", () => Each(s => s.LeftUsd), "{USD}",
            "Each team's budget less spent and committed, in USD (below 0 when overspent).");
    }

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        if (_budgets is not null)
        {
            Volatile.Write(ref _last, await _budgets.AllAsync(cancellationToken));
        }
    }

    private IEnumerable<Measurement<double>> Each(Func<BudgetStatus, double> figure) =>
        Volatile.Read(ref _last).Select(s => new Measurement<double>(figure(s), new KeyValuePair<string, object?>("team", s.Team)));
}

/// <summary>
/// Whether this replica leads (<c>spotwise_is_leader</c>: 1 on the leader, 0 on a follower) and in which term
/// (<c>spotwise_leader_epoch</c>: the lease's epoch while it leads, 0 while it follows). The only replica (no election)
/// leads, with epoch 0: it holds no lease.
/// </summary>
public sealed class LeaderGauges
{
    public LeaderGauges(ILeadership? leadership, IMeterFactory meters)
    {
        var meter = meters.Create(RuntimeCounters.MeterName);
        meter.CreateObservableGauge("spotwise.is_leader", () => leadership is null || leadership.Current is not null ? 1 : 0, "{leader}",
            "1 while this replica leads (plans and reconciles), 0 while it follows.");
        meter.CreateObservableGauge("spotwise.leader_epoch", () => leadership?.Current?.Epoch ?? 0, "{epoch}",
            "The leader lease's epoch while this replica leads; 0 while it follows or when it is the only replica.");
    }
}

/// <summary>
/// At start-up, gives <see cref="RuntimeCounters"/> the totals of the plan stored before this start, read once: the
/// plan's figures are then on <c>/metrics</c> from the first scrape, not only after a cycle stores a new plan (a queue
/// with nothing open stores none), and no scrape has to read the document.
/// </summary>
internal sealed partial class StoredPlanFigures(IJobStore store, RuntimeCounters counters, ILogger<StoredPlanFigures> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (await store.LatestPlanAsync(cancellationToken) is { Totals: var t })
            {
                counters.PlanFound(new Spotwise.Core.PlanTotals(t.ExpectedCostUsd, t.OnDemandCostUsd, t.SavingsPct, t.LowerBoundUsd, t.GapPct,
                    t.SolveSeconds, t.JobsPlanned, t.JobsUnplanned, t.DeadlinesAtRisk));
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Metrics must not stop the service: the next stored plan brings the figures.
            LogUnreadable(e);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stored plan could not be read for /metrics; its figures appear with the next plan")]
    private partial void LogUnreadable(Exception exception);
}
