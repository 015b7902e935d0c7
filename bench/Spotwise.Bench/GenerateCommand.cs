using System.Globalization;
using Spotwise.Bench.Workloads;
using Spotwise.Core;
using Spotwise.Core.Serialization;

namespace Spotwise.Bench;

/// <summary>
/// <c>generate</c>: writes a job queue derived from the Alibaba GPU trace (docs/workloads.md) and prints its figures.
/// </summary>
public static class GenerateCommand
{
    public const string Usage =
        "generate --jobs N --out FILE [--seed 1] [--relative] [--compress 1.0] [--now 2026-11-24T09:00:00Z] " +
        "[--trace data/workloads/alibaba-gpu-2023-pods.csv] [--catalog data/catalog/aws-us-east-1.csv] [--stats] [--no-teams]";

    private const string DefaultTrace = RepoRoot.AlibabaPods;
    private const string DefaultCatalog = RepoRoot.Catalog;

    private sealed record Options(
        int Jobs, int Seed, string Out, bool Relative, double Compression, DateTimeOffset Now, string Trace, string Catalog, bool Stats)
    {
        /// <summary>Leave <c>team</c> out, so one API key can submit the file (the shipped sample is made so).</summary>
        public bool NoTeams { get; init; }
    }

    public static int Run(IReadOnlyList<string> args, TimeProvider time, TextWriter stdout, TextWriter stderr)
    {
        var options = ReadOptions(args, time, out var errors);
        if (options is null)
        {
            return Fail(stderr, errors);
        }
        AlibabaTrace trace;
        Catalog catalog;
        try
        {
            trace = AlibabaTrace.Read(options.Trace);
            using var catalogReader = new StreamReader(options.Catalog);
            catalog = CatalogCsv.Parse(catalogReader, options.Catalog);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return Fail(stderr, [e.Message]);
        }
        var jobs = AlibabaWorkload.Generate(trace, options.Jobs, options.Seed, options.Now, options.Compression);
        WriteQueue(options, jobs);
        var stats = WorkloadStats.Of(jobs, catalog);
        stdout.WriteLine(Summary(options, trace, stats));
        if (options.Stats)
        {
            stdout.Write(Details(trace, stats));
        }
        return 0;
    }

    private static Options? ReadOptions(IReadOnlyList<string> args, TimeProvider time, out IReadOnlyList<string> errors)
    {
        var a = new ArgReader(args, ["--jobs", "--seed", "--out", "--compress", "--now", "--trace", "--catalog"], ["--relative", "--stats", "--no-teams"]);
        var jobs = a.WholeNumber("--jobs", 1, 10_000_000, required: true);
        var seed = a.WholeNumber("--seed", int.MinValue, int.MaxValue) ?? 1;
        var output = a.Text("--out", required: true);
        var compression = a.PositiveNumber("--compress") ?? 1.0;
        // Whole minutes keep absolute times in the file readable; with --relative the moment does not show at all.
        var now = a.Time("--now") ?? TruncateToMinute(time.GetUtcNow());
        var trace = DataPath(a, "--trace", DefaultTrace);
        var catalog = DataPath(a, "--catalog", DefaultCatalog);
        errors = a.Errors;
        return errors.Count > 0 || jobs is null || output is null || trace is null || catalog is null
            ? null
            : new Options(jobs.Value, seed, output, a.Has("--relative"), compression, now, trace, catalog, a.Has("--stats")) { NoTeams = a.Has("--no-teams") };
    }

    /// <summary>A given path must exist; a default one is found under the repository root.</summary>
    private static string? DataPath(ArgReader a, string flag, string defaultRelative)
    {
        if (a.Text(flag) is { } given)
        {
            return File.Exists(given) ? given : Error(a, $"{flag}: '{given}' does not exist");
        }
        var path = RepoRoot.PathTo(defaultRelative, out var why);
        return path is null ? Error(a, $"{flag}: not given, and the default {defaultRelative} cannot be found: {why}")
            : File.Exists(path) ? path : Error(a, $"{flag}: not given, and the default {path} does not exist");
    }

    private static string? Error(ArgReader a, string message)
    {
        a.AddError(message);
        return null;
    }

    private static void WriteQueue(Options options, IReadOnlyList<Job> jobs)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(options.Out));
        if (directory is not null)
        {
            Directory.CreateDirectory(directory);
        }
        var written = options.NoTeams ? jobs.Select(j => j with { Team = null }) : jobs;
        File.WriteAllText(options.Out, JobsFileWriter.Write(written, options.Relative ? options.Now : null));
    }

    private static string Summary(Options o, AlibabaTrace trace, WorkloadStats s) => string.Create(CultureInfo.InvariantCulture,
        $"{o.Out}: {s.Jobs} jobs (seed {o.Seed}, {trace.Tasks.Count} usable trace tasks{(s.Jobs > trace.Tasks.Count ? ", tiled" : "")}), " +
        $"{s.GpuJobs} GPU jobs, {s.Checkpointable} checkpointable, earliest starts over {s.EarliestStartSpan.TotalHours:0.#} h, " +
        $"median duration {s.DurationP50Hours * 60:0.#} min, {s.Unsatisfiable} requests no catalog type meets");

    private static string Details(AlibabaTrace t, WorkloadStats s)
    {
        var w = new StringWriter(CultureInfo.InvariantCulture);
        w.WriteLine($"trace: {t.Rows} pods, {t.NeverScheduled} never scheduled, {t.NoPositiveRunTime} without a positive run time, " +
            $"{t.Censored} still running at the trace end (censored), {t.Tasks.Count} usable; span {t.SpanSeconds / 86400:0.#} days");
        w.WriteLine($"GPU jobs: {s.GpuJobs} ({Percent(s.GpuJobs, s.Jobs)}), of which multi-GPU {s.MultiGpuJobs}; checkpointable {s.Checkpointable}");
        w.WriteLine($"duration: p50 {s.DurationP50Hours:0.###} h, p90 {s.DurationP90Hours:0.###} h; " +
            $"raised to {AlibabaWorkload.MinDuration.TotalMinutes:0} min: {s.AtMinDuration}, cut to {AlibabaWorkload.MaxDuration.TotalHours:0} h: {s.AtMaxDuration}");
        w.WriteLine($"slack (deadline - earliest start - duration), p10/p50/p90: {Join(s.SlackHoursQuantiles, "0.###")} h; " +
            $"as a share of the duration: {Join(s.SlackShareQuantiles, "0.##")}");
        w.WriteLine($"priority: {string.Join(", ", s.ByPriority.Select(p => $"{p.Key}: {p.Value}"))}");
        w.WriteLine($"requests no catalog type meets: {s.Unsatisfiable} ({Percent(s.Unsatisfiable, s.Jobs)})");
        w.WriteLine($"cheapest on-demand fit: {string.Join(", ", s.CheapestFits.Take(8).Select(p => $"{p.Key} {p.Value}"))}");
        return w.ToString();
    }

    private static string Percent(int part, int whole) => string.Create(CultureInfo.InvariantCulture, $"{100.0 * part / whole:0.#}%");

    private static string Join(IEnumerable<double> values, string format) =>
        string.Join(" / ", values.Select(v => v.ToString(format, CultureInfo.InvariantCulture)));

    private static DateTimeOffset TruncateToMinute(DateTimeOffset t) => new(t.Ticks - t.Ticks % TimeSpan.TicksPerMinute, t.Offset);

    private static int Fail(TextWriter stderr, IEnumerable<string> errors)
    {
        foreach (var e in errors)
        {
            stderr.WriteLine($"generate: {e}");
        }
        stderr.WriteLine($"usage: {Usage}");
        return 2;
    }
}
