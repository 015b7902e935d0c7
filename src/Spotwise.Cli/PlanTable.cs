using System.Globalization;
using System.Text;
using Spotwise.Core;

namespace Spotwise.Cli;

/// <summary>The plan as a table for people: one row per job, then the totals that say how good the plan is.</summary>
public static class PlanTable
{
    private static readonly string[] Headers = ["job", "market", "instance type", "zone", "start", "end", "$/h", "expected $", "fallback-at", "why"];

    public static string Render(Plan plan, PlanningProblem problem)
    {
        var offset = plan.Now.Offset;
        string T(DateTimeOffset? t) => t is { } v ? v.ToOffset(offset).ToString("MM-dd HH:mm", CultureInfo.InvariantCulture) : "-";
        var rows = plan.Schedule
            .OrderBy(a => a.Start).ThenBy(a => a.JobId, StringComparer.Ordinal)
            .Select(a => new[]
            {
                a.JobId, a.Market.ToWire(), a.Offer.InstanceType.Name, a.Offer.Zone, T(a.Start), T(a.End),
                Money(a.Offer.PricePerHourUsd), Money(a.ExpectedCostUsd), T(a.FallbackAt), a.Reason,
            })
            .Concat(plan.Unplanned.Select(u => new[] { u.JobId, "-", "-", "-", "-", "-", "-", "-", "-", "UNPLANNED: " + u.Reason }))
            .ToList();
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture, $"Plan for {problem.Jobs.Length} job(s) at {plan.Now.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture)} ({problem.Catalog.Provider} {problem.Catalog.Region}{(problem.Limits.IsUnlimited ? ", no capacity limits" : "")})\n\n");
        AppendTable(sb, rows);
        var t = plan.Totals;
        sb.Append('\n');
        sb.Append(CultureInfo.InvariantCulture, $"Expected cost   {"$" + Money(t.ExpectedCostUsd),12}   all on-demand ${Money(t.OnDemandCostUsd)}, savings {t.SavingsPct:0.0}%\n");
        sb.Append(CultureInfo.InvariantCulture, $"Lower bound     {"$" + Money(t.LowerBoundUsd),12}   gap {t.GapPct:0.00}%\n");
        sb.Append(CultureInfo.InvariantCulture, $"Solver          {plan.Planner}: {plan.Status.ToString().ToLowerInvariant()} in {t.SolveSeconds:0.00} s\n");
        sb.Append(CultureInfo.InvariantCulture, $"Jobs            {t.JobsPlanned} planned, {t.JobsUnplanned} unplanned, {t.DeadlinesAtRisk} deadline(s) at risk\n");
        if (plan.LaunchAllowance > TimeSpan.Zero)
        {
            sb.Append(CultureInfo.InvariantCulture, $"Launch allowance {plan.LaunchAllowance.TotalSeconds:0.#} s: each job's work starts that long after its start (boot); its end counts it\n");
        }
        if (plan.Llm is { } llm)
        {
            AppendLlm(sb, llm);
        }
        return sb.ToString();
    }

    /// <summary>What the model did: its answer's validity, what was repaired, and its cost against the optimizer's.</summary>
    private static void AppendLlm(StringBuilder sb, LlmReport llm)
    {
        var vs = llm.CostVsOptimizerPct is { } pct ? string.Create(CultureInfo.InvariantCulture, $", {pct:+0.00;-0.00;0.00}% vs the optimizer's plan") : "";
        sb.Append(CultureInfo.InvariantCulture, $"Model           {llm.Model}: {llm.LatencySeconds:0.00} s, {llm.TokensIn} tokens in, {llm.TokensOut} out, {llm.Chunks} request(s){vs}\n");
        if (llm.Fallback is { } why)
        {
            sb.Append(CultureInfo.InvariantCulture, $"                FELL BACK to the optimizer: {why}\n");
            return;
        }
        sb.Append(CultureInfo.InvariantCulture, $"                proposal {(llm.RawProposalValid ? "valid" : $"invalid ({llm.Violations.Length} violation(s))")}, {llm.Kept} kept, {llm.Repaired.Length} re-planned{(llm.Chosen is { } c ? $", kept the {c} plan" : "")}\n");
        foreach (var v in llm.Violations.Take(10))
        {
            sb.Append(CultureInfo.InvariantCulture, $"                  {v}\n");
        }
        if (llm.Violations.Length > 10)
        {
            sb.Append(CultureInfo.InvariantCulture, $"                  ... {llm.Violations.Length - 10} more (see --format json)\n");
        }
    }

    private static void AppendTable(StringBuilder sb, List<string[]> rows)
    {
        var widths = Headers.Select((h, i) => Math.Max(h.Length, rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        void Line(string[] cells)
        {
            // The last column (why) is free text: no padding after it.
            sb.Append(string.Join("  ", cells.Select((c, i) => i == cells.Length - 1 ? c : c.PadRight(widths[i]))).TrimEnd()).Append('\n');
        }
        Line(Headers);
        Line([.. widths.Select(w => new string('-', w))]);
        foreach (var r in rows)
        {
            Line(r);
        }
    }

    private static string Money(double usd) => usd.ToString(usd < 10 ? "0.0000" : "0.00", CultureInfo.InvariantCulture);
}
