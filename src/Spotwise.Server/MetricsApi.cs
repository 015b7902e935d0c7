using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using Spotwise.Runtime;

namespace Spotwise.Server;

/// <summary>
/// <c>GET /metrics</c> in the Prometheus text format: jobs per state, spend so far, and the latest plan's expected cost
/// and savings. Counts are over all teams and carry no job ids, so the endpoint needs no key (scrapers rarely have one).
/// </summary>
public static class MetricsApi
{
    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/metrics", MetricsAsync).WithTags("Metrics");
        return app;
    }

    public static async Task<ContentHttpResult> MetricsAsync(IJobStore store, RuntimeCounters counters, CancellationToken cancellationToken)
    {
        var counts = await store.CountByStateAsync(team: null, cancellationToken);
        // The store has no sum query; listing is O(jobs) per scrape, fine until a store grows one.
        var spend = Money.Spent(await store.ListAsync(new JobQuery(), cancellationToken));
        var plan = await store.LatestPlanAsync(cancellationToken);

        var text = new StringBuilder();
        text.AppendLine("# HELP spotwise_jobs Jobs in each state.");
        text.AppendLine("# TYPE spotwise_jobs gauge");
        foreach (var state in Enum.GetValues<JobState>())
        {
            text.AppendLine(Invariant($"spotwise_jobs{{state=\"{state.ToWire()}\"}} {counts.GetValueOrDefault(state)}"));
        }
        text.AppendLine("# HELP spotwise_spend_usd_total What every job has cost so far, in USD.");
        text.AppendLine("# TYPE spotwise_spend_usd_total counter");
        text.AppendLine(Invariant($"spotwise_spend_usd_total {spend}"));
        if (plan is not null)
        {
            text.AppendLine("# HELP spotwise_plan_expected_cost_usd Expected cost of the latest plan, in USD.");
            text.AppendLine("# TYPE spotwise_plan_expected_cost_usd gauge");
            text.AppendLine(Invariant($"spotwise_plan_expected_cost_usd {plan.Totals.ExpectedCostUsd}"));
            text.AppendLine("# HELP spotwise_plan_savings_pct Savings of the latest plan against all on-demand, in percent.");
            text.AppendLine("# TYPE spotwise_plan_savings_pct gauge");
            text.AppendLine(Invariant($"spotwise_plan_savings_pct {plan.Totals.SavingsPct}"));
        }
        Counter(text, "spotwise_cycles_total", "Planning cycles since start.", "counter", counters.Cycles);
        Counter(text, "spotwise_cycle_seconds", "How long the last planning cycle took, in seconds.", "gauge", counters.LastCycle.TotalSeconds);
        Counter(text, "spotwise_interruptions_total", "Spot interruptions seen since start.", "counter", counters.Interruptions);
        Counter(text, "spotwise_spot_refusals_total", "Spot launches refused for want of capacity since start (nothing ran).", "counter", counters.SpotRefusals);
        Counter(text, "spotwise_fallbacks_total", "Safety-net moves of spot jobs to on-demand since start.", "counter", counters.Fallbacks);
        return TypedResults.Text(text.ToString(), "text/plain; version=0.0.4; charset=utf-8");
    }

    private static void Counter(StringBuilder text, string name, string help, string type, double value)
    {
        text.AppendLine(Invariant($"# HELP {name} {help}"));
        text.AppendLine(Invariant($"# TYPE {name} {type}"));
        text.AppendLine(Invariant($"{name} {value}"));
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
