using System.Globalization;
using Spotwise.Bench.Workloads;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Planning;
using Spotwise.Runtime;
using Spotwise.Runtime.Traces;
using Spotwise.Simulation.Queue;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Bench;

/// <summary>
/// <c>queue-sim</c>: a whole queue played through the real runtime against spot traces in virtual time, once per
/// policy (docs/simulation.md "Queue scenario", docs/benchmarks.md, issue 4): cost, savings, misses, wall time.
/// </summary>
public static class QueueSimCommand
{
    public const string Usage =
        "queue-sim [--jobs samples/alibaba-200.json | --generate N] [--trace-dir data/traces/aws-v100] [--instance-type p3.2xlarge] " +
        "[--policy all|spotwise|on-demand] [--planner cpsat] [--time-limit 5] [--seed 1] [--noise 0] [--store memory|sqlite] " +
        "[--start 2023-02-15T00:00:00Z] [--launch-delay 90] [--windows 1] [--gpu-on-traced-type] [--misses]";

    private static readonly DateTimeOffset TraceStart = new(2023, 2, 15, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Windows start this far apart in the 45-day V100 recording (10 windows fit with a week to spare).</summary>
    private static readonly TimeSpan WindowSpacing = TimeSpan.FromDays(3.8);

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new ArgReader(args,
            ["--jobs", "--generate", "--trace-dir", "--instance-type", "--policy", "--planner", "--time-limit", "--seed", "--noise", "--store", "--start", "--launch-delay", "--windows"], ["--misses", "--gpu-on-traced-type"]);
        var generate = a.WholeNumber("--generate", 1, 100_000);
        var jobsPath = a.Text("--jobs") ?? (generate is null ? RepoRoot.PathTo("samples/alibaba-200.json", out _) : null);
        var traceDir = a.Text("--trace-dir") ?? RepoRoot.PathTo("data/traces/aws-v100", out _);
        var instanceType = a.Text("--instance-type") ?? "p3.2xlarge";
        var policyText = a.Text("--policy") ?? "all";
        var planner = a.Text("--planner") ?? CpSatPlanner.PlannerName;
        var timeLimit = a.PositiveNumber("--time-limit") ?? 5;
        var seed = a.WholeNumber("--seed", int.MinValue, int.MaxValue) ?? 1;
        var noise = a.Text("--noise") is { } n ? Fraction(a, n) : 0;
        var storeKind = a.Text("--store") ?? "memory";
        var start = a.Time("--start") ?? TraceStart;
        var windows = a.WholeNumber("--windows", 1, 10) ?? 1;
        var launchDelay = a.Text("--launch-delay") is { } ld ? Seconds(a, "--launch-delay", ld) : TimeSpan.FromSeconds(90);
        QueuePolicy[] policies = policyText == "all" ? [QueuePolicy.Spotwise, QueuePolicy.OnDemand]
            : QueuePolicies.TryParse(policyText, out var one) ? [one] : [];
        if (policies.Length == 0)
        {
            a.AddError($"--policy: '{policyText}' is not a policy; choose all or one of {string.Join(", ", QueuePolicies.Names)}");
        }
        if (storeKind is not ("memory" or "sqlite"))
        {
            a.AddError($"--store: '{storeKind}' is not a store; choose memory or sqlite");
        }
        if (generate is not null && a.Has("--jobs"))
        {
            a.AddError("--jobs and --generate: give one queue, not both");
        }
        var catalogPath = RepoRoot.PathTo(RepoRoot.Catalog, out var why);
        if (catalogPath is null || traceDir is null)
        {
            a.AddError($"cannot find the repository's data: {why}");
        }
        if (a.Errors.Count > 0)
        {
            return ArgReader.Refuse(a.Errors, Usage, stderr);
        }

        Catalog catalog;
        IReadOnlyList<Job> jobs;
        IReadOnlyList<SpotTrace> traces;
        try
        {
            using (var reader = new StreamReader(catalogPath!))
            {
                catalog = CatalogCsv.Parse(reader, catalogPath!);
            }
            traces = SpotTraceFile.ReadDirectory(traceDir!, instanceType, start);
            jobs = generate is { } count ? Generated(count, seed, start) : Read(jobsPath!, start, catalog);
            if (a.Has("--gpu-on-traced-type"))
            {
                jobs = OnTracedType(jobs, instanceType);
            }
        }
        catch (Exception e) when (e is IOException or FormatException or InvalidDataException)
        {
            return ArgReader.Refuse([e.Message], Usage, stderr);
        }

        var queue = (generate is { } g ? $"{g:N0} generated Alibaba jobs (seed {seed})" : Path.GetFileName(jobsPath!))
            + (a.Has("--gpu-on-traced-type") ? $" (GPU jobs on {instanceType} only)" : "");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"queue-sim: {queue} against {traces.Count} zones of {instanceType} ({Path.GetFileName(traceDir!.TrimEnd('/'))}), " +
            $"planner {planner}, seed {seed}, noise {noise:0.##}, launch delay {launchDelay.TotalSeconds:0} s, store {storeKind}, from {start:yyyy-MM-dd HH:mm}Z"));
        stdout.WriteLine();
        stdout.WriteLine("trace day  policy     jobs  cost $      on-demand $  savings  misses  interrupted  refused  fallbacks  cycles  planner p50/p95 ms  virtual h  wall s");
        var results = new List<QueueSimulationResult>();
        for (var w = 0; w < windows; w++)
        {
            // Window w begins WindowSpacing × w into the recording: the traces are anchored that much before the start.
            var offset = WindowSpacing * w;
            var anchored = traces.Select(t => t.StartingAt(start - offset)).ToList();
            foreach (var policy in policies)
            {
                var scenario = new QueueScenario
                {
                    Jobs = jobs,
                    Catalog = catalog,
                    SpotTraces = anchored,
                    Policy = policy,
                    Planner = planner,
                    Solve = SolveOptions.Default with { TimeLimit = TimeSpan.FromSeconds(timeLimit), Workers = 1 },
                    Start = start,
                    Seed = seed,
                    DurationNoiseFraction = noise,
                    LaunchDelay = launchDelay,
                };
                if (await RunOneAsync(scenario, storeKind == "sqlite", stderr) is not { } r)
                {
                    return 2;
                }
                results.Add(r);
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{offset.TotalDays,9:0}  {policy.ToWire(),-9}  {r.Jobs,4}  {r.TotalCostUsd,10:N2}  {r.OnDemandBaselineCostUsd,11:N2}  {r.SavingsPct,6:0.0}%  {r.DeadlineMisses,6}  " +
                    $"{r.Interruptions,11}  {r.SpotRefusals,7}  {r.Fallbacks,9}  {r.Cycles,6}  {r.PlannerP50Seconds * 1000,9:0.0}/{r.PlannerP95Seconds * 1000,-6:0.0}  " +
                    $"{r.VirtualDuration.TotalHours,9:0.0}  {r.WallTime.TotalSeconds,6:0.0}"));
                if (a.Has("--misses"))
                {
                    WriteMisses(stdout, r);
                }
            }
        }
        if (windows > 1)
        {
            foreach (var group in results.GroupBy(r => r.Policy))
            {
                stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{group.Key.ToWire()} over {windows} windows: savings mean {group.Average(r => r.SavingsPct):0.0}%, min {group.Min(r => r.SavingsPct):0.0}%, " +
                    $"max {group.Max(r => r.SavingsPct):0.0}%; misses {group.Sum(r => r.DeadlineMisses)}; interruptions {group.Sum(r => r.Interruptions)}"));
            }
        }
        return 0;
    }

    /// <summary>One run, on a fresh SQLite file when asked (deleted after); null when the scenario was refused.</summary>
    private static async Task<QueueSimulationResult?> RunOneAsync(QueueScenario scenario, bool sqlite, TextWriter stderr)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"spotwise-queue-sim-{Guid.NewGuid():N}");
        try
        {
            var withStore = sqlite ? scenario with { Store = async ct => await SqliteJobStore.OpenAsync(Path.Combine(folder, "jobs.db"), ct) } : scenario;
            return await QueueSimulation.RunAsync(withStore, null, CancellationToken.None);
        }
        catch (ArgumentException e)
        {
            ArgReader.Refuse([e.Message], Usage, stderr);
            return null;
        }
        finally
        {
            if (Directory.Exists(folder))
            {
                Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
                Directory.Delete(folder, recursive: true);
            }
        }
    }

    /// <summary>Each missed job: how late (or in what state), on what, and why.</summary>
    private static void WriteMisses(TextWriter stdout, QueueSimulationResult r)
    {
        foreach (var o in r.Outcomes.Where(o => !o.MetDeadline))
        {
            var late = o.Finish is { } f && o.Deadline is { } d ? $"{(f - d).TotalMinutes:0.0} min late" : o.State.ToWire();
            var job = o.Deadline is { } due ? $"due {due:MM-dd HH:mm:ss}" : "no deadline";
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"    missed {o.JobId}: {late}, {job}, started {o.Start:MM-dd HH:mm:ss} on {string.Join("/", o.Markets.Select(m => m.ToWire()))} {o.InstanceType}, {o.LastError}"));
        }
    }

    /// <summary>
    /// The queue with every GPU job asking for the traced type only: the shipped catalog's cheapest fits are T4 and A10G
    /// machines no trace covers, so without this the V100 traces hardly touch the queue.
    /// </summary>
    private static IReadOnlyList<Job> OnTracedType(IReadOnlyList<Job> jobs, string instanceType) =>
        [.. jobs.Select(j => j.Resources.MinGpus > 0 ? j with { Resources = ResourceRequest.ForInstanceTypes([instanceType]) } : j)];

    private static TimeSpan Seconds(ArgReader a, string flag, string text)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x is >= 0 and <= 86_400)
        {
            return TimeSpan.FromSeconds(x);
        }
        a.AddError($"{flag}: '{text}' is not a number of seconds from 0 to 86400");
        return TimeSpan.Zero;
    }

    private static double Fraction(ArgReader a, string text)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x is >= 0 and < 1)
        {
            return x;
        }
        a.AddError($"--noise: '{text}' is not a fraction in [0, 1)");
        return 0;
    }

    private static System.Collections.Immutable.ImmutableArray<Job> Read(string path, DateTimeOffset start, Catalog catalog)
    {
        var parsed = JobsFile.Parse(File.ReadAllText(path), start, catalog);
        return parsed.Errors.Count == 0 ? parsed.Value
            : throw new FormatException($"{path}: " + string.Join("; ", parsed.Errors.Take(5)));
    }

    private static IReadOnlyList<Job> Generated(int count, int seed, DateTimeOffset start)
    {
        var trace = RepoRoot.PathTo(RepoRoot.AlibabaPods, out var why)
            ?? throw new IOException($"cannot find the Alibaba trace: {why}");
        return AlibabaWorkload.Generate(AlibabaTrace.Read(trace), count, seed, start);
    }
}
