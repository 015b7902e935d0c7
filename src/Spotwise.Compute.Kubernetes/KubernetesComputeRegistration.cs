using System.Diagnostics.Metrics;
using k8s;
using k8s.Exceptions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spotwise.Compute.Kubernetes.Cleanup;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;

namespace Spotwise.Compute.Kubernetes;

/// <summary>Kubernetes as a backend of the service, registered by name.</summary>
public static class KubernetesComputeRegistration
{
    public const string Name = "kubernetes";

    /// <summary>
    /// Registers Kubernetes as backend <c>kubernetes</c>: a client on the options' kubeconfig and context (or the default:
    /// <c>KUBECONFIG</c>, ~/.kube/config, the in-cluster service account). When a route names it, the watch starts with the
    /// service, and the orphan sweep runs when the service has a job store.
    /// </summary>
    public static IServiceCollection AddKubernetesCompute(this IServiceCollection services, Func<IServiceProvider, KubernetesComputeOptions> options)
    {
        services.AddSingleton(options);
        services.TryAddSingleton<BackendHealth>();
        services.AddHostedService(sp => new KubernetesComputeStart(sp));
        return services.AddComputeBackend(Name,
            sp =>
            {
                var o = sp.GetRequiredService<KubernetesComputeOptions>();
                return new KubernetesJobsCompute(CreateClient(o), o, sp.GetRequiredService<TimeProvider>(),
                    sp.GetService<ILoggerFactory>()?.CreateLogger<KubernetesJobsCompute>(), sp.GetRequiredService<BackendHealth>());
            },
            sp => sp.GetRequiredService<KubernetesComputeOptions>().LaunchAllowance);
    }

    /// <summary>The client for the options' cluster.</summary>
    /// <exception cref="KubernetesConfigurationException">No kubeconfig or in-cluster configuration is found, or the context is unknown.</exception>
    public static IKubernetes CreateClient(KubernetesComputeOptions options) => new k8s.Kubernetes(Configuration(options));

    /// <summary>
    /// The options' connection: a test's host as is; a kubeconfig (and context) when named; otherwise the client's default
    /// (<c>KUBECONFIG</c>, ~/.kube/config, then the in-cluster service account).
    /// </summary>
    public static KubernetesClientConfiguration Configuration(KubernetesComputeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        try
        {
            if (options.Host is { } host)
            {
                return new KubernetesClientConfiguration { Host = host.ToString() };
            }
            if (options.Kubeconfig is not null || options.Context is not null)
            {
                return KubernetesClientConfiguration.BuildConfigFromConfigFile(options.Kubeconfig, options.Context);
            }
            return KubernetesClientConfiguration.IsInCluster() && Environment.GetEnvironmentVariable("KUBECONFIG") is null
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile();
        }
        catch (Exception e) when (e is KubeConfigException or FileNotFoundException or IOException)
        {
            throw new KubernetesConfigurationException(
                $"no usable cluster configuration ({options.Kubeconfig ?? "KUBECONFIG, ~/.kube/config or the in-cluster service account"}" +
                (options.Context is { } c ? $", context {c}" : "") + $"): {e.Message}", e);
        }
    }

    /// <summary>The sweep over the backend the service made.</summary>
    internal static KubernetesOrphanSweep CreateOrphanSweep(IServiceProvider sp, KubernetesJobsCompute backend)
    {
        var o = sp.GetRequiredService<KubernetesComputeOptions>();
        return new KubernetesOrphanSweep(CreateClient(o), backend, sp.GetRequiredService<IJobStore>(), o, sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger<KubernetesOrphanSweep>()).WithMetrics(sp.GetService<IMeterFactory>());
    }
}

/// <summary>The cluster's configuration cannot be found or read: bad input (<c>--kubeconfig</c>, <c>--kube-context</c>), said at start.</summary>
public sealed class KubernetesConfigurationException : Exception
{
    public KubernetesConfigurationException()
    {
    }

    public KubernetesConfigurationException(string message)
        : base(message)
    {
    }

    public KubernetesConfigurationException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>
/// Starts the Kubernetes backend with the service when a route names it: the backend is made (a missing kubeconfig stops
/// the start, said plainly), its watch lists the namespace's Jobs, and the orphan sweep runs every interval when the
/// service has a job store. With another backend configured it does nothing, and no client is made.
/// </summary>
internal sealed partial class KubernetesComputeStart(IServiceProvider services) : BackgroundService
{
    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!InUse())
        {
            return;
        }
        var backend = (KubernetesJobsCompute)services.GetRequiredKeyedService<ICompute>(KubernetesComputeRegistration.Name);
        try
        {
            await backend.StartAsync(cancellationToken);
        }
        catch (BackendUnavailableException e)
        {
            LogNotYet(Logger, e.Message);
        }
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var options = services.GetRequiredService<KubernetesComputeOptions>();
        if (!InUse() || !options.OrphanSweep.Enabled || services.GetService<IJobStore>() is null || options.OrphanSweep.Interval <= TimeSpan.Zero)
        {
            return;
        }
        var backend = (KubernetesJobsCompute)services.GetRequiredKeyedService<ICompute>(KubernetesComputeRegistration.Name);
        var sweep = KubernetesComputeRegistration.CreateOrphanSweep(services, backend);
        using var timer = new PeriodicTimer(options.OrphanSweep.Interval, services.GetRequiredService<TimeProvider>());
        do
        {
            try
            {
                await sweep.SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSweepFailed(Logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private bool InUse() => services.GetServices<ComputeRoute>().Any(r => r.Backend == KubernetesComputeRegistration.Name);

    private ILogger Logger => services.GetRequiredService<ILoggerFactory>().CreateLogger<KubernetesComputeStart>();

    [LoggerMessage(Level = LogLevel.Warning, Message = "The kubernetes backend could not list its Jobs at start ({Reason}); it keeps trying")]
    private static partial void LogNotYet(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The Kubernetes orphan sweep failed; the next sweep tries again")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
