using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using Spotwise.Compute.Aws;
using Spotwise.Planning;
using Spotwise.Planning.Llm;
using Spotwise.Server;

namespace Spotwise.Cli;

/// <summary>
/// <c>spotwise serve</c>: the API and the scheduler with embedded defaults and no setup — a SQLite file, the shipped
/// catalog and the simulated cloud; <c>--backend aws</c> launches on EC2 (docs/aws.md). Flags become the service's
/// configuration (appsettings.json and the environment still apply, flags win).
/// </summary>
public static class ServeCommand
{
    public static Command Create(TextWriter stderr)
    {
        var db = new Option<string>("--db") { Description = "SQLite file holding the queue", DefaultValueFactory = _ => "./spotwise.db" };
        var urls = new Option<string>("--urls") { Description = "Where to listen", DefaultValueFactory = _ => "http://127.0.0.1:5080" };
        var backend = new Option<string>("--backend") { Description = $"Where jobs run: {string.Join(", ", SpotwiseApp.BackendNames)} (aws: EC2, see docs/aws.md)", DefaultValueFactory = _ => "simulated" };
        var catalog = new Option<string?>("--catalog") { Description = "Catalog CSV to price from (default: the shipped snapshot; with --backend aws, read as --region's prices)" };
        var aws = new AwsFlags();
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
            db, urls, backend, planner, cycle, speed, trace, traceType, model, provider, llmTimeout, catalog,
            aws.Region, aws.LaunchTemplate, aws.Subnets, aws.InterruptionQueue, aws.AgentCallbackUrl, aws.ManagedBy,
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
            if (parse.GetValue(catalog) is { } c && ShippedCatalog.Problem(c) is { } badCatalog)
            {
                errors.Add($"--catalog: {badCatalog}");
            }
            errors.AddRange(aws.Check(parse, parse.GetValue(backend)!));
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
                .. Setting("Catalog", parse.GetValue(catalog)),
                .. aws.Settings(parse),
            ];
            try
            {
                // The host's own RunAsync(ct): WebApplication.RunAsync takes a URL instead.
                await Microsoft.Extensions.Hosting.HostingAbstractionsHostExtensions.RunAsync(SpotwiseApp.Build(args), ct);
            }
            catch (AwsConfigurationException e)
            {
                // Found at start, from EC2's answer (a subnet that does not exist): bad input all the same.
                await stderr.WriteLineAsync(e.Setting is { } flag ? $"error: --{flag}: {e.Message}" : $"error: {e.Message}");
                return ExitCodes.BadInput;
            }
            catch (OptionsValidationException e)
            {
                // Settings from appsettings.json or the environment that the flags did not cover.
                foreach (var failure in e.Failures)
                {
                    await stderr.WriteLineAsync($"error: {failure}");
                }
                return ExitCodes.BadInput;
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>A <c>Spotwise:</c> setting for a flag the user gave; none for one left out (appsettings.json then applies).</summary>
    private static IEnumerable<string> Setting(string key, string? value) =>
        value is null ? [] : [$"--{SpotwiseOptions.Section}:{key}={value}"];

    /// <summary>
    /// The <c>--backend aws</c> flags, each a key of the <c>Spotwise:Aws</c> section. Credentials are no flag: the AWS
    /// SDK's default chain finds them (AWS_PROFILE, the environment, SSO, an instance role).
    /// </summary>
    private sealed class AwsFlags
    {
        public Option<string[]> Region { get; } = new("--region") { Description = "AWS region for --backend aws (default: the SDK's, AWS_REGION or the profile's); the catalog's prices are read as this region's. Repeat it for several regions in one service, the first being home (--region us-east-1 --region us-west-2)" };
        public Option<string?> LaunchTemplate { get; } = new("--launch-template") { Description = "Launch template id (lt-...) or name the instances start from: image, security groups, instance profile, user data (--backend aws; with several --region, the name, created in each region)" };
        public Option<string?> Subnets { get; } = new("--subnets") { Description = "Subnets to launch into, comma-separated, one per availability zone; their zones are asked of EC2 at start (--backend aws)" };
        public Option<string?> InterruptionQueue { get; } = new("--interruption-queue") { Description = "SQS queue URL that EventBridge feeds with spot interruption warnings (--backend aws, optional)" };
        public Option<string?> AgentCallbackUrl { get; } = new("--agent-callback-url") { Description = "The Spotwise URL instances reach: each job's command then runs under the agent, which reports start, heartbeats, notices and exit (--backend aws, optional; docs/aws.md)" };
        public Option<string?> ManagedBy { get; } = new("--managed-by") { Description = "This installation's name in the spotwise:managed-by tag (default: spotwise) (--backend aws)" };

        public IEnumerable<string> Check(ParseResult parse, string backend)
        {
            if (backend != AwsComputeRegistration.Name)
            {
                var given = new[] { LaunchTemplate, Subnets, InterruptionQueue, AgentCallbackUrl, ManagedBy }.Where(f => parse.GetValue(f) is not null).Select(f => f.Name);
                foreach (var flag in (Regions(parse).Length > 0 ? [Region.Name] : Array.Empty<string>()).Concat(given))
                {
                    yield return $"{flag}: only for --backend aws (the backend is {backend})";
                }
                yield break;
            }
            foreach (var region in Regions(parse).Where(r => string.IsNullOrWhiteSpace(r) || Amazon.RegionEndpoint.GetBySystemName(r).DisplayName == "Unknown"))
            {
                yield return $"--region: '{region}' is not an AWS region";
            }
            if (Regions(parse).GroupBy(r => r, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                yield return $"--region: '{twice.Key}' is given twice";
            }
            if (string.IsNullOrWhiteSpace(parse.GetValue(LaunchTemplate)))
            {
                yield return "--launch-template: required with --backend aws (the launch template id, lt-...)";
            }
            else if (Regions(parse).Length > 1 && Ec2LaunchTemplates.IsId(parse.GetValue(LaunchTemplate)!))
            {
                yield return $"--launch-template: '{parse.GetValue(LaunchTemplate)}' is one region's template id; with several --region give the template's name, created under that name in each region";
            }
            if (parse.GetValue(Subnets) is not { } subnets || AwsSettings.Split(subnets).Count == 0)
            {
                yield return "--subnets: required with --backend aws (subnet ids, comma-separated, one per availability zone)";
            }
            else if (subnets.Split(',').Any(s => s.Trim().Length == 0))
            {
                yield return $"--subnets: '{subnets}' has an empty entry; list subnet ids separated by single commas";
            }
            if (parse.GetValue(InterruptionQueue) is { } queue && !AwsSettings.IsHttpUrl(queue))
            {
                yield return $"--interruption-queue: '{queue}' is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)";
            }
            if (parse.GetValue(AgentCallbackUrl) is { } agent && !AwsSettings.IsHttpUrl(agent))
            {
                yield return $"--agent-callback-url: '{agent}' is not an absolute http(s) URL of this service";
            }
            if (parse.GetValue(ManagedBy) is { } managedBy && string.IsNullOrWhiteSpace(managedBy))
            {
                yield return "--managed-by: empty; it names this installation on every instance it launches";
            }
        }

        /// <summary>The regions given, in order (none: the SDK's own).</summary>
        public string[] Regions(ParseResult parse) => parse.GetValue(Region) ?? [];

        /// <summary>One <c>--region</c> is <c>Aws:Region</c>, as always; several are <c>Aws:Regions:0</c>, <c>:1</c>, ... too, the first home.</summary>
        private IEnumerable<string> RegionSettings(ParseResult parse)
        {
            var regions = Regions(parse);
            return regions.Length == 0 ? []
                : [.. Setting("Aws:Region", regions[0]), .. regions.Length == 1 ? [] : regions.SelectMany((r, i) => Setting(string.Create(CultureInfo.InvariantCulture, $"Aws:Regions:{i}"), r))];
        }

        public IEnumerable<string> Settings(ParseResult parse) =>
        [
            .. RegionSettings(parse),
            .. Setting("Aws:LaunchTemplate", parse.GetValue(LaunchTemplate)),
            .. Setting("Aws:Subnets", parse.GetValue(Subnets)),
            .. Setting("Aws:InterruptionQueueUrl", parse.GetValue(InterruptionQueue)),
            .. Setting("Aws:AgentCallbackUrl", parse.GetValue(AgentCallbackUrl)),
            .. Setting("Aws:ManagedBy", parse.GetValue(ManagedBy)),
        ];
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
