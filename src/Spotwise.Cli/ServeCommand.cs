using System.CommandLine;
using System.Globalization;
using Spotwise.Planning;
using Spotwise.Planning.Llm;
using Spotwise.Server;

namespace Spotwise.Cli;

/// <summary>
/// <c>spotwise serve</c>: the API and the scheduler with embedded defaults and no setup — a SQLite file, the shipped
/// catalog and the simulated cloud. Flags become the service's configuration (appsettings.json and the environment
/// still apply, flags win).
/// </summary>
public static class ServeCommand
{
    public static Command Create(TextWriter stderr)
    {
        var db = new Option<string>("--db") { Description = "SQLite file holding the queue", DefaultValueFactory = _ => "./spotwise.db" };
        var urls = new Option<string>("--urls") { Description = "Where to listen", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var backend = new Option<string>("--backend") { Description = "Where jobs run: simulated or local", DefaultValueFactory = _ => "simulated" };
        var planner = new Option<string>("--planner") { Description = $"Planner: {string.Join(", ", PlannerFactory.Names)} (llm and hybrid ask a model: see docs/llm.md)", DefaultValueFactory = _ => CpSatPlanner.PlannerName };
        var model = new Option<string?>("--model") { Description = "The model llm and hybrid ask (default per provider)" };
        var provider = new Option<string?>("--llm-provider") { Description = "gemini or openai (default: whichever the environment configures)" };
        var llmTimeout = new Option<double>("--llm-timeout") { Description = "Seconds one model request may take before the cycle uses the optimizer's plan", DefaultValueFactory = _ => 120 };
        var cycle = new Option<double>("--cycle-seconds") { Description = "Plan at least this often (and at once on submit or interruption)", DefaultValueFactory = _ => 10 };
        var speed = new Option<double>("--speed") { Description = "The clock runs N times real time from now (600: an hour in six seconds)", DefaultValueFactory = _ => 1 };
        var trace = new Option<string?>("--trace") { Description = "Spot availability trace the simulated cloud replays from now (e.g. data/traces/aws-v100/us-west-2a_v100_1.json)" };
        var traceType = new Option<string>("--trace-instance-type") { Description = "The instance type the trace is for", DefaultValueFactory = _ => "p3.2xlarge" };
        var command = new Command("serve", "Run the API, the dashboard (/) and the scheduler (SQLite store, shipped catalog, simulated cloud by default)")
        {
            db, urls, backend, planner, cycle, speed, trace, traceType, model, provider, llmTimeout,
        };
        command.SetAction(async (parse, ct) =>
        {
            var errors = Check(parse.GetValue(backend)!, parse.GetValue(planner)!, parse.GetValue(cycle), parse.GetValue(speed));
            if (PlannerFactory.NeedsModel(parse.GetValue(planner)!)
                && LlmEnvironment.Resolve(parse.GetValue(provider), parse.GetValue(model), Environment.GetEnvironmentVariable).Error is { } why)
            {
                errors.Add($"--planner: {parse.GetValue(planner)} asks a model, but {why}");
            }
            if (!(parse.GetValue(llmTimeout) > 0))
            {
                errors.Add(string.Create(CultureInfo.InvariantCulture, $"--llm-timeout: {parse.GetValue(llmTimeout)} must be greater than 0"));
            }
            if (parse.GetValue(trace) is { } t && !File.Exists(t))
            {
                errors.Add($"--trace: '{t}' does not exist");
            }
            if (errors.Count > 0)
            {
                foreach (var e in errors)
                {
                    await stderr.WriteLineAsync($"error: {e}");
                }
                return ExitCodes.BadInput;
            }
            string[] args =
            [
                "--urls", parse.GetValue(urls)!,
                $"--{SpotwiseOptions.Section}:Db={parse.GetValue(db)}",
                $"--{SpotwiseOptions.Section}:Backend={parse.GetValue(backend)}",
                $"--{SpotwiseOptions.Section}:Planner={parse.GetValue(planner)}",
                string.Create(CultureInfo.InvariantCulture, $"--{SpotwiseOptions.Section}:CycleInterval={TimeSpan.FromSeconds(parse.GetValue(cycle)):c}"),
                string.Create(CultureInfo.InvariantCulture, $"--{SpotwiseOptions.Section}:Speed={parse.GetValue(speed)}"),
                $"--{SpotwiseOptions.Section}:SpotTrace={parse.GetValue(trace)}",
                $"--{SpotwiseOptions.Section}:SpotTraceInstanceType={parse.GetValue(traceType)}",
                $"--{SpotwiseOptions.Section}:LlmProvider={parse.GetValue(provider)}",
                $"--{SpotwiseOptions.Section}:Model={parse.GetValue(model)}",
                string.Create(CultureInfo.InvariantCulture, $"--{SpotwiseOptions.Section}:LlmTimeout={TimeSpan.FromSeconds(parse.GetValue(llmTimeout)):c}"),
            ];
            // The host's own RunAsync(ct): WebApplication.RunAsync takes a URL instead.
            await Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.RunAsync(SpotwiseApp.Build(args), ct);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static List<string> Check(string backend, string planner, double cycleSeconds, double speed)
    {
        var errors = new List<string>();
        if (!SpotwiseApp.BackendNames.Contains(backend))
        {
            errors.Add($"--backend: '{backend}' is not a backend; choose one of {string.Join(", ", SpotwiseApp.BackendNames)}");
        }
        if (!PlannerFactory.IsKnown(planner))
        {
            errors.Add($"--planner: '{planner}' is not a planner; choose one of {string.Join(", ", PlannerFactory.Names)}");
        }
        if (!(cycleSeconds > 0))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"--cycle-seconds: {cycleSeconds} must be greater than 0"));
        }
        if (!(speed > 0) || !double.IsFinite(speed))
        {
            errors.Add(string.Create(CultureInfo.InvariantCulture, $"--speed: {speed} must be a number greater than 0"));
        }
        return errors;
    }
}
