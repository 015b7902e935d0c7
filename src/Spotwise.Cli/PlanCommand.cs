using System.CommandLine;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Planning;
using Spotwise.Planning.Llm;

namespace Spotwise.Cli;

/// <summary><c>spotwise plan JOBS</c>: the cheapest schedule that meets every deadline, with proof of how good it is.</summary>
public static class PlanCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, TimeProvider time, Func<string, string?> env)
    {
        var jobs = new Argument<string>("jobs-file") { Description = "JSON jobs file: an array of jobs or {\"jobs\": [...]}" };
        var catalog = new Option<string?>("--catalog") { Description = "Price catalog CSV (default: the shipped data/catalog/aws-us-east-1.csv)" };
        var limits = new Option<string?>("--limits") { Description = "Capacity limits JSON: on-demand vCPU quotas per class, spot pool sizes (see docs/limits.md)" };
        var noLimits = new Option<bool>("--no-limits") { Description = "Plan with unlimited capacity (what-if)" };
        var now = new Option<string?>("--now") { Description = "Planning moment, ISO 8601 with offset (default: the clock)" };
        var planner = new Option<string>("--planner") { Description = $"Planner: {string.Join(", ", PlannerFactory.Names)} (llm and hybrid ask a model: see docs/llm.md)", DefaultValueFactory = _ => CpSatPlanner.PlannerName };
        var model = new Option<string?>("--model") { Description = $"The model llm and hybrid ask (default: {LlmSettings.DefaultGeminiModel} on Gemini, {LlmSettings.DefaultOpenAIModel} on OpenAI)" };
        var provider = new Option<string?>("--llm-provider") { Description = $"gemini (key from {LlmEnvironment.GeminiApiKey}) or openai ({LlmEnvironment.OpenAIEndpoint}, {LlmEnvironment.OpenAIApiKey}); default: whichever is set" };
        var llmTimeout = new Option<double>("--llm-timeout") { Description = "Seconds one model request may take before the optimizer's plan is used", DefaultValueFactory = _ => 120 };
        var timeLimit = new Option<double?>("--time-limit")
        {
            Description = $"The planning limit in seconds: the solver's time, and for llm and hybrid the model's too, after which the optimizer's plan is used (default {DefaultTimeLimitSeconds}; llm and hybrid: the --llm-timeout)",
        };
        var workers = new Option<int>("--workers") { Description = "Solver threads (0: one per core)", DefaultValueFactory = _ => 0 };
        var format = new Option<string>("--format") { Description = "Output: table or json", DefaultValueFactory = _ => "table" };
        var grid = new Option<int>("--grid-minutes") { Description = "Start times fall on this grid", DefaultValueFactory = _ => PlanningSettings.Default.GridMinutes };
        var launchAllowance = new Option<double>("--launch-allowance")
        {
            Description = "Seconds from a job's launch until its work runs (boot, image pull), planned into every job; 0 when work starts at once (serve --backend local)",
            DefaultValueFactory = _ => PlanningSettings.CloudLaunchAllowance.TotalSeconds,
        };
        var command = new Command("plan", "Plan a queue of jobs: market, instance type, zone and start for each, with cost and proof of quality")
        {
            jobs, catalog, limits, noLimits, now, planner, timeLimit, workers, format, grid, launchAllowance, model, provider, llmTimeout,
        };
        command.SetAction((parse, ct) =>
        {
            var request = new PlanRequest(parse.GetValue(jobs)!, parse.GetValue(catalog), parse.GetValue(limits), parse.GetValue(noLimits),
                parse.GetValue(now), parse.GetValue(planner)!, TimeLimitOf(parse.GetValue(timeLimit), parse.GetValue(planner)!, parse.GetValue(llmTimeout)),
                parse.GetValue(workers), parse.GetValue(format)!,
                parse.GetValue(grid))
            {
                Model = parse.GetValue(model),
                LlmProvider = parse.GetValue(provider),
                LlmTimeoutSeconds = parse.GetValue(llmTimeout),
                LaunchAllowanceSeconds = parse.GetValue(launchAllowance),
            };
            return RunAsync(request, stdout, stderr, time, env, ct);
        });
        return command;
    }

    private const double DefaultTimeLimitSeconds = 10;

    /// <summary>
    /// The limit given, else 10 s, or for a model-backed planner the model's own timeout: the limit bounds the model's
    /// whole time, and a model rarely answers within 10 s.
    /// </summary>
    private static double TimeLimitOf(double? given, string planner, double llmTimeoutSeconds) =>
        given ?? (PlannerFactory.NeedsModel(planner) ? llmTimeoutSeconds : DefaultTimeLimitSeconds);

    public static async Task<int> RunAsync(PlanRequest request, TextWriter stdout, TextWriter stderr, TimeProvider time, Func<string, string?> env, CancellationToken ct)
    {
        var errors = new List<InputError>();
        using var http = LlmClients.CreateHttpClient();
        using var loggers = new TextWriterLoggerFactory(stderr);
        var planner = CreatePlanner(request, env, http, loggers, errors);
        var problem = LoadProblem(request, time, errors, out var options);
        if (problem is null || planner is null)
        {
            foreach (var e in errors)
            {
                stderr.WriteLine($"error: {e}");
            }
            return ExitCodes.BadInput;
        }
        var plan = await planner.SolveAsync(problem, options, ct);
        var violations = PlanValidator.Validate(plan, problem);
        if (violations.Count > 0)
        {
            stderr.WriteLine($"error: the {plan.Planner} planner produced a plan that breaks {violations.Count} rule(s); it is not printed as valid:");
            foreach (var v in violations)
            {
                stderr.WriteLine($"  {v}");
            }
            return ExitCodes.InvalidPlan;
        }
        stdout.Write(request.Format == "json" ? PlanDocument.From(plan).ToJson() + "\n" : PlanTable.Render(plan, problem));
        return plan.Unplanned.IsEmpty ? ExitCodes.Ok : ExitCodes.Partial;
    }

    /// <summary>
    /// The planner asked for. A model-backed one without a configured model is refused here, before any file is
    /// read, with the variable to set; the key itself is never printed.
    /// </summary>
    private static IPlanner? CreatePlanner(PlanRequest r, Func<string, string?> env, HttpClient http, TextWriterLoggerFactory loggers,
        List<InputError> errors)
    {
        if (!PlannerFactory.IsKnown(r.Planner))
        {
            errors.Add(new InputError("--planner", "", $"'{r.Planner}' is not a planner; choose one of {string.Join(", ", PlannerFactory.Names)}"));
            return null;
        }
        if (!PlannerFactory.NeedsModel(r.Planner))
        {
            return PlannerFactory.Create(r.Planner, null, http, TimeProvider.System, loggers);
        }
        if (!(r.LlmTimeoutSeconds > 0) || r.LlmTimeoutSeconds > 3600)
        {
            errors.Add(new InputError("--llm-timeout", "", Inputs.Invariant($"{r.LlmTimeoutSeconds} must be between 0 and 3600 seconds")));
        }
        var (settings, error) = LlmEnvironment.Resolve(r.LlmProvider, r.Model, env);
        if (settings is null)
        {
            errors.Add(new InputError("--planner", "", $"{r.Planner} asks a model, but {error}"));
            return null;
        }
        // The model answers in real time, whatever moment --now plans for: its time limit and backoff use the system clock.
        return PlannerFactory.Create(r.Planner, settings with { RequestTimeout = TimeSpan.FromSeconds(Math.Clamp(r.LlmTimeoutSeconds, 1, 3600)) }, http,
            TimeProvider.System, loggers);
    }

    private static PlanningProblem? LoadProblem(PlanRequest r, TimeProvider time, List<InputError> errors, out SolveOptions options)
    {
        options = new SolveOptions { TimeLimit = TimeSpan.FromSeconds(r.TimeLimitSeconds), Workers = r.Workers };
        if (r.Format is not ("table" or "json"))
        {
            errors.Add(new InputError("--format", "", $"'{r.Format}' is not a format; choose table or json"));
        }
        if (!(r.TimeLimitSeconds > 0) || r.TimeLimitSeconds > 86_400)
        {
            errors.Add(new InputError("--time-limit", "", Inputs.Invariant($"{r.TimeLimitSeconds} must be between 0 and 86400 seconds")));
        }
        if (r.Workers is < 0 or > 256)
        {
            errors.Add(new InputError("--workers", "", Inputs.Invariant($"{r.Workers} must be between 0 and 256")));
        }
        if (r.GridMinutes is < 1 or > 1440)
        {
            errors.Add(new InputError("--grid-minutes", "", Inputs.Invariant($"{r.GridMinutes} must be between 1 and 1440")));
        }
        if (!(r.LaunchAllowanceSeconds >= 0) || r.LaunchAllowanceSeconds > MaxLaunchAllowanceSeconds)
        {
            errors.Add(new InputError("--launch-allowance", "", Inputs.Invariant($"{r.LaunchAllowanceSeconds} must be between 0 and {MaxLaunchAllowanceSeconds} seconds")));
        }
        var now = Collect(Inputs.ParseNow(r.Now, time), errors);
        var catalog = Collect(Inputs.LoadCatalog(r.CatalogPath), errors);
        if (catalog is null || errors.Count > 0)
        {
            return null;
        }
        var limits = Collect(Inputs.LoadLimits(r.LimitsPath, r.NoLimits, catalog), errors);
        var jobs = Collect(Inputs.LoadJobs(r.JobsPath, now, catalog), errors);
        if (limits is null || errors.Count > 0)
        {
            return null;
        }
        return new PlanningProblem(now, jobs, catalog, limits,
            PlanningSettings.Default with { GridMinutes = r.GridMinutes, LaunchAllowance = TimeSpan.FromSeconds(r.LaunchAllowanceSeconds) });
    }

    /// <summary>An hour: a boot or image pull beyond that is a broken backend, not an allowance.</summary>
    private const double MaxLaunchAllowanceSeconds = 3600;

    private static T? Collect<T>(ParseResult<T> result, List<InputError> errors)
    {
        errors.AddRange(result.Errors);
        return result.Value;
    }
}

/// <summary>The plan command's arguments, as the user gave them.</summary>
public sealed record PlanRequest(
    string JobsPath,
    string? CatalogPath,
    string? LimitsPath,
    bool NoLimits,
    string? Now,
    string Planner,
    double TimeLimitSeconds,
    int Workers,
    string Format,
    int GridMinutes)
{
    /// <summary>For llm and hybrid: the model (default per provider).</summary>
    public string? Model { get; init; }

    /// <summary>For llm and hybrid: gemini or openai (default: whichever the environment configures).</summary>
    public string? LlmProvider { get; init; }

    public double LlmTimeoutSeconds { get; init; } = 120;

    /// <summary>Seconds from launch until the work runs, planned into every job (<see cref="PlanningSettings.LaunchAllowance"/>).</summary>
    public double LaunchAllowanceSeconds { get; init; } = PlanningSettings.CloudLaunchAllowance.TotalSeconds;
}
