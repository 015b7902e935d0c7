using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Bench.Workloads;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Planning;
using Spotwise.Planning.Llm;
using Spotwise.Testing;

namespace Spotwise.Bench;

/// <summary>
/// <c>llm-eval</c>: the concept's claim, measured. The seed sample and Alibaba-derived queues go through llm, hybrid,
/// greedy and cpsat; per planner it prints how often the model's raw proposal was valid, its violations per plan,
/// cost against the CP-SAT plan and latency. With a key (GEMINI_API_KEY, or SPOTWISE_LLM_ENDPOINT and
/// SPOTWISE_LLM_API_KEY) it asks the real model; without one, the scripted server in-process, and says so.
/// </summary>
public static class LlmEvalCommand
{
    public const string Usage =
        "llm-eval [--sizes 20,100,500] [--limits default|tight|none|FILE] [--time-limit 10] [--seed 1] [--workers 0] " +
        "[--model M] [--llm-provider gemini|openai] [--llm-timeout 120] [--now 2026-11-24T09:00:00Z]";

    private const string DefaultTrace = RepoRoot.AlibabaPods;
    private const string DefaultCatalog = RepoRoot.Catalog;
    private const string SeedSample = "samples/seed-jobs.json";

    private static readonly string[] Order = [LlmPlanner.LlmName, LlmPlanner.HybridName, GreedyPlanner.PlannerName, CpSatPlanner.PlannerName];

    private sealed record Options(int[] Sizes, string LimitsName, CapacityLimits Limits, double TimeLimit, int Seed, int Workers,
        string? Model, string? Provider, double LlmTimeout, DateTimeOffset Now);

    /// <summary>One planner on one queue.</summary>
    private sealed record Row(string Queue, string Planner, Plan Plan, double WallSeconds, int FinalViolations, double? CostVsCpSatPct);

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var catalogPath = RepoRoot.PathTo(DefaultCatalog, out var why1);
        var tracePath = RepoRoot.PathTo(DefaultTrace, out var why2);
        var seedPath = RepoRoot.PathTo(SeedSample, out var why3);
        if (catalogPath is null || tracePath is null || seedPath is null)
        {
            stderr.WriteLine($"error: cannot find the repository's data: {why1 ?? why2 ?? why3}");
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
        var (real, error) = LlmEnvironment.Resolve(options.Provider, options.Model, Environment.GetEnvironmentVariable);
        if (real is null && options.Provider is not null)
        {
            return ArgReader.Refuse([$"--llm-provider: {error}"], Usage, stderr);
        }
        await using var scripted = real is null
            ? await ScriptedModelServer.StartAsync(r => new ScriptedReply(Text: ScriptedModelServer.NaiveAnswer(r.Prompt)))
            : null;
        var settings = (real ?? new LlmSettings { Provider = LlmProvider.Gemini, Model = "scripted-naive", Endpoint = scripted!.BaseUri, ApiKey = "scripted" })
            with
        { RequestTimeout = TimeSpan.FromSeconds(options.LlmTimeout) };
        stdout.WriteLine(real is not null
            ? $"# llm-eval against the real model {settings.Describe()} at {settings.Endpoint.GetLeftPart(UriPartial.Authority)}"
            : "# llm-eval against the SCRIPTED in-process model server (no GEMINI_API_KEY or SPOTWISE_LLM_ENDPOINT set): a naive 'model' that " +
              "puts every job on its cheapest option at its earliest start, ignoring capacity and dependencies. These figures measure the " +
              "checking and repair around a model, not a model.");
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"# limits {options.LimitsName}, solver time limit {options.TimeLimit} s, seed {options.Seed}, {Environment.ProcessorCount} cores, prompt budget " +
            $"{settings.Budget.MaxPromptTokens} tokens / {settings.Budget.MaxJobsPerChunk} jobs per request"));
        using var http = LlmClients.CreateHttpClient();
        var solve = new SolveOptions { TimeLimit = TimeSpan.FromSeconds(options.TimeLimit), Workers = options.Workers };
        var rows = new List<Row>();
        stdout.WriteLine();
        stdout.WriteLine("| queue | jobs | planner | planned | expected $ | vs cpsat % | wall s | model s | requests | tokens in/out | raw valid | raw violations | kept | re-planned | fallback | final violations |");
        stdout.WriteLine("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- | ---: |");
        foreach (var (name, problem) in Queues(options, catalog, tracePath, seedPath))
        {
            var plans = new Dictionary<string, (Plan Plan, double Wall, int Violations)>(StringComparer.Ordinal);
            foreach (var p in Order)
            {
                plans[p] = await MeasureAsync(problem, PlannerFactory.Create(p, settings, http, TimeProvider.System, NullLoggerFactory.Instance)!, solve);
            }
            var cpsat = plans[CpSatPlanner.PlannerName].Plan;
            foreach (var p in Order)
            {
                var (plan, wall, violations) = plans[p];
                var row = new Row(name, p, plan, wall, violations, PlanComparison.CostVsPct(plan, cpsat));
                rows.Add(row);
                stdout.WriteLine(Format(row, problem.Jobs.Length));
            }
        }
        stdout.WriteLine();
        stdout.WriteLine("| planner | queues | raw-proposal validity | violations per plan | cost vs cpsat % (mean) | wall s (mean) | model s (mean) | fallbacks | final plans valid |");
        stdout.WriteLine("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var group in rows.GroupBy(r => r.Planner))
        {
            stdout.WriteLine(Summary(group.Key, [.. group]));
        }
        return rows.All(r => r.FinalViolations == 0) ? 0 : 1;
    }

    private static IEnumerable<(string Name, PlanningProblem Problem)> Queues(Options options, Catalog catalog, string tracePath, string seedPath)
    {
        var seed = JobsFile.Parse(File.ReadAllText(seedPath), options.Now, catalog).Value;
        yield return ("seed sample", new PlanningProblem(options.Now, seed, catalog, options.Limits));
        var trace = AlibabaTrace.Read(tracePath);
        foreach (var size in options.Sizes)
        {
            yield return ($"alibaba-{size}", new PlanningProblem(options.Now, AlibabaWorkload.Generate(trace, size, options.Seed, options.Now), catalog, options.Limits));
        }
    }

    private static async Task<(Plan Plan, double Wall, int Violations)> MeasureAsync(PlanningProblem problem, IPlanner planner, SolveOptions solve)
    {
        var clock = Stopwatch.StartNew();
        var plan = await planner.SolveAsync(problem, solve, CancellationToken.None);
        return (plan, clock.Elapsed.TotalSeconds, PlanValidator.Validate(plan, problem).Count);
    }

    private static string Format(Row r, int jobs)
    {
        var t = r.Plan.Totals;
        var llm = r.Plan.Llm;
        return string.Create(CultureInfo.InvariantCulture,
            $"| {r.Queue} | {jobs} | {r.Planner} | {t.JobsPlanned} | {t.ExpectedCostUsd:N2} | {Pct(r.CostVsCpSatPct)} | {r.WallSeconds:0.00} | " +
            $"{(llm is null ? "-" : llm.LatencySeconds.ToString("0.00", CultureInfo.InvariantCulture))} | " +
            $"{(llm is null ? "-" : $"{llm.Chunks} | {llm.TokensIn:N0}/{llm.TokensOut:N0}")}{(llm is null ? " | -" : "")} | {(llm is null ? "-" : llm.Fallback is null ? (llm.RawProposalValid ? "yes" : "no") : "-")} | " +
            $"{(llm is null || llm.Fallback is not null ? "-" : llm.Violations.Length.ToString(CultureInfo.InvariantCulture))} | " +
            $"{(llm is null || llm.Fallback is not null ? "-" : llm.Kept.ToString(CultureInfo.InvariantCulture))} | " +
            $"{(llm is null || llm.Fallback is not null ? "-" : llm.Repaired.Length.ToString(CultureInfo.InvariantCulture))} | " +
            $"{(llm?.Fallback is { } f ? Short(f) : "-")} | {r.FinalViolations} |");
    }

    /// <summary>Raw-proposal figures count only answers that arrived; a fallback is counted apart.</summary>
    private static string Summary(string planner, List<Row> rows)
    {
        var answered = rows.Where(r => r.Plan.Llm is { Fallback: null }).Select(r => r.Plan.Llm!).ToList();
        var isModel = PlannerFactory.NeedsModel(planner);
        return string.Create(CultureInfo.InvariantCulture,
            $"| {planner} | {rows.Count} | {(isModel ? answered.Count == 0 ? "-" : $"{answered.Count(a => a.RawProposalValid)}/{answered.Count}" : "n/a")} | " +
            $"{(isModel && answered.Count > 0 ? answered.Average(a => a.Violations.Length).ToString("0.0", CultureInfo.InvariantCulture) : isModel ? "-" : "n/a")} | " +
            $"{Pct(rows.Where(r => r.CostVsCpSatPct is not null).Select(r => r.CostVsCpSatPct!.Value).DefaultIfEmpty().Average())} | " +
            $"{rows.Average(r => r.WallSeconds):0.00} | {(isModel ? rows.Average(r => r.Plan.Llm!.LatencySeconds).ToString("0.00", CultureInfo.InvariantCulture) : "-")} | " +
            $"{(isModel ? rows.Count(r => r.Plan.Llm!.Fallback is not null).ToString(CultureInfo.InvariantCulture) : "-")} | {rows.Count(r => r.FinalViolations == 0)}/{rows.Count} |");
    }

    private static string Pct(double? pct) => pct is { } p ? p.ToString("+0.00;-0.00;0.00", CultureInfo.InvariantCulture) : "-";

    private static string Short(string why) => why.Length <= 40 ? why : why[..40] + "…";

    private static Options? ReadOptions(IReadOnlyList<string> args, Catalog catalog, out IReadOnlyList<string> errors)
    {
        var a = new ArgReader(args, ["--sizes", "--limits", "--time-limit", "--seed", "--workers", "--model", "--llm-provider", "--llm-timeout", "--now"], []);
        var sizes = (a.Text("--sizes") ?? "20,100,500").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Select(s => int.TryParse(s, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 100_000 ? n : (int?)null).ToList();
        if (sizes.Any(s => s is null))
        {
            a.AddError($"--sizes: '{a.Text("--sizes")}' is not a list of whole numbers from 1 to 100000");
        }
        var limitsName = a.Text("--limits") ?? "default";
        var limits = PlannersCommand.ReadLimits(a, limitsName, catalog);
        var timeLimit = a.PositiveNumber("--time-limit") ?? 10;
        var seed = a.WholeNumber("--seed", int.MinValue, int.MaxValue) ?? 1;
        var workers = a.WholeNumber("--workers", 0, 256) ?? 0;
        var llmTimeout = a.PositiveNumber("--llm-timeout") ?? 120;
        var now = a.Time("--now") ?? new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
        var provider = a.Text("--llm-provider");
        if (provider is not null && !LlmEnvironment.ProviderNames.Contains(provider))
        {
            a.AddError($"--llm-provider: '{provider}' is not a provider; choose one of {string.Join(", ", LlmEnvironment.ProviderNames)}");
        }
        errors = a.Errors;
        return errors.Count > 0 || limits is null
            ? null
            : new Options([.. sizes.Select(s => s!.Value)], limitsName, limits, timeLimit, seed, workers, a.Text("--model"), provider, llmTimeout, now);
    }
}
