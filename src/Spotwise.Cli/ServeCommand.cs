using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using Spotwise.Compute.Aws;
using Spotwise.Planning;
using Spotwise.Planning.Llm;
using Spotwise.Server;
using Spotwise.Storage.Postgres;

namespace Spotwise.Cli;

/// <summary>
/// <c>spotwise serve</c>: the API and the scheduler with embedded defaults and no setup — a SQLite file, the shipped
/// catalog and the simulated cloud; <c>--store</c> keeps the queue in PostgreSQL (docs/scale-out.md); <c>--backend aws</c> launches on EC2 (docs/aws.md). Flags become the service's
/// configuration (appsettings.json and the environment still apply, flags win).
/// </summary>
public static class ServeCommand
{
    /// <summary>The environment variable that gives <c>--store</c> its default (scripts/services-up.sh prints it).</summary>
    public const string StoreVariable = "SPOTWISE_STORE";

    /// <param name="stderr">Where errors go.</param>
    /// <param name="env">The environment (<see cref="StoreVariable"/> is read from it).</param>
    public static Command Create(TextWriter stderr, Func<string, string?> env)
    {
        var db = new Option<string>("--db") { Description = "SQLite file holding the queue (when no --store)", DefaultValueFactory = _ => "./spotwise.db" };
        var store = new Option<string?>("--store") { Description = $"PostgreSQL connection string (\"Host=db;Database=spotwise;Username=spotwise\"): the queue lives there, shared by replicas (default: ${StoreVariable}; none: SQLite --db; docs/scale-out.md)" };
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
        var replicaId = new Option<string?>("--replica-id")
        {
            Description = "Run as one of several replicas on one store: only the elected leader plans and reconciles (docs/scale-out.md). The value names this replica (default: host name and process id)",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var leaseSeconds = new Option<double>("--lease-seconds") { Description = "With --replica-id: how long the leader lease lasts unrenewed (a dead leader is replaced within it and a third)", DefaultValueFactory = _ => 10 };
        var command = new Command("serve", "Run the API, the dashboard (/) and the scheduler (SQLite store, shipped catalog, simulated cloud by default)")
        {
            db, store, urls, backend, planner, cycle, speed, trace, traceType, model, provider, llmTimeout, catalog, replicaId, leaseSeconds,
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
            var (storeSettings, storeError) = StoreSettings(parse, db, store, env);
            if (storeError is not null)
            {
                errors.Add(storeError);
            }
            errors.AddRange(CheckReplica(parse.GetResult(replicaId) is not null, parse.GetValue(replicaId), parse.GetValue(leaseSeconds)));
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
                .. storeSettings,
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
                .. Replica(parse.GetResult(replicaId) is not null, parse.GetValue(replicaId), parse.GetValue(leaseSeconds)),
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
            catch (StoreUnavailableException e)
            {
                // The database is not there or refused us: say where we looked, not a stack trace.
                await stderr.WriteLineAsync($"error: --store: {e.Message}");
                return ApiAnswers.Unreachable;
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

    /// <summary>
    /// Where the queue lives: <c>--store</c> (PostgreSQL), else <c>--db</c> when given (SQLite), else
    /// <see cref="StoreVariable"/> when set, else the default SQLite file. An explicit <c>--db</c> wins over the
    /// environment's default, so a shell with SPOTWISE_STORE exported can still run one service on a file.
    /// </summary>
    private static (string[] Settings, string? Error) StoreSettings(ParseResult parse, Option<string> db, Option<string?> store, Func<string, string?> env)
    {
        var dbGiven = parse.GetResult(db) is { Implicit: false };
        var (connectionString, name) = parse.GetValue(store) is { } flag ? (flag, "--store")
            : !dbGiven && env(StoreVariable) is { Length: > 0 } fromEnv ? (fromEnv, $"{StoreVariable} (the default for --store)")
            : (null, null);
        if (connectionString is null)
        {
            return ([$"--{SpotwiseOptions.Section}:Db={parse.GetValue(db)}"], null);
        }
        if (dbGiven)
        {
            return ([], "--store: the queue is either in PostgreSQL (--store) or in a SQLite file (--db), not both; drop one");
        }
        return PostgresConnection.Problem(connectionString) is { } problem
            ? ([], $"{name}: {problem}")
            : ([$"--{SpotwiseOptions.Section}:Store={connectionString}"], null);
    }

    /// <summary>
    /// <c>--replica-id</c> given (with a name, or bare for this host and process) makes the service a replica that takes
    /// part in the leader election; left out, the service is the only one, as before.
    /// </summary>
    private static IEnumerable<string> Replica(bool given, string? id, double leaseSeconds) => given
        ?
        [
            $"--{SpotwiseOptions.Section}:ReplicaId={(string.IsNullOrEmpty(id) ? Spotwise.Runtime.Leadership.LeaderElectionOptions.DefaultReplicaId() : id)}",
            string.Create(CultureInfo.InvariantCulture, $"--{SpotwiseOptions.Section}:LeaseTtl={TimeSpan.FromSeconds(leaseSeconds):c}"),
        ]
        : [];

    private static IEnumerable<string> CheckReplica(bool given, string? id, double leaseSeconds)
    {
        if (given && id is not null && (id.Length == 0 || id.Any(char.IsWhiteSpace)))
        {
            yield return $"--replica-id: '{id}' must be a name without spaces (or leave the value out for this host and process)";
        }
        if (!(leaseSeconds >= 1 && leaseSeconds <= 600))
        {
            yield return string.Create(CultureInfo.InvariantCulture, $"--lease-seconds: {leaseSeconds} must be between 1 and 600");
        }
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
        public Option<string?> Region { get; } = new("--region") { Description = "AWS region for --backend aws (default: the SDK's, AWS_REGION or the profile's); the catalog's prices are read as this region's" };
        public Option<string?> LaunchTemplate { get; } = new("--launch-template") { Description = "Launch template id (lt-...) the instances start from: image, security groups, instance profile, user data (--backend aws)" };
        public Option<string?> Subnets { get; } = new("--subnets") { Description = "Subnets to launch into, comma-separated, one per availability zone; their zones are asked of EC2 at start (--backend aws)" };
        public Option<string?> InterruptionQueue { get; } = new("--interruption-queue") { Description = "SQS queue URL that EventBridge feeds with spot interruption warnings (--backend aws, optional)" };
        public Option<string?> AgentCallbackUrl { get; } = new("--agent-callback-url") { Description = "The Spotwise URL instances reach: each job's command then runs under the agent, which reports start, heartbeats, notices and exit (--backend aws, optional; docs/aws.md)" };
        public Option<string?> ManagedBy { get; } = new("--managed-by") { Description = "This installation's name in the spotwise:managed-by tag (default: spotwise) (--backend aws)" };

        public IEnumerable<string> Check(ParseResult parse, string backend)
        {
            if (backend != AwsComputeRegistration.Name)
            {
                foreach (var flag in new[] { Region, LaunchTemplate, Subnets, InterruptionQueue, AgentCallbackUrl, ManagedBy }.Where(f => parse.GetValue(f) is not null))
                {
                    yield return $"{flag.Name}: only for --backend aws (the backend is {backend})";
                }
                yield break;
            }
            if (string.IsNullOrWhiteSpace(parse.GetValue(LaunchTemplate)))
            {
                yield return "--launch-template: required with --backend aws (the launch template id, lt-...)";
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

        public IEnumerable<string> Settings(ParseResult parse) =>
        [
            .. Setting("Aws:Region", parse.GetValue(Region)),
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
