using System.Globalization;
using System.Text;
using System.Text.Json;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Traces;
using Spotwise.Simulation.Queue;

namespace Spotwise.Cli;

/// <summary>
/// <c>simulate --jobs FILE</c>: the queue scenario. The whole queue runs through the real Scheduler, ReconcileLoop and
/// SimulatedCloud in virtual time against the traces (<see cref="QueueSimulation"/>, docs/simulation.md); prints total
/// cost, misses and each job's outcome per policy (<c>spotwise</c>, <c>on-demand</c>, or <c>all</c> for both).
/// </summary>
internal static class SimulateQueue
{
    /// <summary>Where the shipped V100 traces begin; relative job times (<c>+2h</c>) are read against it.</summary>
    public static readonly DateTimeOffset Start = new(2023, 2, 15, 0, 0, 0, TimeSpan.Zero);

    public static async Task<int> RunAsync(SimulateRequest request, List<string> errors, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var policies = Policies(request.Policy, errors);
        var catalog = Load(Inputs.LoadCatalog(request.CatalogPath), errors);
        var jobs = catalog is null ? default : Load(Inputs.LoadJobs(request.JobsPath!, Start, catalog), errors);
        var traces = errors.Count == 0 ? Traces(request, errors) : null;
        if (errors.Count > 0 || catalog is null || jobs.IsDefault || traces is null)
        {
            foreach (var e in errors)
            {
                stderr.WriteLine($"error: {e}");
            }
            return ExitCodes.BadInput;
        }

        var results = new List<QueueSimulationResult>();
        foreach (var policy in policies)
        {
            var scenario = new QueueScenario { Jobs = jobs, Catalog = catalog, SpotTraces = traces, Start = Start, Policy = policy, Seed = request.Seed };
            if (scenario.Validate() is { Count: > 0 } problems)
            {
                problems.ToList().ForEach(p => stderr.WriteLine($"error: {p}"));
                return ExitCodes.BadInput;
            }
            var progress = new ProgressBar(stderr, jobs.Length, $"jobs done, {policy.ToWire()}");
            results.Add(await QueueSimulation.RunAsync(scenario, new Progress(progress), ct));
            progress.Finish();
        }
        stdout.Write(request.Format == "json" ? Json(request, traces, results) + "\n" : Table(results));
        return results.Any(r => r.DeadlineMisses > 0) ? ExitCodes.Partial : ExitCodes.Ok;
    }

    private sealed class Progress(ProgressBar bar) : IProgress<QueueProgress>
    {
        public void Report(QueueProgress value) => bar.Report(value.JobsDone);
    }

    private static List<QueuePolicy> Policies(string text, List<string> errors)
    {
        var policies = new List<QueuePolicy>();
        foreach (var name in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (name == "all")
            {
                policies.AddRange([QueuePolicy.Spotwise, QueuePolicy.OnDemand]);
            }
            else if (QueuePolicies.TryParse(name, out var p))
            {
                policies.Add(p);
            }
            else
            {
                errors.Add($"--policy: '{name}' is not a queue policy; with --jobs choose {string.Join(", ", QueuePolicies.Names)} or all");
            }
        }
        return [.. policies.Distinct()];
    }

    private static IReadOnlyList<SpotTrace>? Traces(SimulateRequest r, List<string> errors)
    {
        var format = r.TraceFormat == "preempted" ? TraceFormat.Preempted : TraceFormat.Counts;
        var type = r.InstanceType ?? "p3.2xlarge";
        try
        {
            return r.TraceDirectory is { } dir ? SpotTraceFile.ReadDirectory(dir, type, Start, format)
                : r.TracePath is { } file ? [SpotTraceFile.ReadWithFolderPrices(file, type, Start, format)]
                : Fail(errors, "--trace-dir: the queue scenario takes --trace-dir DIR or --trace FILE, not --windows");
        }
        catch (Exception e) when (e is IOException or FormatException or JsonException or ArgumentException)
        {
            return Fail(errors, $"{(r.TraceDirectory is null ? "--trace" : "--trace-dir")}: {e.Message}");
        }
    }

    private static IReadOnlyList<SpotTrace>? Fail(List<string> errors, string message)
    {
        errors.Add(message);
        return null;
    }

    private static T? Load<T>(Core.Serialization.ParseResult<T> result, List<string> errors)
    {
        errors.AddRange(result.Errors.Select(e => e.ToString()));
        return result.Ok ? result.Value : default;
    }

    private static string Table(IReadOnlyList<QueueSimulationResult> results)
    {
        var text = new StringBuilder();
        text.AppendLine("policy     jobs  cost $      on-demand $  savings  misses  unplanned  interrupted  fallbacks  cycles  planner p50/p95 ms  virtual h");
        foreach (var r in results)
        {
            text.Append(Inv($"{r.Policy.ToWire(),-9}  {r.Jobs,4}  {r.TotalCostUsd,10:N2}  {r.OnDemandBaselineCostUsd,11:N2}  {r.SavingsPct,6:0.0}%  {r.DeadlineMisses,6}  {r.Unplanned,9}  "));
            text.AppendLine(Inv($"{r.Interruptions,11}  {r.Fallbacks,9}  {r.Cycles,6}  {r.PlannerP50Seconds * 1000,9:0.0}/{r.PlannerP95Seconds * 1000,-6:0.0}  {r.VirtualDuration.TotalHours,9:0.0}"));
        }
        foreach (var r in results)
        {
            text.AppendLine();
            text.AppendLine($"{r.Policy.ToWire()}: per job");
            text.AppendLine("job                      state      markets           instance type   zone        start             finish            deadline          met  cost $  unplanned: why");
            foreach (var o in r.Outcomes)
            {
                text.Append(Inv($"{o.JobId,-24} {o.State.ToWire(),-10} {string.Join("+", o.Markets.Select(m => m.ToWire())),-17} {o.InstanceType ?? "-",-15} {o.Zone ?? "-",-11} "));
                text.AppendLine(Inv($"{Time(o.Start),-17} {Time(o.Finish),-17} {Time(o.Deadline),-17} {(o.MetDeadline ? "yes" : "NO"),-4} {o.CostUsd,6:0.00}  {o.UnplannedReason}").TrimEnd());
            }
        }
        return text.ToString();
    }

    private static string Time(DateTimeOffset? t) => t is { } v ? v.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) : "-";

    /// <summary>The issue's document shape: <c>{"scenario": {...}, "policies": {"NAME": {...}}}</c>, per-job outcomes included.</summary>
    private static string Json(SimulateRequest request, IReadOnlyList<SpotTrace> traces, IReadOnlyList<QueueSimulationResult> results)
    {
        var document = new
        {
            scenario = new
            {
                kind = "queue",
                jobs = request.JobsPath,
                traceZones = traces.Select(t => t.Zone).ToArray(),
                instanceType = traces.Count > 0 ? traces[0].InstanceType : null,
                start = Start,
                seed = request.Seed,
            },
            policies = results.ToDictionary(r => r.Policy.ToWire(), r => new
            {
                meanCostUsd = r.Jobs > 0 ? r.TotalCostUsd / r.Jobs : 0,
                totalCostUsd = r.TotalCostUsd,
                onDemandCostUsd = r.OnDemandBaselineCostUsd,
                savingsPct = r.SavingsPct,
                deadlineMisses = r.DeadlineMisses,
                unplanned = r.Unplanned,
                runs = 1,
                jobs = r.Jobs,
                succeeded = r.Succeeded,
                interruptions = r.Interruptions,
                fallbacks = r.Fallbacks,
                spotRefusals = r.SpotRefusals,
                cycles = r.Cycles,
                plannerP50Seconds = r.PlannerP50Seconds,
                plannerP95Seconds = r.PlannerP95Seconds,
                virtualHours = r.VirtualDuration.TotalHours,
                outcomes = r.Outcomes.Select(o => new
                {
                    jobId = o.JobId,
                    state = o.State.ToWire(),
                    markets = o.Markets.Select(m => m.ToWire()).ToArray(),
                    instanceType = o.InstanceType,
                    zone = o.Zone,
                    start = o.Start,
                    finish = o.Finish,
                    deadline = o.Deadline,
                    metDeadline = o.MetDeadline,
                    costUsd = o.CostUsd,
                    attempts = o.Attempts,
                    interruptions = o.Interruptions,
                    lastError = o.LastError,
                    unplannedReason = o.UnplannedReason,
                }),
            }),
        };
        return JsonSerializer.Serialize(document, Indented);
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
