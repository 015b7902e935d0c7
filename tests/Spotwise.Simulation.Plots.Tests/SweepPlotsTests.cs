using SkiaSharp;
using Spotwise.Runtime.Traces;
using Spotwise.Simulation.Scenarios;
using Spotwise.Simulation.Scenarios.Policies;

namespace Spotwise.Simulation.Plots.Tests;

/// <summary>
/// The sweep charts drawn from real runs: a few short scenarios on a shipped trace, played through the scenario
/// engine by the sweep, summarised as the bench summarises them.
/// </summary>
public sealed class SweepPlotsTests : IDisposable
{
    private static readonly string[] Policies = [GreedyPolicy.Name, UniformProgressPolicy.Name, SpotwisePolicy.Name, OmniscientPolicy.Name];
    private static readonly double[] Overheads = [0.05, 0.1];
    private static readonly double[] Deadlines = [52, 70];

    private readonly string _dir = Directory.CreateTempSubdirectory("spotwise-sweep-plots-").FullName;

    [Fact]
    public void A_two_cell_sweep_is_charted_as_gap_closed_and_cost_png_files()
    {
        var market = MarketLoader.FromFile(Path.Combine(RepoPaths.Root, "data", "traces", "aws-v100", "us-west-2a_v100_1.json"), new MarketSource(), ShippedData.Catalog, [])!;
        var starts = SimulationSweep.DrawStarts(market, 52, 3, seed: 1);
        var cells = Overheads.Select(overhead =>
        {
            var results = SimulationSweep.Run(market, [.. starts.Select(s => new JobScenario(48, 52, overhead, s))], Policies);
            return new SweepCell(52, overhead, starts.Count, results.ToDictionary(r => r.Key, r => PolicySummary.Of(r.Key, r.Value)));
        }).ToList();

        var files = SweepPlots.WriteSingleZone(_dir, "aws-v100-1zones", cells);

        Assert.Equal(
            [Path.Combine(_dir, "sweep-aws-v100-1zones-gap-closed.png"), Path.Combine(_dir, "sweep-aws-v100-1zones-cost.png")],
            files);
        Assert.All(files, AssertIsAChart);
    }

    [Fact]
    public void The_multi_zone_chart_shows_each_market_and_deadline()
    {
        var market = MarketLoader.FromDirectory(Path.Combine(RepoPaths.Root, "data", "traces", "gcp-h100"), new MarketSource(TraceFormat.Preempted), ShippedData.Catalog, [])!;
        var cells = Deadlines.Select(deadline =>
        {
            var scenarios = SimulationSweep.DrawStarts(market, deadline, 2, seed: 1).Select(s => new JobScenario(48, deadline, 0.2, s)).ToList();
            var results = SimulationSweep.Run(market, scenarios, [SpotwisePolicy.Name, OmniscientPolicy.Name]);
            return new MultiZoneCell("gcp-h100-13zones", deadline, 0.2, results.ToDictionary(r => r.Key, r => r.Value.Average(x => x.CostUsd)), 0);
        }).ToList();

        var file = SweepPlots.MultiZone(_dir, cells);

        Assert.Equal(Path.Combine(_dir, "sweep-multizone-vs-omniscient.png"), file);
        AssertIsAChart(file);
        Assert.All(cells, c => Assert.True(c.SpotwiseAboveOmniscient >= -1e-9, $"spotwise below the omniscient bound at {c.DeadlineHours} h"));
    }

    [Fact]
    public void A_folder_that_is_missing_or_a_file_is_a_problem_and_a_writable_one_is_not()
    {
        var file = Path.Combine(_dir, "not-a-folder.txt");
        File.WriteAllText(file, "x");

        Assert.Equal("does not exist", PlotDirectory.Problem(Path.Combine(_dir, "missing")));
        Assert.Equal("is a file, not a folder", PlotDirectory.Problem(file));
        Assert.Null(PlotDirectory.Problem(_dir));
        Assert.Equal(["not-a-folder.txt"], Directory.GetFileSystemEntries(_dir).Select(Path.GetFileName)); // the probe is gone
    }

    [Fact]
    public void A_folder_nobody_may_create_files_in_is_not_writable()
    {
        // /proc (Linux, where the tests run) refuses new files even to root: chmod would not bind a test run as root.
        Assert.StartsWith("is not writable (", PlotDirectory.Problem("/proc"), StringComparison.Ordinal);
    }

    /// <summary>A PNG (its signature), of some size, that decodes to the chart's dimensions with more than a few colours.</summary>
    private static void AssertIsAChart(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 10_000, $"{path}: {bytes.Length} bytes");
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], bytes[..8]);
        using var bitmap = SKBitmap.Decode(bytes);
        Assert.NotNull(bitmap);
        Assert.Equal((1000, 550), (bitmap.Width, bitmap.Height));
        Assert.True(bitmap.Pixels.Distinct().Take(20).Count() >= 20, $"{path}: too few colours for a chart");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
