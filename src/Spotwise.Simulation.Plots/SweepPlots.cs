using System.Globalization;
using ScottPlot;
using Spotwise.Simulation.Scenarios;

namespace Spotwise.Simulation.Plots;

/// <summary>
/// <c>bench simulate-sweep --plot-dir</c>: PNG charts of a sweep's own results (the cells its tables print), so a
/// chart never shows figures of a second, different run.
/// </summary>
public static class SweepPlots
{
    /// <summary>Issue 14's single-zone target: spotwise closes at least this share of the UP → omniscient gap in every cell.</summary>
    public const double GapClosedTarget = 0.75;

    /// <summary>Issue 14's multi-zone target: spotwise within this fraction of the omniscient cost.</summary>
    public const double AboveOmniscientTarget = 0.03;

    private const int Width = 1000;
    private const int Height = 550;

    /// <summary>The single-zone charts of one trace set: the gap closed per cell, and cost / on-demand per policy per cell.</summary>
    public static IReadOnlyList<string> WriteSingleZone(string directory, string traceSet, IReadOnlyList<SweepCell> cells) =>
        [GapClosed(directory, traceSet, cells), Cost(directory, traceSet, cells)];

    /// <summary><c>sweep-&lt;traces&gt;-gap-closed.png</c>: per cell, the share of the UP → omniscient gap spotwise closes.</summary>
    public static string GapClosed(string directory, string traceSet, IReadOnlyList<SweepCell> cells)
    {
        var plot = new Plot();
        var bars = cells.Select((c, i) => (Cell: c, Index: i, Closed: SweepCell.GapClosed([c])))
            .Where(x => x.Closed is not null)
            .Select(x => new Bar { Position = x.Index, Value = x.Closed!.Value * 100, Label = Inv($"{x.Closed.Value * 100:0.0}%"), FillColor = Colors.SteelBlue })
            .ToArray();
        plot.Add.Bars(bars).ValueLabelStyle.FontSize = 13;
        var target = plot.Add.HorizontalLine(GapClosedTarget * 100, 2, Colors.Red, LinePattern.Dashed);
        target.LegendText = Inv($"target: {GapClosedTarget * 100:0}% in every cell");
        CellTicks(plot, cells, 0, 1);
        var whole = SweepCell.GapClosed(cells);
        plot.Title(Inv($"{traceSet}: share of the UP → omniscient gap spotwise closes (whole sweep {Percent(whole)})"));
        plot.YLabel("gap closed (%)");
        plot.Axes.SetLimitsY(Math.Min(0, bars.Select(b => b.Value).DefaultIfEmpty(0).Min() - 5), 105);
        plot.ShowLegend(Alignment.UpperRight);
        return Save(plot, directory, Inv($"sweep-{traceSet}-gap-closed.png"));
    }

    /// <summary><c>sweep-&lt;traces&gt;-cost.png</c>: per cell, a group of bars of cost / on-demand cost, one per policy run.</summary>
    public static string Cost(string directory, string traceSet, IReadOnlyList<SweepCell> cells)
    {
        var plot = new Plot();
        var policies = SpotPolicies.Names.Where(p => cells.Any(c => c.Summaries.ContainsKey(p))).ToList();
        var palette = new ScottPlot.Palettes.Category10();
        var group = policies.Count + 1; // one empty slot between groups
        var bars = new List<Bar>();
        for (var c = 0; c < cells.Count; c++)
        {
            for (var p = 0; p < policies.Count; p++)
            {
                if (cells[c].Summaries.TryGetValue(policies[p], out var s))
                {
                    bars.Add(new Bar { Position = (c * group) + p, Value = s.CostRatio, FillColor = palette.GetColor(p), Label = Inv($"{s.CostRatio:0.000}") });
                }
            }
        }
        plot.Add.Bars(bars).ValueLabelStyle.FontSize = 8;
        for (var p = 0; p < policies.Count; p++)
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = policies[p], FillColor = palette.GetColor(p) });
        }
        CellTicks(plot, cells, (policies.Count - 1) / 2.0, group);
        plot.Title(Inv($"{traceSet}: mean cost / on-demand cost per cell (lower is better)"));
        plot.YLabel("cost / on-demand cost");
        plot.Axes.SetLimitsY(0, bars.Select(b => b.Value).DefaultIfEmpty(1).Max() * 1.1);
        plot.ShowLegend(Edge.Right); // beside the chart: with on-demand's bars at 1.0 no corner inside it is free
        return Save(plot, directory, Inv($"sweep-{traceSet}-cost.png"));
    }

    /// <summary><c>sweep-multizone-vs-omniscient.png</c>: per market and deadline (and changeover), spotwise's % above omniscient.</summary>
    public static string MultiZone(string directory, IReadOnlyList<MultiZoneCell> cells)
    {
        var plot = new Plot();
        var markets = cells.Select(c => c.Market).Distinct(StringComparer.Ordinal).ToList();
        var palette = new ScottPlot.Palettes.Category10();
        var shown = cells.Select((c, i) => (Cell: c, Index: i, Above: c.SpotwiseAboveOmniscient)).Where(x => x.Above is not null).ToList();
        var bars = shown.Select(x => new Bar
        {
            Position = x.Index,
            Value = x.Above!.Value * 100,
            FillColor = palette.GetColor(markets.IndexOf(x.Cell.Market)),
            Label = Inv($"{x.Above.Value * 100:0.0}%"),
        }).ToArray();
        plot.Add.Bars(bars).ValueLabelStyle.FontSize = 13;
        foreach (var (market, i) in markets.Select((m, i) => (m, i)))
        {
            plot.Legend.ManualItems.Add(new LegendItem { LabelText = market, FillColor = palette.GetColor(i) });
        }
        var target = plot.Add.HorizontalLine(AboveOmniscientTarget * 100, 2, Colors.Red, LinePattern.Dashed);
        target.LegendText = Inv($"target: within {AboveOmniscientTarget * 100:0}% of omniscient");
        var overheads = cells.Select(c => c.OverheadHours).Distinct().Count();
        plot.Axes.Bottom.SetTicks(
            [.. cells.Select((_, i) => (double)i)],
            [.. cells.Select(c => overheads > 1 ? Inv($"{c.DeadlineHours} h / {c.OverheadHours} h") : Inv($"{c.DeadlineHours} h"))]);
        var changeover = overheads == 1 ? Inv($", changeover {cells[0].OverheadHours} h") : string.Empty;
        plot.Title(Inv($"Multi-zone: spotwise's mean cost above omniscient, per market and deadline{changeover}"));
        plot.XLabel(overheads > 1 ? "deadline / changeover" : "deadline");
        plot.YLabel("% above omniscient");
        plot.Axes.SetLimitsY(Math.Min(0, bars.Select(b => b.Value).DefaultIfEmpty(0).Min() * 1.25), Math.Max(AboveOmniscientTarget * 100, bars.Select(b => b.Value).DefaultIfEmpty(0).Max()) * 1.25);
        plot.ShowLegend(Alignment.UpperRight);
        return Save(plot, directory, "sweep-multizone-vs-omniscient.png");
    }

    /// <summary>One tick per cell, at the centre of its bar or group of bars.</summary>
    private static void CellTicks(Plot plot, IReadOnlyList<SweepCell> cells, double offset, int stride)
    {
        plot.Axes.Bottom.SetTicks(
            [.. cells.Select((_, i) => (i * stride) + offset)],
            [.. cells.Select(c => Inv($"{c.DeadlineHours} h / {c.OverheadHours} h"))]);
        plot.XLabel(Inv($"deadline / changeover ({cells.Sum(c => c.Runs):N0} runs per policy)"));
    }

    private static string Percent(double? share) => share is { } s ? Inv($"{s * 100:0.0}%") : "-";

    private static string Save(Plot plot, string directory, string name)
    {
        var path = Path.Combine(directory, name);
        plot.SavePng(path, Width, Height);
        return path;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
