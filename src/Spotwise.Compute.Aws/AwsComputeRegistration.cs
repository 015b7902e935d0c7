using System.Diagnostics.Metrics;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.SQS;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Compute.Aws.Cleanup;
using Spotwise.Compute.Aws.Events;
using Spotwise.Runtime;
using Spotwise.Runtime.Attempts;
using Spotwise.Runtime.Backends;

namespace Spotwise.Compute.Aws;

/// <summary>EC2 as a backend of the service, registered by name.</summary>
public static class AwsComputeRegistration
{
    public const string Name = "aws";

    /// <summary>
    /// Registers EC2 as backend <c>aws</c>: a client on the SDK's default credential chain, the options' region (or the
    /// SDK's) and endpoint override (or the SDK's, which reads <c>AWS_ENDPOINT_URL</c>). The scheduler plans with the
    /// options' launch allowance. The client is made at the backend's first call, so a service without credentials starts,
    /// and says so on <c>/healthz</c> (<see cref="BackendHealth"/>, one per service) until the SDK finds some.
    /// </summary>
    /// <remarks>
    /// The orphan sweep runs as a hosted service when a route sends launches to <c>aws</c> and the service has a job store.
    /// With the options' <see cref="AwsComputeOptions.InterruptionQueueUrl"/> set, the interruption queue's consumer runs
    /// as a hosted service and the backend reports the notices it records. The options are read when the service starts,
    /// so the consumer is registered either way and reads nothing without a queue URL.
    /// </remarks>
    public static IServiceCollection AddAwsCompute(this IServiceCollection services, Func<IServiceProvider, AwsComputeOptions> options)
    {
        services.AddSingleton(options);
        services.AddHostedService(sp => new AwsComputeStart(sp));
        services.AddSingleton(CreateOrphanSweep);
        services.AddHostedService<OrphanSweepService>();
        services.TryAddSingleton<BackendHealth>();
        services.AddSingleton<InstanceNotices>();
        services.AddHostedService(sp =>
        {
            var o = sp.GetRequiredService<AwsComputeOptions>();
            return new InterruptionQueueConsumer(() => CreateSqsClient(o), o, sp.GetRequiredService<InstanceNotices>(),
                sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<InterruptionQueueConsumer>>(),
                sp.GetService<Spotwise.Runtime.Leadership.ILeadership>());
        });
        return services.AddComputeBackend(Name,
            sp =>
            {
                var o = sp.GetRequiredService<AwsComputeOptions>();
                // The agent's reports and secrets are the service's (its endpoint writes and checks them); needed only with AgentCallbackUrl.
                return new AwsEc2Compute(region => CreateClient(o, region), o, sp.GetRequiredService<TimeProvider>(),
                    sp.GetService<ILoggerFactory>()?.CreateLogger<AwsEc2Compute>(), sp.GetRequiredService<BackendHealth>(), sp.GetService<IMeterFactory>(),
                    notices: sp.GetRequiredService<InstanceNotices>(), reports: sp.GetService<AttemptReports>(), secrets: sp.GetService<AttemptSecrets>());
            },
            sp => sp.GetRequiredService<AwsComputeOptions>().LaunchAllowance);
    }

    /// <summary>
    /// The service launches on EC2: a route names backend <c>aws</c>. The one question the backend's hosted services
    /// (start, orphan sweep) ask before they make anything AWS.
    /// </summary>
    public static bool IsRouted(IServiceProvider services) =>
        services.GetServices<ComputeRoute>().Any(r => string.Equals(r.Backend, Name, StringComparison.Ordinal));

    /// <summary>The sweep, with a client of its own: made only when the sweep runs, so an idle registration resolves no credentials.</summary>
    private static OrphanSweep CreateOrphanSweep(IServiceProvider sp)
    {
        var o = sp.GetRequiredService<AwsComputeOptions>();
        var logger = sp.GetService<ILoggerFactory>()?.CreateLogger<OrphanSweep>() ?? NullLogger<OrphanSweep>.Instance;
        return new OrphanSweep([.. o.LaunchRegions.Select(region => CreateClient(o, region))], sp.GetRequiredService<IJobStore>(), o, sp.GetRequiredService<TimeProvider>(), logger)
            .WithMetrics(sp.GetService<IMeterFactory>());
    }

    /// <summary>An SQS client for the interruption queue, on the same credentials and region as the EC2 client.</summary>
    public static IAmazonSQS CreateSqsClient(AwsComputeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var config = Configure(new AmazonSQSConfig(), options, options.SqsServiceUrl);
        return options.Credentials is { } credentials ? new AmazonSQSClient(credentials, config) : new AmazonSQSClient(config);
    }

    /// <summary>
    /// An EC2 client with the SDK's default credential chain (profile, environment, SSO, instance role) unless the options
    /// carry credentials. The SDK resolves the chain here: without credentials this throws, naming the providers it tried.
    /// </summary>
    public static IAmazonEC2 CreateClient(AwsComputeOptions options) => CreateClient(options, options?.Region);

    /// <summary>The client of one of the options' regions (<see cref="AwsComputeOptions.LaunchRegions"/>), with that region's endpoint.</summary>
    public static IAmazonEC2 CreateClient(AwsComputeOptions options, string? region) =>
        options?.Credentials is { } credentials ? new AmazonEC2Client(credentials, Config(options, region)) : new AmazonEC2Client(Config(options!, region));

    /// <summary>The client's configuration: region and endpoint from the options where given, else the SDK's own resolution.</summary>
    public static AmazonEC2Config Config(AwsComputeOptions options) => Config(options, options?.Region);

    /// <summary>One region's client configuration (<see cref="Config(AwsComputeOptions)"/>).</summary>
    public static AmazonEC2Config Config(AwsComputeOptions options, string? region)
    {
        ArgumentNullException.ThrowIfNull(options);
        return Ec2Clients.Configure(new AmazonEC2Config
        {
            // All retrying is the backend's (Ec2Calls): the SDK's waits run on the wall clock, not the service's, and it
            // would send a capacity error (a server error to EC2) three times before the backend saw it.
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = 0,
        }, region, options.ServiceUrlFor(region));
    }

    /// <summary>Region and endpoint from the options where given; otherwise the SDK resolves them (environment, profile).</summary>
    private static TConfig Configure<TConfig>(TConfig config, AwsComputeOptions options, Uri? serviceUrl)
        where TConfig : ClientConfig => Ec2Clients.Configure(config, options.Region, serviceUrl);
}

/// <summary>
/// Starts the EC2 backend with the service when a route names it (registered before the loops, so they never launch
/// into an unknown subnet): it learns the subnets' zones, and a subnet that does not exist stops the start, naming it.
/// Without credentials or permission to ask, the service starts anyway (the backend's health says why on
/// <c>/healthz</c>, and the first launch asks again). With another backend configured it does nothing, and nothing AWS is made.
/// </summary>
internal sealed partial class AwsComputeStart(IServiceProvider services) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (!AwsComputeRegistration.IsRouted(services))
        {
            return;
        }
        try
        {
            await ((AwsEc2Compute)services.GetRequiredKeyedService<ICompute>(AwsComputeRegistration.Name)).StartAsync(cancellationToken);
        }
        catch (BackendUnavailableException e)
        {
            NotYet(services.GetRequiredService<ILoggerFactory>().CreateLogger<AwsComputeStart>(), e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The aws backend could not learn its subnets' zones at start ({Reason}); launches wait until it can")]
    private static partial void NotYet(ILogger logger, string reason);
}
