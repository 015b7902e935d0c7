using System.CommandLine;
using System.Globalization;
using Spotwise.Core;
using Spotwise.Runtime.Traces;
using Spotwise.Simulation.Plots;
using Spotwise.Simulation.Scenarios;

namespace Spotwise.Cli;

/// <summary>
/// <c>spotwise simulate</c>: replays real spot traces against one job (many start points) with each policy, on the
/// simulated cloud in virtual time, and reports cost, score and deadline misses per policy (docs/simulation.md).
/// </summary>
public static class SimulateCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr)
    {
        var trace = new Option<string?>("--trace") { Description = "One zone's trace file (e.g. data/traces/aws-v100/us-west-2a_v100_1.json)" };
        var traceDir = new Option<string?>("--trace-dir") { Description = "A folder of zones' traces aligned in time: the job may move between zones" };
        var windows = new Option<string?>("--windows") { Description = "A folder of trace windows, each replayed from index 0 of its data: a file is one zone's scenario, a sub-folder one multi-zone scenario (its files are the zones)" };
        var traceFormat = new Option<string?>("--trace-format") { Description = "counts (spot instances obtainable, 0 = none) or preempted (1 = unavailable); default counts, preempted with --windows" };
        var jobs = new Option<string?>("--jobs") { Description = "A queue of jobs to run against the traces (the queue scenario)" };
        var jobHours = new Option<double>("--job-hours") { Description = "Work in the job, hours", DefaultValueFactory = _ => 48 };
        var deadlineHours = new Option<double>("--deadline-hours") { Description = "Deadline, hours after the job's start", DefaultValueFactory = _ => 52 };
        var overheadHours = new Option<double>("--overhead-hours") { Description = "Changeover (restart) overhead paid at every start or switch, hours", DefaultValueFactory = _ => 0.05 };
        var starts = new Option<int>("--starts") { Description = "Random start points in the trace", DefaultValueFactory = _ => 300 };
        var seed = new Option<int>("--seed") { Description = "Seed of the start points", DefaultValueFactory = _ => 1 };
        var policy = new Option<string>("--policy")
        {
            Description = $"Policies, comma-separated, or all: {string.Join(", ", SpotPolicies.Names)}. spotwise is the policy serve runs; the others are research baselines",
            DefaultValueFactory = _ => "all",
        };
        var instanceType = new Option<string?>("--instance-type") { Description = "Instance type whose catalog prices apply where the trace has none (default: the trace's, else p3.2xlarge)" };
        var onDemandPrice = new Option<double?>("--on-demand-price") { Description = "On-demand $/h (overrides the trace's and the catalog's)" };
        var spotPrice = new Option<double?>("--spot-price") { Description = "Spot $/h, constant (overrides the trace's prices)" };
        var format = new Option<string>("--format") { Description = "Output: table or json", DefaultValueFactory = _ => "table" };
        var plot = new Option<string?>("--plot") { Description = "Write PNG charts into this folder: cost per policy, and one run's timeline" };
        var catalog = new Option<string?>("--catalog") { Description = "Price catalog CSV (default: the shipped data/catalog/aws-us-east-1.csv)" };
        var command = new Command("simulate", "Replay real spot traces: what each policy pays for a job with a deadline, and whether it is late")
        {
            trace, traceDir, windows, traceFormat, jobs, jobHours, deadlineHours, overheadHours, starts, seed, policy, instanceType,
            onDemandPrice, spotPrice, format, plot, catalog,
        };
        command.SetAction((parse, ct) =>
        {
            var request = new SimulateRequest(
                parse.GetValue(trace), parse.GetValue(traceDir), parse.GetValue(windows), TraceFormatOf(parse.GetValue(traceFormat), parse.GetValue(windows)), parse.GetValue(jobs),
                parse.GetValue(jobHours), parse.GetValue(deadlineHours), parse.GetValue(overheadHours), parse.GetValue(starts), parse.GetValue(seed),
                parse.GetValue(policy)!, parse.GetValue(instanceType), parse.GetValue(onDemandPrice), parse.GetValue(spotPrice),
                parse.GetValue(format)!, parse.GetValue(plot), parse.GetValue(catalog));
            return RunAsync(request, stdout, stderr, ct);
        });
        return command;
    }

    // Published Can't Be Late windows mark 1 = preempted (sky_spot env.py: available = not data[i]), so that is how
    // --windows reads them unless told otherwise; the other sources keep the skypilot availability counts.
    private static string TraceFormatOf(string? given, string? windows) => given ?? (windows is null ? "counts" : "preempted");

    public static async Task<int> RunAsync(SimulateRequest request, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var errors = Check(request);
        if (request.JobsPath is not null)
        {
            // The single-job checks that do not apply to a queue (its policies are its own) are left to the queue runner.
            errors.RemoveAll(e => e.StartsWith("--policy:", StringComparison.Ordinal));
            return await SimulateQueue.RunAsync(request, errors, stdout, stderr, ct);
        }
        var catalog = errors.Count == 0 ? Load(Inputs.LoadCatalog(request.CatalogPath), errors) : null;
        var cases = catalog is null ? null : Cases(request, catalog, errors);
        if (cases is null || errors.Count > 0)
        {
            foreach (var e in errors)
            {
                stderr.WriteLine($"error: {e}");
            }
            return ExitCodes.BadInput;
        }

        var policies = Policies(request.Policy);
        var progress = new ProgressBar(stderr, cases.Sum(c => c.Scenarios.Count));
        var results = policies.ToDictionary(p => p, _ => new List<RunResult>(), StringComparer.Ordinal);
        foreach (var (market, scenarios) in cases)
        {
            var done = progress.Done;
            foreach (var (name, runs) in SimulationSweep.Run(market, scenarios, policies, n => progress.Report(done + n), ct))
            {
                results[name].AddRange(runs);
            }
        }
        progress.Finish();

        var summaries = policies.Select(p => PolicySummary.Of(p, results[p])).ToList();
        var scenario = SimulationReport.Describe(request, cases);
        stdout.Write(request.Format == "json" ? SimulationReport.Json(scenario, summaries) + "\n" : SimulationReport.Table(scenario, summaries));
        if (request.PlotDirectory is not null)
        {
            var (market, scenarios) = cases[0];
            // The timeline shows spotwise's run when it was simulated, else the first policy asked for.
            var shown = policies.Contains(Simulation.Scenarios.Policies.SpotwisePolicy.Name) ? Simulation.Scenarios.Policies.SpotwisePolicy.Name : policies[0];
            var timeline = ScenarioEngine.Run(market, scenarios[0], SpotPolicies.Create(shown, market, scenarios[0]), recordTimeline: true);
            foreach (var file in SimulationPlots.Write(request.PlotDirectory, summaries, market, scenarios[0], shown, timeline))
            {
                stderr.WriteLine($"wrote {file}");
            }
        }
        return summaries.Any(s => s.DeadlineMisses > 0 && s.Policy != Simulation.Scenarios.Policies.OmniscientPolicy.Name) ? ExitCodes.Partial : ExitCodes.Ok;
    }

    private static List<string> Check(SimulateRequest r)
    {
        var errors = new List<string>();
        var sources = new[] { ("--trace", r.TracePath), ("--trace-dir", r.TraceDirectory), ("--windows", r.WindowsDirectory) }.Where(s => s.Item2 is not null).ToList();
        if (sources.Count == 0)
        {
            errors.Add("--trace: give one of --trace FILE, --trace-dir DIR or --windows DIR");
        }
        else if (sources.Count > 1)
        {
            errors.Add($"{sources[1].Item1}: cannot be used with {sources[0].Item1}; give one trace source");
        }
        if (r.TraceFormat is not ("counts" or "preempted"))
        {
            errors.Add($"--trace-format: '{r.TraceFormat}' is not a format; choose counts or preempted");
        }
        if (r.Format is not ("table" or "json"))
        {
            errors.Add($"--format: '{r.Format}' is not a format; choose table or json");
        }
        foreach (var name in r.Policy.Split(',').Where(p => p != "all" && !SpotPolicies.Names.Contains(p)))
        {
            errors.Add($"--policy: '{name}' is not a policy; choose from {string.Join(", ", SpotPolicies.Names)} or all");
        }
        if (r.Starts is < 1 or > 100_000)
        {
            errors.Add(Inv($"--starts: {r.Starts} must be between 1 and 100000"));
        }
        if (r.Seed < 0)
        {
            errors.Add(Inv($"--seed: {r.Seed} must be >= 0"));
        }
        Positive(errors, "--job-hours", r.JobHours);
        Positive(errors, "--deadline-hours", r.DeadlineHours);
        if (!(r.OverheadHours >= 0) || !double.IsFinite(r.OverheadHours))
        {
            errors.Add(Inv($"--overhead-hours: {r.OverheadHours} must be a number >= 0"));
        }
        if (r.OnDemandPrice is { } od)
        {
            Positive(errors, "--on-demand-price", od);
        }
        if (r.SpotPrice is { } sp && (!(sp >= 0) || !double.IsFinite(sp)))
        {
            errors.Add(Inv($"--spot-price: {sp} must be a number >= 0"));
        }
        return errors;
    }

    // The markets and their scenarios: random starts in one market, or one scenario per window (a file or a sub-folder).
    private static List<(ZoneTraces Market, IReadOnlyList<JobScenario> Scenarios)>? Cases(SimulateRequest r, Catalog catalog, List<string> errors)
    {
        var source = new MarketSource(r.TraceFormat == "preempted" ? TraceFormat.Preempted : TraceFormat.Counts, r.InstanceType, r.OnDemandPrice, r.SpotPrice);
        if (r.WindowsDirectory is { } dir)
        {
            // Every window from index 0 of its data, as the published benchmark replays it (docs/simulation.md).
            var windows = TraceWindows.Load(dir, new JobScenario(r.JobHours, r.DeadlineHours, r.OverheadHours, 0), source, catalog, errors);
            return windows?.Select(w => (w.Market, (IReadOnlyList<JobScenario>)[w.Scenario])).ToList();
        }
        var one = r.TracePath is { } path ? MarketLoader.FromFile(path, source, catalog, errors) : MarketLoader.FromDirectory(r.TraceDirectory!, source, catalog, errors);
        if (one is null)
        {
            return null;
        }
        var probe = new JobScenario(r.JobHours, r.DeadlineHours, r.OverheadHours, 0);
        if (!Valid(probe, one, errors, ""))
        {
            return null;
        }
        var scenarios = SimulationSweep.DrawStarts(one, r.DeadlineHours, r.Starts, r.Seed).Select(s => probe with { StartTick = s }).ToList();
        return [(one, scenarios)];
    }

    private static bool Valid(JobScenario scenario, ZoneTraces market, List<string> errors, string prefix)
    {
        var problems = scenario.Validate(market);
        errors.AddRange(problems.Select(p => prefix + p));
        return problems.Count == 0;
    }

    private static IReadOnlyList<string> Policies(string text) =>
        text.Split(',').Contains("all") ? SpotPolicies.Names : [.. text.Split(',').Distinct()];

    private static void Positive(List<string> errors, string flag, double value)
    {
        if (!(value > 0) || !double.IsFinite(value))
        {
            errors.Add(Inv($"{flag}: {value} must be a number > 0"));
        }
    }

    private static T? Load<T>(Core.Serialization.ParseResult<T> result, List<string> errors)
    {
        errors.AddRange(result.Errors.Select(e => e.ToString()));
        return result.Value;
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The simulate command's arguments, as the user gave them.</summary>
public sealed record SimulateRequest(
    string? TracePath,
    string? TraceDirectory,
    string? WindowsDirectory,
    string TraceFormat,
    string? JobsPath,
    double JobHours,
    double DeadlineHours,
    double OverheadHours,
    int Starts,
    int Seed,
    string Policy,
    string? InstanceType,
    double? OnDemandPrice,
    double? SpotPrice,
    string Format,
    string? PlotDirectory,
    string? CatalogPath);

/// <summary>A one-line progress bar on stderr, redrawn at most a hundred times.</summary>
internal sealed class ProgressBar(TextWriter stderr, int total, string unit = "scenarios")
{
    private readonly Lock _lock = new();
    private int _shownPercent = -1;

    public int Done { get; private set; }

    public void Report(int done)
    {
        lock (_lock)
        {
            Done = Math.Max(Done, done);
            var percent = total == 0 ? 100 : Done * 100 / total;
            if (percent == _shownPercent)
            {
                return;
            }
            _shownPercent = percent;
            var filled = percent / 4;
            stderr.Write(string.Create(CultureInfo.InvariantCulture, $"\rsimulating [{new string('#', filled)}{new string('.', 25 - filled)}] {percent,3}% ({Done}/{total} {unit})"));
        }
    }

    public void Finish()
    {
        Report(total);
        stderr.WriteLine();
    }
}
