using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Options;
using Spotwise.Compute.Aws;
using Spotwise.Compute.Kubernetes;
using Spotwise.Compute.Slurm;
using Spotwise.Planning;
using Spotwise.Planning.Llm;
using Spotwise.Server;
using Spotwise.Storage.Postgres;

namespace Spotwise.Cli;

/// <summary>
/// <c>spotwise serve</c>: the API and the scheduler with embedded defaults and no setup — a SQLite file, the shipped
/// catalog and the simulated cloud; <c>--store</c> keeps the queue in PostgreSQL (docs/scale-out.md); <c>--backend aws</c>
/// launches on EC2 (docs/aws.md), <c>--backend slurm</c> submits to a Slurm cluster (docs/slurm.md). Flags become the service's
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
        var backend = new Option<string>("--backend") { Description = $"Where jobs run: {string.Join(", ", SpotwiseApp.BackendNames)} (aws: EC2, see docs/aws.md; slurm: a Slurm cluster, see docs/slurm.md; kubernetes: Jobs, see docs/kubernetes.md)", DefaultValueFactory = _ => "simulated" };
        var catalog = new Option<string?>("--catalog") { Description = "Catalog CSV to price from (default: the shipped snapshot; with --backend aws, read as --region's prices)" };
        var limits = new Option<string?>("--limits") { Description = "Limits file: quotas, spot pools, reserved instances and a savings plan (docs/limits.md; default: the built-in limits, no commitments)" };
        var aws = new AwsFlags();
        var amqp = new Option<string?>("--amqp")
        {
            Description = "RabbitMQ to take jobs from (queue spotwise.jobs) and publish job events to (exchange spotwise.events): amqp://user:password@host:5672/ (default: SPOTWISE_AMQP; docs/scale-out.md)",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable(AmqpVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment : null,
        };
        var amqpQueue = new Option<string>("--amqp-queue") { Description = "With --amqp: the queue jobs are taken from", DefaultValueFactory = _ => Spotwise.Intake.RabbitMq.RabbitMqOptions.DefaultQueue };
        var slurm = new SlurmFlags();
        var kube = new KubernetesFlags();
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
            Description = "Run as one of several replicas on one store: only the elected leader plans and reconciles (docs/scale-out.md). The value names this replica (default: host name, process id and a random suffix). With --store (PostgreSQL) the service takes part in the election even without it, under the default id, so two replicas started by accident never both plan; on SQLite without it the service is the only one and keeps no lease",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var leaseSeconds = new Option<double>("--lease-seconds") { Description = "With --replica-id or --store: how long the leader lease lasts unrenewed (a dead leader is replaced within it and a third)", DefaultValueFactory = _ => 10 };
        var command = new Command("serve", "Run the API, the dashboard (/) and the scheduler (SQLite store, shipped catalog, simulated cloud by default)")
        {
            db, store, urls, backend, planner, amqp, amqpQueue, cycle, speed, trace, traceType, model, provider, llmTimeout, catalog, limits, replicaId, leaseSeconds,
            aws.Region, aws.LaunchTemplate, aws.Subnets, aws.InterruptionQueue, aws.AgentCallbackUrl, aws.ManagedBy, aws.LaunchApi,
            slurm.SpotPartition, slurm.OnDemandPartition, slurm.Conf, slurm.Bin,
            kube.Namespace, kube.Kubeconfig, kube.Context, kube.KueueQueue, kube.Image,
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
            if (parse.GetValue(limits) is { } l && SpotwiseOptionsValidator.LimitsProblem(l) is { } badLimits)
            {
                errors.Add($"--limits: {badLimits}");
            }
            errors.AddRange(aws.Check(parse, parse.GetValue(backend)!));
            var (storeSettings, storeError) = StoreSettings(parse, db, store, env);
            if (storeError is not null)
            {
                errors.Add(storeError);
            }
            errors.AddRange(CheckReplica(parse.GetResult(replicaId) is not null, parse.GetValue(replicaId), parse.GetValue(leaseSeconds)));
            if (parse.GetValue(amqp) is { } broker && Spotwise.Intake.RabbitMq.RabbitMqOptions.Problem(broker) is { } badBroker)
            {
                errors.Add($"--amqp: {badBroker}");
            }
            if (string.IsNullOrWhiteSpace(parse.GetValue(amqpQueue)))
            {
                errors.Add("--amqp-queue: empty; name the queue jobs are taken from");
            }
            errors.AddRange(slurm.Check(parse, parse.GetValue(backend)!));
            errors.AddRange(kube.Check(parse, parse.GetValue(backend)!));
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
                .. Setting("Limits", parse.GetValue(limits)),
                .. Replica(parse.GetResult(replicaId) is not null, parse.GetValue(replicaId), parse.GetValue(leaseSeconds)),
                .. Setting("Amqp", parse.GetValue(amqp)),
                .. Setting("AmqpQueue", parse.GetValue(amqp) is null ? null : parse.GetValue(amqpQueue)),
                .. aws.Settings(parse),
                .. slurm.Settings(parse),
                .. kube.Settings(parse),
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
            catch (KubernetesConfigurationException e)
            {
                // No kubeconfig found, or the context is not in it: bad input, said at start.
                await stderr.WriteLineAsync($"error: --kubeconfig: {e.Message}");
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
    /// part in the leader election; left out, the service on SQLite is the only one, as before, and on PostgreSQL still
    /// takes the lease under this host and process's id (the service decides that: <c>SpotwiseApp</c>). The lease's TTL
    /// is passed either way; only a service that takes part reads it.
    /// </summary>
    private static IEnumerable<string> Replica(bool given, string? id, double leaseSeconds) =>
    [
        .. given
            ? [$"--{SpotwiseOptions.Section}:ReplicaId={(string.IsNullOrEmpty(id) ? Spotwise.Runtime.Leadership.LeaderElectionOptions.DefaultReplicaId() : id)}"]
            : Array.Empty<string>(),
        string.Create(CultureInfo.InvariantCulture, $"--{SpotwiseOptions.Section}:LeaseTtl={TimeSpan.FromSeconds(leaseSeconds):c}"),
    ];

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

    /// <summary>The variable <c>--amqp</c> defaults to (scripts/rabbitmq-up.sh prints it).</summary>
    public const string AmqpVariable = "SPOTWISE_AMQP";

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
        public Option<string?> LaunchApi { get; } = new("--launch-api") { Description = $"How a placement in the region itself (on-demand, regional spot) is launched: {Ec2LaunchApis.RunInstancesName} (default: the first subnet listed in the region) or {Ec2LaunchApis.CreateFleetName} (one instant fleet over every subnet of the region, so a zone without capacity is skipped; not with --agent-callback-url) (--backend aws; docs/aws.md)" };

        public IEnumerable<string> Check(ParseResult parse, string backend)
        {
            if (backend != AwsComputeRegistration.Name)
            {
                var given = new[] { LaunchTemplate, Subnets, InterruptionQueue, AgentCallbackUrl, ManagedBy, LaunchApi }.Where(f => parse.GetValue(f) is not null).Select(f => f.Name);
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
            var api = parse.GetValue(LaunchApi);
            if (api is not null && !Ec2LaunchApis.TryParse(api, out _))
            {
                yield return $"--launch-api: '{api}' is not a launch API ({Ec2LaunchApis.Names})";
            }
            else if (api == Ec2LaunchApis.CreateFleetName && parse.GetValue(AgentCallbackUrl) is not null)
            {
                yield return $"--launch-api: {Ec2LaunchApis.AgentConflict} (--agent-callback-url is given)";
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
            .. Setting("Aws:LaunchApi", parse.GetValue(LaunchApi)),
        ];
    }

    /// <summary>
    /// The <c>--backend slurm</c> flags, each a key of the <c>Spotwise:Slurm</c> section (docs/slurm.md). The defaults
    /// work with scripts/slurm-up.sh given the <c>--slurm-conf</c> it prints.
    /// </summary>
    private sealed class SlurmFlags
    {
        public Option<string?> SpotPartition { get; } = new("--slurm-partition-spot") { Description = "The partition spot attempts go to (default: spot) (--backend slurm)" };
        public Option<string?> OnDemandPartition { get; } = new("--slurm-partition-ondemand") { Description = "The partition on-demand attempts go to (default: ondemand) (--backend slurm)" };
        public Option<string?> Conf { get; } = new("--slurm-conf") { Description = "The slurm.conf the Slurm commands read (default: SLURM_CONF or the system's) (--backend slurm)" };
        public Option<string?> Bin { get; } = new("--slurm-bin") { Description = "The folder holding sbatch, squeue and scancel (default: found on PATH) (--backend slurm)" };

        private Option<string?>[] All => [SpotPartition, OnDemandPartition, Conf, Bin];

        public IEnumerable<string> Check(ParseResult parse, string backend)
        {
            if (backend != SlurmComputeRegistration.Name)
            {
                foreach (var flag in All.Where(f => parse.GetValue(f) is not null))
                {
                    yield return $"{flag.Name}: only for --backend slurm (the backend is {backend})";
                }
                yield break;
            }
            foreach (var partition in new[] { SpotPartition, OnDemandPartition }.Where(f => parse.GetValue(f) is { } p && string.IsNullOrWhiteSpace(p)))
            {
                yield return $"{partition.Name}: empty; name a partition of the cluster";
            }
            if (parse.GetValue(Conf) is { } conf && !File.Exists(conf))
            {
                yield return $"{Conf.Name}: '{conf}' does not exist (scripts/slurm-up.sh prints the path it wrote as SPOTWISE_SLURM_CONF)";
            }
            if (parse.GetValue(Bin) is { } bin && !Directory.Exists(bin))
            {
                yield return $"{Bin.Name}: '{bin}' is not a folder (the one holding sbatch, squeue and scancel)";
            }
        }

        public IEnumerable<string> Settings(ParseResult parse) =>
        [
            .. Setting("Slurm:SpotPartition", parse.GetValue(SpotPartition)),
            .. Setting("Slurm:OnDemandPartition", parse.GetValue(OnDemandPartition)),
            .. Setting("Slurm:Conf", parse.GetValue(Conf) is { } conf ? Path.GetFullPath(conf) : null),
            .. Setting("Slurm:BinDirectory", parse.GetValue(Bin) is { } bin ? Path.GetFullPath(bin) : null),
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

    /// <summary>
    /// The <c>--backend kubernetes</c> flags, each a key of the <c>Spotwise:Kubernetes</c> section. Credentials are no flag:
    /// the kubeconfig (or the pod's service account) carries them.
    /// </summary>
    private sealed class KubernetesFlags
    {
        public Option<string?> Namespace { get; } = new("--kube-namespace") { Description = "Namespace the Jobs are made in (default: default) (--backend kubernetes)" };
        public Option<string?> Kubeconfig { get; } = new("--kubeconfig") { Description = "Kubeconfig file (default: KUBECONFIG, ~/.kube/config, then the in-cluster service account) (--backend kubernetes)" };
        public Option<string?> Context { get; } = new("--kube-context") { Description = "Kubeconfig context (default: its current context) (--backend kubernetes)" };
        public Option<string?> KueueQueue { get; } = new("--kueue-queue") { Description = "Kueue LocalQueue: Jobs are made suspended in it and Kueue admits them (--backend kubernetes, optional)" };
        public Option<string?> Image { get; } = new("--kube-image") { Description = "Container image of a job that names none (default: busybox:1.36) (--backend kubernetes)" };

        private IEnumerable<Option<string?>> All => [Namespace, Kubeconfig, Context, KueueQueue, Image];

        public IEnumerable<string> Check(ParseResult parse, string backend)
        {
            if (backend != KubernetesComputeRegistration.Name)
            {
                foreach (var flag in All.Where(f => parse.GetValue(f) is not null))
                {
                    yield return $"{flag.Name}: only for --backend kubernetes (the backend is {backend})";
                }
                yield break;
            }
            if (parse.GetValue(Namespace) is { } ns && !KubeNames.IsDnsLabel(ns))
            {
                yield return $"--kube-namespace: '{ns}' is not a namespace name (1 to 63 characters of a-z, 0-9 and '-')";
            }
            if (parse.GetValue(Kubeconfig) is { } path && !File.Exists(path))
            {
                yield return $"--kubeconfig: '{path}' does not exist";
            }
            if (parse.GetValue(KueueQueue) is { } queue && !KubeNames.IsDnsLabel(queue))
            {
                yield return $"--kueue-queue: '{queue}' is not a LocalQueue name (1 to 63 characters of a-z, 0-9 and '-')";
            }
            if (parse.GetValue(Image) is { } image && (image.Length == 0 || image.Any(char.IsWhiteSpace)))
            {
                yield return $"--kube-image: '{image}' is not a container image reference";
            }
        }

        public IEnumerable<string> Settings(ParseResult parse) =>
        [
            .. Setting("Kubernetes:Namespace", parse.GetValue(Namespace)),
            .. Setting("Kubernetes:Kubeconfig", parse.GetValue(Kubeconfig)),
            .. Setting("Kubernetes:Context", parse.GetValue(Context)),
            .. Setting("Kubernetes:KueueQueue", parse.GetValue(KueueQueue)),
            .. Setting("Kubernetes:Image", parse.GetValue(Image)),
        ];
    }
}
