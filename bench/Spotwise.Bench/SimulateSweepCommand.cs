using System.Diagnostics;
using System.Globalization;
using Spotwise.Core;
using Spotwise.Simulation.Plots;
using Spotwise.Simulation.Scenarios;
using Spotwise.Simulation.Scenarios.Policies;

namespace Spotwise.Bench;

/// <summary>
/// <c>simulate-sweep</c>: the target sweep of issue 4. Every AWS V100 zone alone (single-zone), a 48 h job, each
/// deadline × overhead, N random starts, every policy; then the GCP H100 zones together (multi-zone) against
/// single-zone Uniform Progress. Prints the tables, the share of the UP→omniscient gap spotwise closes, and wall time.
/// <c>--multi-aws</c> adds the multi-zone table over the AWS zones with their per-tick prices (the price file beside
/// them); <c>--skip-single</c> leaves out the single-zone sweep. <c>--plot-dir DIR</c> then charts the same results
/// (<see cref="SweepPlots"/>): per trace set the gap closed and the cost per cell, and multi-zone against omniscient.
/// </summary>
public static class SimulateSweepCommand
{
    public const string Usage =
        "simulate-sweep [--aws-dir data/traces/aws-v100] [--gcp-dir data/traces/gcp-h100] [--starts 300] [--seed 1] " +
        "[--job-hours 48] [--deadlines 52,70] [--overheads 0.02,0.05,0.1] [--policies all] [--skip-gcp] [--check-bound] [--multi-aws] [--skip-single] [--plot-dir DIR]";

    private static readonly string[] ValueOptions =
        ["--aws-dir", "--gcp-dir", "--starts", "--seed", "--job-hours", "--deadlines", "--overheads", "--policies", "--plot-dir"];

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var reader = new ArgReader(args, ValueOptions, ["--skip-gcp", "--check-bound", "--multi-aws", "--skip-single"]);
        var awsDir = reader.Text("--aws-dir") ?? RepoRoot.PathTo("data/traces/aws-v100", out _) ?? "data/traces/aws-v100";
        var gcpDir = reader.Text("--gcp-dir") ?? RepoRoot.PathTo("data/traces/gcp-h100", out _) ?? "data/traces/gcp-h100";
        var starts = reader.WholeNumber("--starts", 1, 100_000) ?? 300;
        var seed = reader.WholeNumber("--seed", 0, int.MaxValue) ?? 1;
        var jobHours = reader.PositiveNumber("--job-hours") ?? 48;
        var deadlines = Numbers(reader, "--deadlines") ?? [52, 70];
        var overheads = Numbers(reader, "--overheads") ?? [0.02, 0.05, 0.1];
        var policyText = reader.Text("--policies") ?? "all";
        var policies = policyText == "all" ? SpotPolicies.Names : policyText.Split(',');
        foreach (var p in policies.Where(p => !SpotPolicies.Names.Contains(p)))
        {
            reader.AddError($"--policies: '{p}' is not a policy; choose from {string.Join(", ", SpotPolicies.Names)} or all");
        }
        var plotDir = reader.Text("--plot-dir");
        if (plotDir is not null && PlotDirectory.Problem(plotDir) is { } problem)
        {
            reader.AddError($"--plot-dir: '{plotDir}' {problem}");
        }
        if (reader.Errors.Count > 0)
        {
            return ArgReader.Refuse(reader.Errors, Usage, stderr);
        }
        var catalog = LoadCatalog();

        var charts = new List<Func<string, IEnumerable<string>>>();
        if (!reader.Has("--skip-single"))
        {
            var cells = SingleZone(awsDir, catalog, starts, seed, jobHours, deadlines, overheads, policies, reader.Has("--check-bound"), stdout, stderr);
            if (cells is null)
            {
                return 2;
            }
            stdout.WriteLine(Inv($"single-zone sweep: {cells.Sum(c => c.Runs)} runs per policy, {policies.Count} policies"));
            // The start count is in the name so the 40-start subset's charts and the full sweep's sit side by side.
            var traceSet = Inv($"{MarketLoader.TraceSetName(awsDir)}-{starts}starts");
            charts.Add(dir => SweepPlots.WriteSingleZone(dir, traceSet, cells));
        }
        var multi = new List<MultiZoneCell>();
        if (reader.Has("--multi-aws"))
        {
            var awsWall = Stopwatch.StartNew();
            multi.AddRange(MultiZone(awsDir, new MarketSource(Runtime.Traces.TraceFormat.Counts), "AWS", catalog, starts, seed, jobHours, deadlines, overheads, stdout, stderr));
            stdout.WriteLine(Inv($"multi-zone comparison: wall {awsWall.Elapsed.TotalSeconds:0.0} s"));
        }
        if (!reader.Has("--skip-gcp"))
        {
            var gcpWall = Stopwatch.StartNew();
            multi.AddRange(MultiZone(gcpDir, new MarketSource(Runtime.Traces.TraceFormat.Preempted), "GCP", catalog, starts, seed, jobHours, deadlines, overheads, stdout, stderr));
            stdout.WriteLine(Inv($"multi-zone comparison: wall {gcpWall.Elapsed.TotalSeconds:0.0} s"));
        }
        if (multi.Count > 0)
        {
            charts.Add(dir => [SweepPlots.MultiZone(dir, multi)]);
        }
        return plotDir is null ? 0 : WriteCharts(plotDir, charts, stderr);
    }

    /// <summary>The charts of the results just printed; a folder that went away during the sweep is an error naming the flag.</summary>
    private static int WriteCharts(string directory, List<Func<string, IEnumerable<string>>> charts, TextWriter stderr)
    {
        try
        {
            foreach (var file in charts.SelectMany(chart => chart(directory)))
            {
                stderr.WriteLine($"wrote {file}");
            }
            return 0;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"error: --plot-dir: cannot write into '{directory}': {e.Message}");
            return 1;
        }
    }

    private static List<SweepCell>? SingleZone(
        string dir, Catalog catalog, int starts, int seed, double jobHours, double[] deadlines, double[] overheads,
        IReadOnlyList<string> policies, bool checkBound, TextWriter stdout, TextWriter stderr)
    {
        var worstBoundGap = 0.0;
        var wall = Stopwatch.StartNew();
        var excluded = TimeSpan.Zero;
        var runs = new Dictionary<(double, double), Dictionary<string, List<RunResult>>>();
        foreach (var file in MarketLoader.TraceFiles(dir))
        {
            var errors = new List<string>();
            var market = MarketLoader.FromFile(file, new MarketSource(), catalog, errors);
            if (market is null)
            {
                errors.ForEach(e => stderr.WriteLine($"error: {e}"));
                return null;
            }
            foreach (var deadline in deadlines)
            {
                var points = SimulationSweep.DrawStarts(market, deadline, starts, seed);
                foreach (var overhead in overheads)
                {
                    var scenarios = points.Select(s => new JobScenario(jobHours, deadline, overhead, s)).ToList();
                    var results = SimulationSweep.Run(market, scenarios, policies);
                    if (checkBound && results.TryGetValue(OmniscientPolicy.Name, out var omni))
                    {
                        // A fine-binned relaxation on the first few starts (slow, so outside the timed sweep).
                        var timed = wall.Elapsed;
                        var sample = scenarios.Take(BoundSample).ToList();
                        var bounds = sample.AsParallel().AsOrdered().Select(sc => OmniscientPlanner.LowerBound(market, sc, bucketTicks: 0.05)).ToList();
                        worstBoundGap = Math.Max(worstBoundGap, omni.Zip(bounds).Max(x => (x.First.CostUsd - x.Second) / x.First.CostUsd));
                        excluded += wall.Elapsed - timed;
                    }
                    var cell = runs.TryGetValue((deadline, overhead), out var c) ? c : runs[(deadline, overhead)] = policies.ToDictionary(p => p, _ => new List<RunResult>());
                    foreach (var (policy, list) in results)
                    {
                        cell[policy].AddRange(list);
                    }
                }
            }
            stderr.WriteLine($"  {Path.GetFileName(file)} done");
        }

        if (checkBound)
        {
            stdout.WriteLine(Inv($"omniscient: on the first {BoundSample} starts of each zone and cell, the schedule played is at most {worstBoundGap * 100:0.000}% above a lower bound of the optimum (checked in {excluded.TotalSeconds:0} s, not counted below)"));
        }
        var cells = runs.Select(kv => new SweepCell(kv.Key.Item1, kv.Key.Item2, kv.Value.First().Value.Count,
            kv.Value.ToDictionary(p => p.Key, p => PolicySummary.Of(p.Key, p.Value)))).OrderBy(c => c.DeadlineHours).ThenBy(c => c.OverheadHours).ToList();
        stdout.WriteLine();
        stdout.WriteLine("Single zone (each AWS V100 zone alone): cost / on-demand cost, score, deadline misses");
        stdout.WriteLine();
        stdout.WriteLine("deadline  overhead  " + string.Join("  ", policies.Select(p => $"{p,-26}")) + "  spotwise vs UP  gap closed");
        foreach (var cell in cells)
        {
            var row = string.Join("  ", policies.Select(p => cell.Summaries[p]).Select(s => Inv($"{s.CostRatio,6:0.0000} {s.Score,6:0.0} {s.DeadlineMisses,3} miss    ")));
            stdout.WriteLine(Inv($"{cell.DeadlineHours,6} h  {cell.OverheadHours,6} h  {row}  {Versus(cell.Summaries),14}  {GapClosed([cell]),10}"));
        }
        stdout.WriteLine(Inv($"over the whole sweep: spotwise closes {GapClosed(cells)} of the uniform-progress -> omniscient cost gap"));
        stdout.WriteLine();
        stdout.WriteLine("policy              mean $   spot h  on-demand h  preemptions  changeovers  planner p50 ms  p95 ms");
        foreach (var p in policies)
        {
            var all = PolicySummary.Of(p, [.. runs.Values.SelectMany(r => r[p])]);
            stdout.WriteLine(Inv($"{p,-18}  {all.MeanCostUsd,7:0.00}  {all.MeanSpotHours,6:0.0}  {all.MeanOnDemandHours,11:0.0}  {all.MeanPreemptions,11:0.00}  {all.MeanChangeovers,11:0.00}  {all.PlannerP50Ms,14:0.000}  {all.PlannerP95Ms,6:0.000}"));
        }
        // The machine is shared: CPU time says what the sweep needs, wall time what it got.
        stdout.WriteLine(Inv($"single-zone sweep: wall {(wall.Elapsed - excluded).TotalSeconds:0.0} s without the bound check; process CPU {Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds:0.0} s on {Environment.ProcessorCount} cores"));
        return cells;
    }

    private const int BoundSample = 5;

    // The GCP H100 traces mark 1 = unavailable (the preempted format); the AWS ones count instances, priced per tick by
    // the price file beside them.
    private static List<MultiZoneCell> MultiZone(
        string dir, MarketSource source, string cloud, Catalog catalog, int starts, int seed, double jobHours, double[] deadlines, double[] overheads,
        TextWriter stdout, TextWriter stderr)
    {
        var errors = new List<string>();
        var market = MarketLoader.FromDirectory(dir, source, catalog, errors);
        var zones = MarketLoader.TraceFiles(dir).Select(f => MarketLoader.FromFile(f, source, catalog, errors)).ToList();
        if (market is null || zones.Any(z => z is null))
        {
            errors.ForEach(e => stderr.WriteLine($"error: {e}"));
            return [];
        }
        var cells = new List<MultiZoneCell>();
        var name = MarketLoader.TraceSetName(dir);
        stdout.WriteLine();
        stdout.WriteLine(Inv($"Multi-zone ({market.ZoneCount} {cloud} {market.InstanceType.Name} zones, on-demand ${market.OnDemandPricePerHourUsd:0.00}/h in {market.OnDemandZone}): mean cost $ per job"));
        stdout.WriteLine();
        stdout.WriteLine("deadline  overhead  UP single zone (mean of zones / best zone)  spotwise multi  UP multi  greedy multi  omniscient multi  spotwise/omniscient");
        foreach (var deadline in deadlines)
        {
            var points = SimulationSweep.DrawStarts(market, deadline, starts, seed);
            foreach (var overhead in overheads)
            {
                var scenarios = points.Select(s => new JobScenario(jobHours, deadline, overhead, s)).ToList();
                var multi = SimulationSweep.Run(market, scenarios, [SpotwisePolicy.Name, UniformProgressPolicy.Name, GreedyPolicy.Name, OmniscientPolicy.Name]);
                var single = zones.Select(z => SimulationSweep.Run(z!, scenarios, [UniformProgressPolicy.Name])[UniformProgressPolicy.Name].Average(r => r.CostUsd)).ToList();
                double Mean(string p) => multi[p].Average(r => r.CostUsd);
                var misses = multi.Sum(kv => kv.Key == OmniscientPolicy.Name ? 0 : kv.Value.Count(r => r.MissedDeadline));
                stdout.WriteLine(Inv(
                    $"{deadline,6} h  {overhead,6} h  {single.Average(),20:0.00} / {single.Min(),-20:0.00}  {Mean(SpotwisePolicy.Name),14:0.00}  {Mean(UniformProgressPolicy.Name),8:0.00}  {Mean(GreedyPolicy.Name),12:0.00}  {Mean(OmniscientPolicy.Name),16:0.00}  {Mean(SpotwisePolicy.Name) / Mean(OmniscientPolicy.Name),8:0.000}  ({misses} misses)"));
                cells.Add(new MultiZoneCell(name, deadline, overhead, multi.ToDictionary(kv => kv.Key, kv => Mean(kv.Key)), misses));
            }
        }
        return cells;
    }

    private static string Versus(IReadOnlyDictionary<string, PolicySummary> s) =>
        s.TryGetValue(SpotwisePolicy.Name, out var sw) && s.TryGetValue(UniformProgressPolicy.Name, out var up)
            ? Inv($"{(sw.MeanCostUsd / up.MeanCostUsd - 1) * 100:+0.00;-0.00}%")
            : "-";

    private static string GapClosed(IEnumerable<SweepCell> cells) => SweepCell.GapClosed(cells) is { } share ? Inv($"{share * 100:0.0}%") : "-";

    private static double[]? Numbers(ArgReader reader, string name)
    {
        var text = reader.Text(name);
        if (text is null)
        {
            return null;
        }
        var parts = text.Split(',');
        var values = new List<double>();
        foreach (var part in parts)
        {
            if (double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && double.IsFinite(v))
            {
                values.Add(v);
            }
            else
            {
                reader.AddError($"{name}: '{part}' is not a number greater than 0");
            }
        }
        return [.. values];
    }

    private static Catalog LoadCatalog()
    {
        var path = RepoRoot.PathTo(RepoRoot.Catalog, out var why) ?? throw new InvalidOperationException(why);
        using var reader = File.OpenText(path);
        return CatalogCsv.Parse(reader, path);
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
