using System.Globalization;
using ScottPlot;
using Spotwise.Simulation.Scenarios;

namespace Spotwise.Simulation.Plots;

/// <summary>simulate --plot: PNG charts of the mean cost per policy and of one run's timeline.</summary>
public static class SimulationPlots
{
    public static IReadOnlyList<string> Write(
        string directory, IReadOnlyList<PolicySummary> policies, ZoneTraces market, JobScenario scenario, string policy, RunResult run)
    {
        Directory.CreateDirectory(directory);
        return [Cost(directory, policies), Timeline(directory, market, scenario, policy, run)];
    }

    private static string Cost(string directory, IReadOnlyList<PolicySummary> policies)
    {
        var plot = new Plot();
        var bars = plot.Add.Bars(policies.Select(p => p.MeanCostUsd).ToArray());
        foreach (var (bar, p) in bars.Bars.Zip(policies))
        {
            bar.Label = Inv($"${p.MeanCostUsd:0.00} ({p.Score:0})");
        }
        bars.ValueLabelStyle.FontSize = 12;
        plot.Axes.Bottom.SetTicks([.. Enumerable.Range(0, policies.Count).Select(i => (double)i)], [.. policies.Select(p => p.Policy)]);
        plot.Add.HorizontalLine(policies[0].OnDemandCostUsd, 1, Colors.Gray, LinePattern.Dashed).LegendText = "on-demand cost";
        plot.Title("Mean cost per job (score in brackets)");
        plot.YLabel("USD");
        plot.Axes.Margins(bottom: 0);
        var path = Path.Combine(directory, "cost-per-policy.png");
        plot.SavePng(path, 900, 500);
        return path;
    }

    private static string Timeline(string directory, ZoneTraces market, JobScenario scenario, string policy, RunResult run)
    {
        var timeline = run.Timeline!;
        var plot = new Plot();
        var g = market.TickHours;
        var ticks = timeline.Placement.Count;
        var hours = Enumerable.Range(0, ticks + 1).Select(t => t * g).ToArray();

        // Progress against the deadline: work done, and the latest line from which on-demand still finishes in time.
        var done = timeline.DoneHours.Append(scenario.WorkHours).ToArray();
        plot.Add.Scatter(hours, done).LegendText = "work done (h)";
        var latest = plot.Add.Line(scenario.DeadlineHours - scenario.WorkHours - scenario.OverheadHours, 0, scenario.DeadlineHours - scenario.OverheadHours, scenario.WorkHours);
        latest.LinePattern = LinePattern.Dashed;
        latest.LegendText = "on-demand must start by here";
        plot.Add.VerticalLine(scenario.DeadlineHours, 2, Colors.Red).LegendText = "deadline";

        // Below zero: spot availability per zone (a band per zone), and what the job ran on.
        var zones = Math.Min(market.ZoneCount, 13);
        for (var z = 0; z < zones; z++)
        {
            var baseLine = -3.0 * (z + 2);
            var ys = Enumerable.Range(0, ticks + 1).Select(t => baseLine + (market.Available(z, timeline.StartTick + Math.Min(t, ticks - 1)) ? 2 : 0)).ToArray();
            var line = plot.Add.Scatter(hours, ys);
            line.ConnectStyle = ConnectStyle.StepHorizontal;
            line.MarkerSize = 0;
            line.Color = Colors.Green;
            plot.Add.Text(market.Zones[z], 0, baseLine + 2.2).LabelFontSize = 9;
        }
        // The spot zone the job ran in: a thick red bar over that zone's band, one per stretch.
        for (var start = 0; start < ticks;)
        {
            var zone = timeline.Placement[start];
            var end = start;
            while (end < ticks && timeline.Placement[end] == zone)
            {
                end++;
            }
            if (zone >= 0 && zone < zones)
            {
                var bar = plot.Add.Line(start * g, (-3.0 * (zone + 2)) + 1, end * g, (-3.0 * (zone + 2)) + 1);
                bar.LineWidth = 5;
                bar.Color = Colors.Red;
            }
            start = end;
        }
        var ran = plot.Add.Scatter(hours, [.. timeline.Placement.Select(p => p switch { -2 => -4.0, -1 => -1.0, _ => -2.5 }), -4.0]);
        ran.ConnectStyle = ConnectStyle.StepHorizontal;
        ran.MarkerSize = 0;
        ran.LineWidth = 3;
        ran.LegendText = "ran on: on-demand (-1) / spot (-2.5) / idle (-4)";
        foreach (var s in plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().Where(s => s.LegendText.StartsWith("work", StringComparison.Ordinal)))
        {
            s.MarkerSize = 0;
        }
        plot.Title(Inv($"{policy}: one run from tick {timeline.StartTick}, {scenario.WorkHours} h job, deadline {scenario.DeadlineHours} h, cost ${run.CostUsd:0.00}"));
        plot.XLabel("hours since the job's start");
        plot.YLabel("work done (h); spot per zone (green high = available, red = ran there)");
        plot.ShowLegend(Alignment.UpperLeft);
        var path = Path.Combine(directory, Inv($"timeline-{policy}.png"));
        plot.SavePng(path, 1200, 700);
        return path;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
