using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Spotwise.Bench.Workloads;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Planning;

namespace Spotwise.Bench;

/// <summary>
/// <c>planners</c>: plans Alibaba-derived queues of several sizes with each planner and prints solve time, cost,
/// lower bound, gap, validity and memory (docs/benchmarks.md).
/// </summary>
public static class PlannersCommand
{
    public const string Usage =
        "planners [--sizes 100,1000,10000,100000] [--time-limits 10,10,30,60] [--planners greedy,cpsat] [--limits default|tight|none|FILE] " +
        "[--compress 1.0] [--seed 1] [--workers 0] [--now 2026-11-24T09:00:00Z]";

    private const string DefaultTrace = RepoRoot.AlibabaPods;
    private const string DefaultCatalog = RepoRoot.Catalog;

    /// <summary>
    /// A small account (a tenth of the defaults, and 4 instances per spot pool): capacity binds on realistic queues, so
    /// the optimizer has something to do beyond picking each job's cheapest option.
    /// </summary>
    public static CapacityLimits Tight { get; } = new()
    {
        OnDemandVcpuQuotas = new Dictionary<string, int> { [QuotaClasses.Standard] = 256, ["g"] = 128, ["p"] = 96 }.ToImmutableDictionary(),
        DefaultOnDemandVcpuQuota = 32,
        DefaultSpotPoolSize = 4,
    };

    private sealed record Options(
        int[] Sizes, double[] TimeLimits, string[] Planners, string LimitsName, CapacityLimits Limits, double Compression, int Seed, int Workers, DateTimeOffset Now);

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var catalogPath = RepoRoot.PathTo(DefaultCatalog, out var why1);
        var tracePath = RepoRoot.PathTo(DefaultTrace, out var why2);
        if (catalogPath is null || tracePath is null)
        {
            stderr.WriteLine($"error: cannot find the repository's data: {why1 ?? why2}");
            return 2;
        }
        Catalog catalog;
        using (var reader = new StreamReader(catalogPath))
        {
            catalog = CatalogCsv.Parse(reader, catalogPath);
        }
        var options = ReadOptions(args, catalog, out var errors);
        if (options is null)
        {
            return ArgReader.Refuse(errors, Usage, stderr);
        }
        var trace = AlibabaTrace.Read(tracePath);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# planners on Alibaba-derived queues: seed {options.Seed}, compress {options.Compression}, limits {options.LimitsName}, {Environment.ProcessorCount} cores"));
        stdout.WriteLine("| jobs | planner | time limit s | status | planned | unplanned | expected $ | lower bound $ | gap % | solve s | violations | peak MiB |");
        stdout.WriteLine("| ---: | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        var allValid = true;
        for (var i = 0; i < options.Sizes.Length; i++)
        {
            var jobs = AlibabaWorkload.Generate(trace, options.Sizes[i], options.Seed, options.Now, options.Compression);
            var problem = new PlanningProblem(options.Now, jobs, catalog, options.Limits);
            foreach (var name in options.Planners)
            {
                var limit = options.TimeLimits[Math.Min(i, options.TimeLimits.Length - 1)];
                var row = await MeasureAsync(problem, Planning.Planners.Create(name)!, new SolveOptions { TimeLimit = TimeSpan.FromSeconds(limit), Workers = options.Workers });
                allValid &= row.Violations == 0;
                stdout.WriteLine(row.Format(options.Sizes[i], name, limit));
            }
        }
        return allValid ? 0 : 1;
    }

    private sealed record Row(Plan Plan, double WallSeconds, int Violations, long PeakMiB)
    {
        public string Format(int size, string planner, double limit)
        {
            var t = Plan.Totals;
            return string.Create(CultureInfo.InvariantCulture,
                $"| {size:N0} | {planner} | {limit:0} | {Plan.Status.ToString().ToLowerInvariant()} | {t.JobsPlanned:N0} | {t.JobsUnplanned:N0} | " +
                $"{t.ExpectedCostUsd:N2} | {t.LowerBoundUsd:N2} | {t.GapPct:0.###} | {WallSeconds:0.00} | {Violations} | {PeakMiB:N0} |");
        }
    }

    private static async Task<Row> MeasureAsync(PlanningProblem problem, IPlanner planner, SolveOptions solve)
    {
        GC.Collect();
        var clock = Stopwatch.StartNew();
        var plan = await planner.SolveAsync(problem, solve, CancellationToken.None);
        var wall = clock.Elapsed.TotalSeconds;
        var violations = PlanValidator.Validate(plan, problem).Count;
        using var self = Process.GetCurrentProcess();
        return new Row(plan, wall, violations, self.PeakWorkingSet64 / (1024 * 1024));
    }

    private static Options? ReadOptions(IReadOnlyList<string> args, Catalog catalog, out IReadOnlyList<string> errors)
    {
        var a = new ArgReader(args, ["--sizes", "--time-limits", "--planners", "--limits", "--compress", "--seed", "--workers", "--now"], []);
        var sizes = List<int>(a, "--sizes", "100,1000,10000,100000", s => int.TryParse(s, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null);
        var limits = List<double>(a, "--time-limits", "10,10,30,60", s => double.TryParse(s, CultureInfo.InvariantCulture, out var x) && x > 0 ? x : null);
        var planners = (a.Text("--planners") ?? "greedy,cpsat").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var p in planners.Where(p => Planning.Planners.Create(p) is null))
        {
            a.AddError($"--planners: '{p}' is not a planner; choose from {string.Join(", ", Planning.Planners.Names)}");
        }
        var limitsName = a.Text("--limits") ?? "default";
        var capacity = ReadLimits(a, limitsName, catalog);
        var compression = a.PositiveNumber("--compress") ?? 1.0;
        var seed = a.WholeNumber("--seed", int.MinValue, int.MaxValue) ?? 1;
        var workers = a.WholeNumber("--workers", 0, 256) ?? 0;
        var now = a.Time("--now") ?? new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
        errors = a.Errors;
        return errors.Count > 0 || sizes is null || limits is null || capacity is null
            ? null
            : new Options([.. sizes.Select(s => s!.Value)], [.. limits.Select(l => l!.Value)], planners, limitsName, capacity, compression, seed, workers, now);
    }

    internal static CapacityLimits? ReadLimits(ArgReader a, string name, Catalog catalog)
    {
        switch (name)
        {
            case "default": return CapacityLimits.Default;
            case "tight": return Tight;
            case "none": return CapacityLimits.None;
        }
        if (!File.Exists(name))
        {
            a.AddError($"--limits: '{name}' is neither default, tight, none nor an existing file");
            return null;
        }
        var parsed = LimitsFile.Parse(File.ReadAllText(name), catalog);
        foreach (var e in parsed.Errors)
        {
            a.AddError(e.ToString());
        }
        return parsed.Value;
    }

    private static List<T?>? List<T>(ArgReader a, string flag, string fallback, Func<string, T?> parse)
        where T : struct
    {
        var text = a.Text(flag) ?? fallback;
        var items = text.Split(',', StringSplitOptions.TrimEntries).Select(parse).ToList();
        if (items.Count == 0 || items.Any(i => i is null))
        {
            a.AddError($"{flag}: '{text}' must be a comma-separated list of positive numbers");
            return null;
        }
        return items;
    }
}
