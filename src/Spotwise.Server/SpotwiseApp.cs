using Amazon.Runtime;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Spotwise.Compute.Aws;
using Spotwise.Compute.Aws.Prices;
using Spotwise.Compute.Kubernetes;
using Spotwise.Compute.Local;
using Spotwise.Compute.Simulated;
using Spotwise.Compute.Slurm;
using Spotwise.Core;
using Spotwise.Intake.RabbitMq;
using Spotwise.Planning;
using Spotwise.Planning.Llm;
using Spotwise.Runtime;
using Spotwise.Runtime.Alerting;
using Spotwise.Runtime.Attempts;
using Spotwise.Runtime.Backends;
using Spotwise.Runtime.Budgeting;
using Spotwise.Runtime.History;
using Spotwise.Runtime.Intake;
using Spotwise.Runtime.Leadership;
using Spotwise.Runtime.Policy;
using Spotwise.Runtime.Reconciliation;
using Spotwise.Runtime.Traces;
using Spotwise.Server.Alerting;
using Spotwise.Server.Components;
using Spotwise.Server.Dashboard;
using Spotwise.Server.Why;

namespace Spotwise.Server;

/// <summary>
/// Builds the service: API, scheduler and reconcile loops, store, backend. <c>Program</c> runs it; so does
/// <c>spotwise serve</c>.
/// </summary>
public static class SpotwiseApp
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);

        builder.Services.AddOptions<SpotwiseOptions>()
            .Bind(builder.Configuration.GetSection(SpotwiseOptions.Section))
            .ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<SpotwiseOptions>>(sp =>
            new SpotwiseOptionsValidator(key => builder.Configuration[key], ComputeBackends.Names(sp)));
        builder.Services.AddSingleton<TimeProvider>(sp =>
        {
            var speed = sp.GetRequiredService<IOptions<SpotwiseOptions>>().Value.Speed;
            return speed == 1 ? TimeProvider.System : new ScaledTimeProvider(TimeProvider.System, speed);
        });

        // The store is opened when the host starts, by the first hosted service (before the loops and the HTTP server),
        // and disposed with the host. Every write passes the signalling wrapper, so the dashboard's open pages hear of it.
        builder.Services.AddSingleton<ChangeSignal>();
        builder.Services.AddSingleton<OpenedJobStore>();
        builder.Services.AddHostedService<JobStoreOpener>();
        // With a broker (Spotwise:Amqp), every committed write is also handed to the job event publisher.
        builder.Services.AddSingleton<IJobStore>(sp => RabbitMqRegistration.WrapStore(sp,
            new SignallingJobStore(sp.GetRequiredService<OpenedJobStore>(), sp.GetRequiredService<ChangeSignal>())));
        AddLeadership(builder.Services, builder.Configuration[$"{SpotwiseOptions.Section}:{nameof(SpotwiseOptions.ReplicaId)}"],
            builder.Configuration[$"{SpotwiseOptions.Section}:{nameof(SpotwiseOptions.Store)}"]);
        builder.Services.AddSingleton(sp => LoadCatalogs(Options(sp)));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<RegionCatalogs>().Combined);
        // Replayed traces are the market the simulated cloud sells: the planner prices spot from them, and the spot
        // policy's history reads their capacity (ISpotPoolFeed), as in `simulate`. Without traces, the catalog's prices.
        AddPriceFeed(builder.Services);
        builder.Services.AddSingleton(Planner);
        // Backends by name; Spotwise:Backend names the one that launches the catalog's offers, and the scheduler plans
        // with its launch allowance (local processes start at once, the simulated cloud boots).
        AddBackends(builder.Services);
        builder.Services.AddComputeRoute(sp => new ComputeRoute(sp.GetRequiredService<Catalog>().Provider, Options(sp).Backend));
        builder.Services.AddSingleton(sp => Scheduling(Options(sp), ComputeBackends.Named(sp, Options(sp).Backend).LaunchAllowance(sp), sp.GetRequiredService<Catalog>()));
        builder.Services.AddSingleton<RuntimeCounters>();
        builder.Services.AddSpotwiseMetrics();
        builder.Services.AddSingleton(new SpotBackoff());
        // Quotas the cloud refused launches for, learnt for an hour: the scheduler and the reconciler's fallback plan within them.
        builder.Services.AddSingleton(new LearnedLimits());
        // What keeps a backend from acting (a missing permission, no credentials): written by backends, read by /healthz and the dashboard.
        builder.Services.TryAddSingleton<BackendHealth>();
        // The spot policy's memory of the market (what the price feed and the backend say of each pool), one per service.
        builder.Services.AddSingleton(new SpotAvailabilityHistory());
        // Teams' dollar budgets: the configuration's, overridden by those the admin API keeps in the store (docs/teams.md#budgets).
        builder.Services.AddSingleton(sp => new Budgets(sp.GetRequiredService<IJobStore>(), sp.GetRequiredService<OpenedJobStore>(),
            Options(sp).ConfiguredBudgets(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => new BudgetGate(sp.GetRequiredService<Budgets>(), sp.GetRequiredService<IPriceFeed>(),
            sp.GetRequiredService<SchedulerOptions>(), sp.GetRequiredService<IJobStore>(), sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(new AdminKey(builder.Configuration[AdminKey.EnvironmentVariable]));
        // Alerts (Spotwise:Alerts): raised by the scheduler and the reconcile loop, sent to webhooks in the background.
        builder.Services.AddSpotwiseAlerts(builder.Configuration);
        // What finished jobs say of estimates (docs/teams.md, "Learning from history"): the scheduler plans with it, the job view shows it.
        builder.Services.AddSingleton(sp => new RunHistoryTracker(RunHistorySettings(sp.GetRequiredService<IConfiguration>())));
        // What the service's spot attempts say of each pool's interruption rate: the scheduler prices spot with it, /api/prices and why show it.
        builder.Services.AddSingleton(sp => new PoolInterruptionTracker(PoolHistorySettings(sp.GetRequiredService<IConfiguration>())));
        builder.Services.AddSingleton<Scheduler>();
        // Why a job is where it is, or waits: the why endpoint and the job page ask the same explainer.
        builder.Services.AddSingleton<WhyExplainer>();
        // The one door for jobs; a new job wakes the scheduler.
        builder.Services.AddSingleton(sp => new JobIntake(sp.GetRequiredService<IJobStore>(), sp.GetRequiredService<Catalog>(),
            sp.GetRequiredService<TimeProvider>(), () => sp.GetRequiredService<SchedulerLoop>().Signal(), sp.GetRequiredService<BudgetGate>()));
        builder.Services.AddSingleton(sp => ReplayedTraces.From(sp.GetRequiredService<IOptions<SpotwiseOptions>>().Value, sp));
        builder.Services.AddSingleton(sp => new ReconcileLoop(
            sp.GetRequiredService<IJobStore>(), sp.GetRequiredService<ICompute>(), sp.GetRequiredService<IPriceFeed>(),
            sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ReconcileLoop>>(), counters: sp.GetRequiredService<RuntimeCounters>(),
            backoff: sp.GetRequiredService<SpotBackoff>(), limits: sp.GetRequiredService<SchedulerOptions>().Limits,
            history: sp.GetRequiredService<SpotAvailabilityHistory>(), launchAllowance: sp.GetRequiredService<SchedulerOptions>().Settings.LaunchAllowance,
            learned: sp.GetRequiredService<LearnedLimits>(),
            transferGbps: sp.GetRequiredService<SchedulerOptions>().Settings.TransferGbps, leadership: sp.GetService<ILeadership>(),
            alerts: sp.GetService<Alerts>()));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<ReconcileLoop>());
        // The real clock paces cycles whatever the scheduler's clock is (SchedulerLoop's remarks).
        builder.Services.AddSingleton(sp => new SchedulerLoop(sp.GetRequiredService<Scheduler>(), sp.GetRequiredService<ReconcileLoop>(),
            sp.GetRequiredService<IOptions<SpotwiseOptions>>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<SchedulerLoop>>(),
            pacing: TimeProvider.System, leadership: sp.GetService<ILeadership>(), store: sp.GetRequiredService<IJobStore>(),
            notifications: Options(sp).Store is { Length: > 0 } ? sp.GetRequiredService<OpenedJobStore>() : null));
        builder.Services.AddHostedService(sp => sp.GetRequiredService<SchedulerLoop>());
        // Jobs from RabbitMQ through the same intake, and job events to it (docs/scale-out.md); after the store's opener.
        var amqp = new SpotwiseOptions { Amqp = builder.Configuration[$"{SpotwiseOptions.Section}:Amqp"] };
        amqp.AmqpQueue = builder.Configuration[$"{SpotwiseOptions.Section}:AmqpQueue"] ?? amqp.AmqpQueue;
        if (amqp.RabbitMq() is { } rabbitMq)
        {
            builder.Services.AddRabbitMqIntake(rabbitMq);
        }

        builder.Services.AddSingleton(sp => Keys(sp));
        // Agents on cloud instances report to /api/attempts with their attempt's secret; a backend reads the reports.
        builder.Services.AddSingleton(sp => new AttemptReports(sp.GetRequiredService<TimeProvider>()));
        builder.Services.AddSingleton(sp => AgentKey.Load(Options(sp).Db, builder.Configuration[AgentKey.EnvironmentVariable]));
        builder.Services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, DashboardCookieHandler>(DashboardCookieHandler.SchemeName, null);
        builder.Services.AddRazorComponents();
        builder.Services.AddScoped<DashboardData>();
        builder.Services.AddAuthorization(AdminKey.AddPolicies);
        builder.Services.AddProblemDetails();
        builder.Services.AddSpotwiseOpenApi();
        builder.Services.AddSpotwiseRateLimits();
        // The largest body any endpoint takes; each endpoint's own, smaller limit is BodyLimits' (which TestServer runs too).
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = BodyLimits.MaxBytes);
        builder.Services.Configure<Microsoft.AspNetCore.Http.Features.FormOptions>(BodyLimits.Forms);

        var app = builder.Build();

        app.Services.GetRequiredService<ApiKeyRing>();

        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseBodyLimits();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();

        app.MapHealthApi();
        app.MapOpenApi();
        app.MapMetricsApi();
        // Outside the key-authenticated group: agents hold an attempt's secret, not a team key.
        app.MapAttemptsApi();
        // Authorisation (401 without a valid key) runs before the limiter, which counts by the key's identity.
        var api = app.MapGroup("").RequireRateLimiting(RateLimits.PerKey)
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(JobInput.MaxBodyBytes)).ApiGroupAnswers();
        api.MapJobsApi();
        api.MapPlanApi();
        api.MapMarketApi();
        api.MapMoneyApi();
        api.MapBudgetsApi();
        api.MapWhyApi();
        app.MapDashboard();
        app.MapRazorComponents<App>();
        return app;
    }

    /// <summary>
    /// With <c>Spotwise:ReplicaId</c>, the replicas sharing the store elect one leader through the store's lease, and only
    /// it plans and reconciles (docs/scale-out.md#two-schedulers); the election starts right after the store opens, before
    /// the loops. On PostgreSQL (<c>Spotwise:Store</c>) the service takes part without a replica id too, under this host
    /// and process's id: a database is easily shared by accident, and two services that both planned would launch every
    /// job twice. On SQLite without one no leadership is registered: the one process leads from the start, with no lease
    /// and no wait.
    /// </summary>
    private static void AddLeadership(IServiceCollection services, string? replicaId, string? store)
    {
        if (string.IsNullOrWhiteSpace(replicaId) && string.IsNullOrWhiteSpace(store))
        {
            return;
        }
        // The lease is kept between processes, so on the wall clock they share: each replica's service clock starts
        // where the replica started, and under --speed two of them disagree by minutes.
        services.AddSingleton(sp => new LeaderElection(sp.GetRequiredService<OpenedJobStore>(),
            new LeaderElectionOptions(Options(sp).ReplicaId ?? LeaderElectionOptions.DefaultReplicaId(), Options(sp).LeaseTtl), TimeProvider.System,
            sp.GetRequiredService<ILogger<LeaderElection>>()));
        services.AddSingleton<ILeadership>(sp => sp.GetRequiredService<LeaderElection>());
        services.AddHostedService(sp => sp.GetRequiredService<LeaderElection>());
    }

    /// <summary>
    /// The market the planner prices: on EC2 (<c>Spotwise:Backend</c> = <c>aws</c>) live, each zone's spot price from EC2
    /// cached with a TTL (<c>Spotwise:Aws</c>, docs/aws.md), one feed per region combined into one catalog; otherwise the
    /// catalog's, or the replayed traces'.
    /// </summary>
    public static IServiceCollection AddPriceFeed(IServiceCollection services) => services.AddSingleton<IPriceFeed>(sp =>
        Options(sp).OnAws ? AwsPriceFeeds(sp)
        : sp.GetRequiredService<ReplayedTraces>().Traces is { Count: > 0 } traces ? new TracePriceFeed(sp.GetRequiredService<Catalog>(), traces)
        : new CatalogPriceFeed(sp.GetRequiredService<Catalog>()));

    /// <summary>A live feed per region (credentials: a registered <see cref="AWSCredentials"/>, else the SDK's chain), combined when several.</summary>
    private static IPriceFeed AwsPriceFeeds(IServiceProvider sp)
    {
        var catalogs = sp.GetRequiredService<RegionCatalogs>().ByRegion;
        var feeds = catalogs.Select(c => AwsPriceFeedRegistration.Create(sp, Options(sp).Aws.PriceFeedOptions(c, sp.GetService<AWSCredentials>()))).ToList();
        return feeds.Count == 1 ? feeds[0] : new CombinedPriceFeed(feeds, catalogs[0].Transfer);
    }

    /// <summary>
    /// How the scheduler plans: with the launch allowance of the backend that launches (local processes start at once,
    /// the simulated cloud boots for its launch delay). A model-backed planner's cycle may last the model's timeout: the cycle's limit bounds the model's time.
    /// </summary>
    private static SchedulerOptions Scheduling(SpotwiseOptions options, TimeSpan launchAllowance, Catalog catalog)
    {
        var defaults = new SchedulerOptions();
        return defaults with
        {
            Limits = options.Limits is { Length: > 0 } path ? Limits(path, catalog) : defaults.Limits,
            Settings = defaults.Settings with { LaunchAllowance = launchAllowance },
            Solve = PlannerFactory.NeedsModel(options.Planner) ? defaults.Solve with { TimeLimit = options.LlmTimeout } : defaults.Solve,
            FairShare = options.FairShare.ToSettings(),
        };
    }

    /// <summary>
    /// The limits file against the catalog (the options validator has read it alone already): an instance type the
    /// catalog does not sell stops the start, naming the field.
    /// </summary>
    private static CapacityLimits Limits(string path, Catalog catalog) =>
        Spotwise.Core.Serialization.LimitsFile.Parse(File.ReadAllText(path), catalog) is { Ok: true, Value: { } limits } ? limits
            : throw new InvalidOperationException($"{SpotwiseOptions.Section}:Limits '{path}': "
                + string.Join("; ", Spotwise.Core.Serialization.LimitsFile.Parse(File.ReadAllText(path), catalog).Errors));

    /// <summary>
    /// <c>Spotwise:History:Pools</c> (<see cref="PoolHistoryOptions"/>'s names, defaults where unset); a value out of its
    /// range stops the start naming the setting and the value.
    /// </summary>
    private static PoolHistoryOptions PoolHistorySettings(IConfiguration configuration)
    {
        var section = $"{SpotwiseOptions.Section}:History:Pools";
        var settings = configuration.GetSection(section).Get<PoolHistoryOptions>() ?? PoolHistoryOptions.Default;
        var problems = settings.Problems().Select(p => $"{section}:{p}").ToList();
        return problems.Count == 0 ? settings : throw new OptionsValidationException(section, typeof(PoolHistoryOptions), problems);
    }

    /// <summary>
    /// <c>Spotwise:History</c> (<see cref="RunHistoryOptions"/>'s names, defaults where unset); a value out of its range
    /// stops the start naming the setting and the value.
    /// </summary>
    private static RunHistoryOptions RunHistorySettings(IConfiguration configuration)
    {
        var section = $"{SpotwiseOptions.Section}:History";
        var settings = configuration.GetSection(section).Get<RunHistoryOptions>() ?? RunHistoryOptions.Default;
        var problems = settings.Problems().Select(p => $"{section}:{p}").ToList();
        return problems.Count == 0 ? settings : throw new OptionsValidationException(section, typeof(RunHistoryOptions), problems);
    }

    /// <summary>
    /// The configured planner. A model-backed one reads its provider and key from the configuration (the environment
    /// included); the options validator has already refused a start without them. When the model fails, the planner
    /// itself falls back to the optimizer, so a cycle always has a plan.
    /// </summary>
    private static IPlanner Planner(IServiceProvider sp)
    {
        var configuration = sp.GetRequiredService<IConfiguration>();
        var options = sp.GetRequiredService<IOptions<SpotwiseOptions>>().Value;
        var settings = PlannerFactory.NeedsModel(options.Planner)
            ? LlmEnvironment.Resolve(options.LlmProvider, options.Model, key => configuration[key]).Settings! with { RequestTimeout = options.LlmTimeout }
            : null;
        // One HttpClient for the life of the (singleton) planner. The model answers in real time whatever the service's
        // clock (--speed 600 must not make a 120 s limit 0.2 s): its timeouts and backoff run on the system clock.
        return PlannerFactory.Create(options.Planner, settings, LlmClients.CreateHttpClient(), TimeProvider.System,
            sp.GetRequiredService<ILoggerFactory>())!;
    }

    /// <summary>The backends the service can run on, by name; only the one <c>Spotwise:Backend</c> names is ever made.</summary>
    private static IServiceCollection AddBackends(IServiceCollection services) => services
        .AddSimulatedCompute(sp => new SimulatedCloudOptions
        {
            Catalog = sp.GetRequiredService<Catalog>(),
            SpotTraces = sp.GetRequiredService<ReplayedTraces>().Traces,
        })
        .AddLocalCompute(sp => new LocalProcessOptions
        {
            Slots = Options(sp).LocalSlots,
            LogDirectory = System.IO.Path.GetFullPath(Options(sp).Db) + ".logs",
        })
        // Credentials: the SDK's default chain, unless something registered its own (a test, for a loopback EC2).
        .AddAwsCompute(sp => Options(sp).Aws.ToComputeOptions(sp.GetService<AWSCredentials>(), inUse: Options(sp).OnAws))
        .AddSlurmCompute(sp => Options(sp).Slurm)
        // The cluster from the kubeconfig or the in-cluster service account (docs/kubernetes.md).
        .AddKubernetesCompute(sp => Options(sp).Kubernetes.ToComputeOptions());

    /// <summary>
    /// The catalogs the planner prices from: <c>Spotwise:Catalog</c> or the shipped snapshot. With the <c>aws</c> backend
    /// it is read as each configured region's (the snapshot's us-east-1 prices stand in for another region's until a
    /// refreshed catalog is given), so offers, placements and zones name the regions EC2 launches in.
    /// </summary>
    private static RegionCatalogs LoadCatalogs(SpotwiseOptions options) => RegionCatalogs.Load(
        options.Catalog is { Length: > 0 } path ? path : ShippedCatalog.Path,
        options.OnAws && options.Aws.AllRegions() is { Count: > 0 } regions ? regions : [ShippedCatalog.Region]);

    /// <summary>The names of the backends the service registers (<c>Spotwise:Backend</c>, <c>--backend</c>), in one place.</summary>
    public static IReadOnlyList<string> BackendNames { get; } = ComputeBackends.Names(AddBackends(new ServiceCollection()));

    private static SpotwiseOptions Options(IServiceProvider sp) => sp.GetRequiredService<IOptions<SpotwiseOptions>>().Value;

    /// <summary>The configured keys; with none, one generated for team <c>default</c>, printed so the user can use it.</summary>
    private static ApiKeyRing Keys(IServiceProvider sp)
    {
        var ring = ApiKeyRing.From(sp.GetRequiredService<IOptions<SpotwiseOptions>>().Value, Environment.GetEnvironmentVariable(ApiKeyRing.EnvironmentVariable));
        if (ring.Count > 0)
        {
            return ring;
        }
        var (generated, key) = ApiKeyRing.Generated();
        ServerLog.GeneratedKey(sp.GetRequiredService<ILoggerFactory>().CreateLogger("Spotwise.Server"), ApiKeyRing.EnvironmentVariable, key);
        Console.WriteLine($"No API keys configured ({ApiKeyRing.EnvironmentVariable}): use this key for team '{ApiKeyRing.DefaultTeam}' with the API, the CLI and the dashboard (open / and sign in): {key}");
        return generated;
    }
}

/// <summary>The spot traces the simulated cloud replays (none without <c>Spotwise:SpotTrace</c>); the dashboard charts them.</summary>
public sealed record ReplayedTraces(IReadOnlyList<SpotTrace> Traces)
{
    public static ReplayedTraces From(SpotwiseOptions options, IServiceProvider sp) => new(options.SpotTrace is { Length: > 0 } trace
        ? [SpotTraceFile.Read(trace, options.SpotTraceInstanceType, sp.GetRequiredService<TimeProvider>().GetUtcNow(), zone: sp.GetRequiredService<Catalog>().Region)]
        : []);
}
