using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spotwise.Simulation.Scenarios;

namespace Spotwise.Cli;

/// <summary>What was simulated, as the report shows it.</summary>
public sealed record ScenarioDescription(
    IReadOnlyList<string> Zones,
    string Source,
    string InstanceType,
    double OnDemandPricePerHourUsd,
    double TickSeconds,
    double JobHours,
    double DeadlineHours,
    double OverheadHours,
    int Runs,
    int? Starts,
    int? Seed);

/// <summary>The simulate command's output: a table per policy, or the JSON document.</summary>
public static class SimulationReport
{
    public static ScenarioDescription Describe(SimulateRequest r, IReadOnlyList<(ZoneTraces Market, IReadOnlyList<JobScenario> Scenarios)> cases)
    {
        var market = cases[0].Market;
        var windows = r.WindowsDirectory is not null;
        return new ScenarioDescription(
            [.. cases.SelectMany(c => c.Market.Zones).Distinct()],
            r.TracePath ?? r.TraceDirectory ?? r.WindowsDirectory!,
            market.InstanceType.Name,
            market.OnDemandPricePerHourUsd,
            market.Tick.TotalSeconds,
            r.JobHours,
            r.DeadlineHours,
            r.OverheadHours,
            cases.Sum(c => c.Scenarios.Count),
            windows ? null : r.Starts,
            windows ? null : r.Seed);
    }

    public static string Table(ScenarioDescription s, IReadOnlyList<PolicySummary> policies)
    {
        var text = new StringBuilder();
        var zones = s.Zones.Count == 1 ? s.Zones[0] : Inv($"{s.Zones.Count} zones");
        text.AppendLine(Inv($"Simulated {s.Runs} run(s) of a {s.JobHours} h job, deadline {s.DeadlineHours} h, overhead {s.OverheadHours} h"));
        text.AppendLine(Inv($"on {zones} ({s.Source}), {s.InstanceType}, on-demand ${s.OnDemandPricePerHourUsd:0.####}/h, ticks of {s.TickSeconds} s")
            + (s.Starts is null ? "" : Inv($", {s.Starts} random starts (seed {s.Seed})")));
        text.AppendLine();
        string[] header = ["policy", "mean $", "cost/on-demand", "score", "deadline misses", "preemptions", "changeovers", "planner p50 ms", "p95 ms"];
        var rows = policies.Select(p => new[]
        {
            p.Policy,
            Inv($"{p.MeanCostUsd:0.00}"),
            Inv($"{p.CostRatio:0.000}"),
            Inv($"{p.Score:0.0}"),
            Inv($"{p.DeadlineMisses}"),
            Inv($"{p.MeanPreemptions:0.00}"),
            Inv($"{p.MeanChangeovers:0.00}"),
            Inv($"{p.PlannerP50Ms:0.000}"),
            Inv($"{p.PlannerP95Ms:0.000}"),
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        text.AppendLine(string.Join("  ", header.Select((h, i) => i == 0 ? h.PadRight(widths[i]) : h.PadLeft(widths[i]))).TrimEnd());
        text.AppendLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows)
        {
            text.AppendLine(string.Join("  ", row.Select((c, i) => i == 0 ? c.PadRight(widths[i]) : c.PadLeft(widths[i]))).TrimEnd());
        }
        text.AppendLine();
        text.AppendLine("score: 100 x (on-demand cost - cost) / (on-demand cost - all-spot cost); 0 = on-demand, 100 = all spot.");
        text.AppendLine("omniscient knows the future trace: it is the bound, not a policy.");
        return text.ToString();
    }

    public static string Json(ScenarioDescription s, IReadOnlyList<PolicySummary> policies)
    {
        var scenario = new JsonObject
        {
            ["source"] = s.Source,
            ["zones"] = new JsonArray([.. s.Zones.Select(z => (JsonNode?)JsonValue.Create(z))]),
            ["instanceType"] = s.InstanceType,
            ["onDemandPricePerHourUsd"] = s.OnDemandPricePerHourUsd,
            ["tickSeconds"] = s.TickSeconds,
            ["jobHours"] = s.JobHours,
            ["deadlineHours"] = s.DeadlineHours,
            ["overheadHours"] = s.OverheadHours,
            ["runs"] = s.Runs,
            ["starts"] = s.Starts,
            ["seed"] = s.Seed,
        };
        var byPolicy = new JsonObject();
        foreach (var p in policies)
        {
            byPolicy[p.Policy] = new JsonObject
            {
                ["meanCostUsd"] = Round(p.MeanCostUsd),
                ["onDemandCostUsd"] = Round(p.OnDemandCostUsd),
                ["allSpotCostUsd"] = Round(p.AllSpotCostUsd),
                ["costRatio"] = Round(p.CostRatio),
                ["score"] = Round(p.Score),
                ["deadlineMisses"] = p.DeadlineMisses,
                ["runs"] = p.Runs,
                ["meanPreemptions"] = Round(p.MeanPreemptions),
                ["meanChangeovers"] = Round(p.MeanChangeovers),
                ["meanSpotHours"] = Round(p.MeanSpotHours),
                ["meanOnDemandHours"] = Round(p.MeanOnDemandHours),
                ["plannerP50Ms"] = Round(p.PlannerP50Ms),
                ["plannerP95Ms"] = Round(p.PlannerP95Ms),
            };
        }
        var document = new JsonObject { ["scenario"] = scenario, ["policies"] = byPolicy };
        return document.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    private static double Round(double x) => Math.Round(x, 6);

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
