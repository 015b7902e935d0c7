using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using Spotwise.Compute.Aws;
using Spotwise.Compute.Kubernetes;
using Spotwise.Compute.Slurm;
using Spotwise.Intake.RabbitMq;
using Spotwise.Planning;
using Spotwise.Planning.Llm;
using Spotwise.Runtime;
using Spotwise.Runtime.Budgeting;
using Spotwise.Storage.Postgres;

namespace Spotwise.Server;

/// <summary>The service's settings, bound from the <c>Spotwise</c> configuration section and validated at start.</summary>
public sealed class SpotwiseOptions
{
    public const string Section = "Spotwise";

    /// <summary>The SQLite file holding the queue (when <see cref="Store"/> is not set).</summary>
    public string Db { get; set; } = "./spotwise.db";

    /// <summary>
    /// A PostgreSQL connection string (<c>Host=db;Database=spotwise;Username=spotwise</c>): the queue lives there, shared
    /// by every replica, instead of in <see cref="Db"/> (docs/scale-out.md). Unset: SQLite.
    /// </summary>
    public string? Store { get; set; }

    /// <summary>How often the scheduler plans when nothing asks it to sooner.</summary>
    public TimeSpan CycleInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The least real time between the starts of two cycles. A burst of submissions each asks for a cycle; they fold
    /// into one cycle per gap instead of planning the whole queue back to back (which kept both cores busy and the
    /// store's writer taken, and pushed the submit p99 past its target). Zero plans at every signal.
    /// </summary>
    public TimeSpan MinCycleGap { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// With replicas, how often the leader counts the queued jobs to find those submitted on another replica (real time).
    /// On PostgreSQL a submission also wakes the leader at once (LISTEN/NOTIFY) and this poll is only the safety net.
    /// </summary>
    public TimeSpan FollowerWakePoll { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The planner by the name users type (<see cref="PlannerFactory.Names"/>).</summary>
    public string Planner { get; set; } = CpSatPlanner.PlannerName;

    /// <summary>For the llm and hybrid planners: gemini or openai (default: whichever the environment configures).</summary>
    public string? LlmProvider { get; set; }

    /// <summary>For the llm and hybrid planners: the model (default per provider).</summary>
    public string? Model { get; set; }

    /// <summary>How long one model request may take before the cycle uses the optimizer's plan.</summary>
    public TimeSpan LlmTimeout { get; set; } = TimeSpan.FromSeconds(120);

    /// <summary>API keys, each bound to a team: <c>key1=teamA,key2=teamB</c> (the environment's SPOTWISE_API_KEYS adds more).</summary>
    public string? ApiKeys { get; set; }

    /// <summary>Requests each API key may make per <see cref="RateLimitWindow"/>; more are answered 429.</summary>
    public int RateLimitPermits { get; set; } = 600;

    public TimeSpan RateLimitWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Sign-in attempts (<c>POST /login</c>) each client address may make per <see cref="LoginWindow"/>, so keys
    /// cannot be guessed fast; more are answered 429.</summary>
    public int LoginPermits { get; set; } = 10;

    public TimeSpan LoginWindow { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Where jobs run, by a registered backend's name: <c>simulated</c> (the simulated cloud), <c>local</c> (each job's
    /// command, on this machine), <c>aws</c> (EC2, configured by <see cref="Aws"/>), <c>slurm</c> (a Slurm cluster,
    /// configured by <see cref="Slurm"/>) or <c>kubernetes</c> (Jobs, configured by <see cref="Kubernetes"/>).
    /// </summary>
    public string Backend { get; set; } = "simulated";

    /// <summary>The service launches on EC2: the one place that asks (catalog regions, price feed, backend options).</summary>
    public bool OnAws => Backend == AwsComputeRegistration.Name;

    /// <summary>Where the <c>aws</c> backend launches (the <c>Spotwise:Aws</c> section).</summary>
    public AwsSettings Aws { get; set; } = new();

    /// <summary>Where the <c>slurm</c> backend submits (the <c>Spotwise:Slurm</c> section; docs/slurm.md).</summary>
    public SlurmComputeOptions Slurm { get; set; } = new();

    /// <summary>Where the <c>kubernetes</c> backend makes its Jobs (the <c>Spotwise:Kubernetes</c> section).</summary>
    public KubernetesSettings Kubernetes { get; set; } = new();

    /// <summary>
    /// A catalog CSV (the shipped one's columns; <c>spotwise catalog refresh</c> writes one) instead of the shipped
    /// snapshot. With the <c>aws</c> backend its prices are taken as the configured region's.
    /// </summary>
    public string? Catalog { get; set; }

    /// <summary>
    /// A limits file (docs/limits.md): quotas, spot pool sizes, reserved instances and a savings plan. Unset: the
    /// default limits and no commitments.
    /// </summary>
    public string? Limits { get; set; }

    /// <summary>The clock runs this many times real time, starting from the real time at start-up (1 = real time).</summary>
    public double Speed { get; set; } = 1;

    /// <summary>How many jobs the local backend runs at once.</summary>
    public int LocalSlots { get; set; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>
    /// A spot availability trace (data/traces/...) the simulated cloud replays from start-up for
    /// <see cref="SpotTraceInstanceType"/> in the catalog's region; without one, spot is never interrupted.
    /// </summary>
    public string? SpotTrace { get; set; }

    public string SpotTraceInstanceType { get; set; } = "p3.2xlarge";

    /// <summary>
    /// This replica's id among the <c>serve</c> processes sharing one store (docs/scale-out.md#two-schedulers). Set, the
    /// service takes part in the leader election and plans and reconciles only while it holds the lease. Unset, on
    /// PostgreSQL (<see cref="Store"/>) it still takes part, under host name, process id and a random suffix; on SQLite it is the only
    /// replica and leads from the start, as it always did.
    /// </summary>
    public string? ReplicaId { get; set; }

    /// <summary>How long the leader lease lasts unrenewed: a dead leader is replaced within it plus a third of it.</summary>
    public TimeSpan LeaseTtl { get; set; } = Spotwise.Runtime.Leadership.LeaderElectionOptions.DefaultTtl;

    /// <summary>
    /// A RabbitMQ broker (<c>amqp://user:password@host:5672/</c>): jobs are also taken from its queue
    /// <see cref="AmqpQueue"/> and job state changes are published to <c>spotwise.events</c> (docs/scale-out.md). None: neither.
    /// </summary>
    public string? Amqp { get; set; }

    /// <summary>How contested capacity is shared between teams (the <c>Spotwise:FairShare</c> section; docs/teams.md#fair-share).</summary>
    public FairShareOptions FairShare { get; set; } = new();

    /// <summary>The queue jobs are taken from (with <see cref="Amqp"/>).</summary>
    public string AmqpQueue { get; set; } = RabbitMqOptions.DefaultQueue;

    /// <summary>
    /// Dollar budgets by team: <c>Spotwise:Budgets:ml:Period</c> = <c>week</c>, <c>Spotwise:Budgets:ml:LimitUsd</c> = <c>100</c>
    /// (docs/teams.md#budgets). A budget set through <c>PUT /api/teams/{team}/budget</c> overrides the team's entry.
    /// </summary>
    public Dictionary<string, BudgetSettings> Budgets { get; set; } = [];

    /// <summary>The configured budgets, read (the validator has refused bad ones at start).</summary>
    public IReadOnlyDictionary<string, BudgetLimit> ConfiguredBudgets() => Budgets
        .Where(b => b.Value.Problem(b.Key) is null)
        .ToDictionary(b => b.Key, b => b.Value.ToLimit(), StringComparer.Ordinal);

    /// <summary>The broker settings, when <see cref="Amqp"/> names a valid broker URL.</summary>
    public RabbitMqOptions? RabbitMq() => Amqp is { Length: > 0 } text && RabbitMqOptions.Problem(text) is null
        ? new RabbitMqOptions { Uri = new Uri(text), Queue = AmqpQueue }
        : null;
}

/// <summary>
/// Fair share as configured: <c>Spotwise:FairShare:Weights:&lt;team&gt;</c> (1 for a team not named),
/// <c>Spotwise:FairShare:WindowHours</c> (24) and <c>Spotwise:FairShare:BandPct</c> (2, the damping band).
/// </summary>
public sealed class FairShareOptions
{
    public Dictionary<string, double> Weights { get; set; } = new(StringComparer.Ordinal);

    public double WindowHours { get; set; } = 24;

    public double BandPct { get; set; } = Core.FairShare.DefaultBandPct;

    public FairShareSettings ToSettings() => new()
    {
        Weights = Weights.ToImmutableDictionary(StringComparer.Ordinal),
        WindowHours = WindowHours,
        BandPct = BandPct,
    };

    /// <summary>Each setting that cannot work, named with its value.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (team, weight) in Weights.Where(w => !(w.Value > 0) || !double.IsFinite(w.Value)))
        {
            yield return FormattableString.Invariant($"Spotwise:FairShare:Weights:{team} is {weight}; a team's weight must be a number > 0");
        }
        if (!(WindowHours > 0) || WindowHours > 24 * 366)
        {
            yield return FormattableString.Invariant($"Spotwise:FairShare:WindowHours is {WindowHours}; it must be > 0 and at most 8784 (a year)");
        }
        if (!(BandPct > 0) || BandPct > 100)
        {
            yield return FormattableString.Invariant($"Spotwise:FairShare:BandPct is {BandPct}; it must be > 0 and at most 100");
        }
    }
}

/// <summary>
/// Checks the settings at start; <paramref name="env"/> is the configuration, where the model's variables are read, and
/// <paramref name="backends"/> the names of the registered backends.
/// </summary>
public sealed class SpotwiseOptionsValidator(Func<string, string?> env, IReadOnlyList<string> backends) : IValidateOptions<SpotwiseOptions>
{
    public ValidateOptionsResult Validate(string? name, SpotwiseOptions options)
    {
        var errors = new List<string>();
        if (options.Store is { Length: > 0 } store)
        {
            if (PostgresConnection.Problem(store) is { } badStore)
            {
                errors.Add($"Spotwise:Store {badStore}");
            }
        }
        else if (string.IsNullOrWhiteSpace(options.Db))
        {
            errors.Add("Spotwise:Db is empty; name the SQLite file");
        }
        if (options.CycleInterval <= TimeSpan.Zero)
        {
            errors.Add($"Spotwise:CycleInterval is {options.CycleInterval}; it must be > 0");
        }
        if (options.MinCycleGap < TimeSpan.Zero || options.MinCycleGap > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Spotwise:MinCycleGap is {options.MinCycleGap}; it must be between 0 and 10 minutes");
        }
        if (options.FollowerWakePoll < TimeSpan.FromMilliseconds(100) || options.FollowerWakePoll > TimeSpan.FromDays(1))
        {
            errors.Add($"Spotwise:FollowerWakePoll is {options.FollowerWakePoll}; it must be between 0.1 s and a day");
        }
        if (!PlannerFactory.IsKnown(options.Planner))
        {
            errors.Add($"Spotwise:Planner is '{options.Planner}'; choose one of {string.Join(", ", PlannerFactory.Names)}");
        }
        else if (PlannerFactory.NeedsModel(options.Planner) && LlmEnvironment.Resolve(options.LlmProvider, options.Model, env).Error is { } noModel)
        {
            errors.Add($"Spotwise:Planner is '{options.Planner}', which asks a model, but {noModel}");
        }
        if (options.LlmTimeout <= TimeSpan.Zero)
        {
            errors.Add($"Spotwise:LlmTimeout is {options.LlmTimeout}; it must be > 0");
        }
        if (options.RateLimitPermits < 1)
        {
            errors.Add($"Spotwise:RateLimitPermits is {options.RateLimitPermits}; it must be >= 1");
        }
        if (options.RateLimitWindow <= TimeSpan.Zero)
        {
            errors.Add($"Spotwise:RateLimitWindow is {options.RateLimitWindow}; it must be > 0");
        }
        if (options.LoginPermits < 1)
        {
            errors.Add($"Spotwise:LoginPermits is {options.LoginPermits}; it must be >= 1");
        }
        if (options.LoginWindow <= TimeSpan.Zero)
        {
            errors.Add($"Spotwise:LoginWindow is {options.LoginWindow}; it must be > 0");
        }
        errors.AddRange(options.FairShare.Problems());
        if (!backends.Contains(options.Backend))
        {
            errors.Add($"Spotwise:Backend is '{options.Backend}'; choose one of the registered backends: {string.Join(", ", backends)}");
        }
        else if (options.OnAws)
        {
            errors.AddRange(options.Aws.Problems());
        }
        else if (options.Backend == SlurmComputeRegistration.Name)
        {
            errors.AddRange(options.Slurm.Problems().Select(p => $"{SpotwiseOptions.Section}:{p}"));
        }
        else if (options.Backend == KubernetesComputeRegistration.Name)
        {
            errors.AddRange(options.Kubernetes.Problems());
        }
        if (options.Catalog is { Length: > 0 } catalog && ShippedCatalog.Problem(catalog) is { } badCatalog)
        {
            errors.Add($"Spotwise:Catalog: {badCatalog}");
        }
        if (options.Limits is { Length: > 0 } limitsFile && LimitsProblem(limitsFile) is { } badLimits)
        {
            errors.Add($"Spotwise:Limits: {badLimits}");
        }
        if (!(options.Speed > 0) || !double.IsFinite(options.Speed))
        {
            errors.Add($"Spotwise:Speed is {options.Speed}; it must be a number > 0");
        }
        if (options.SpotTrace is { Length: > 0 } trace && !File.Exists(trace))
        {
            errors.Add($"Spotwise:SpotTrace is '{trace}'; no such file");
        }
        if (options.ReplicaId is { } replica && string.IsNullOrWhiteSpace(replica))
        {
            errors.Add("Spotwise:ReplicaId is empty; name this replica, or leave it out to run as the only one");
        }
        if (options.LeaseTtl < TimeSpan.FromSeconds(1) || options.LeaseTtl > TimeSpan.FromMinutes(10))
        {
            errors.Add($"Spotwise:LeaseTtl is {options.LeaseTtl}; it must be between 1 second and 10 minutes");
        }
        if (options.LocalSlots < 1)
        {
            errors.Add($"Spotwise:LocalSlots is {options.LocalSlots}; it must be >= 1");
        }
        if (AgentKey.Problem(env(AgentKey.EnvironmentVariable)) is { } agentKey)
        {
            errors.Add(agentKey);
        }
        if (options.Amqp is { Length: > 0 } amqp && RabbitMqOptions.Problem(amqp) is { } badAmqp)
        {
            errors.Add($"Spotwise:Amqp: {badAmqp}");
        }
        if (string.IsNullOrWhiteSpace(options.AmqpQueue))
        {
            errors.Add("Spotwise:AmqpQueue is empty; name the queue jobs are taken from");
        }
        errors.AddRange(options.Budgets.Select(b => b.Value.Problem(b.Key)).OfType<string>());
        if (!ApiKeyRing.TryParse(options.ApiKeys, out _, out var why))
        {
            errors.Add($"Spotwise:ApiKeys: {why}");
        }
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>What is wrong with a limits file on its own (the catalog's names are checked when the catalog is loaded).</summary>
    public static string? LimitsProblem(string path) => !File.Exists(path) ? $"'{path}' does not exist"
        : Spotwise.Core.Serialization.LimitsFile.Parse(File.ReadAllText(path)) is { Ok: false } parsed ? string.Join("; ", parsed.Errors)
        : null;
}

/// <summary>One team's budget in the configuration (<c>Spotwise:Budgets:&lt;team&gt;</c>).</summary>
public sealed class BudgetSettings
{
    /// <summary><c>day</c>, <c>week</c> or <c>month</c> (UTC; a week starts on Monday).</summary>
    public string? Period { get; set; }

    public double? LimitUsd { get; set; }

    /// <summary>Why the entry is not a budget, naming the setting and its value; null when it is one.</summary>
    public string? Problem(string team)
    {
        var at = $"{SpotwiseOptions.Section}:Budgets:{team}";
        if (!BudgetPeriods.TryParse(Period, out _))
        {
            return $"{at}:Period is '{Period}'; use one of {string.Join(", ", BudgetPeriods.Names)}";
        }
        if (LimitUsd is not { } limit)
        {
            return $"{at}:LimitUsd is missing; give the limit in USD";
        }
        return BudgetLimit.WhyNot(limit) is { } why ? $"{at}:LimitUsd: {why}" : null;
    }

    public BudgetLimit ToLimit() => new(BudgetPeriods.TryParse(Period, out var period) ? period : BudgetPeriod.Month, LimitUsd ?? 0);
}
