using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Compute.Aws.Events;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;

namespace Spotwise.Compute.Aws.Tests;

public sealed class AwsComputeRegistrationTests
{
    private static AwsComputeOptions Options => new()
    {
        Region = "us-east-1",
        ServiceUrl = new Uri("http://127.0.0.1:1"),
        LaunchTemplateId = "lt-0abc",
        SubnetsByZone = new Dictionary<string, string>(StringComparer.Ordinal) { ["us-east-1a"] = "subnet-aaaa" },
        LaunchAllowance = TimeSpan.FromMinutes(4),
        InterruptionQueueUrl = "http://127.0.0.1:2/123456789012/spot-events",
        SqsServiceUrl = new Uri("http://127.0.0.1:2"),
        Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
    };

    [Fact]
    public void The_aws_backend_is_registered_by_name_with_its_launch_allowance()
    {
        var services = new ServiceCollection().AddSingleton(TimeProvider.System).AddAwsCompute(_ => Options);
        using var provider = services.BuildServiceProvider();

        var backend = Assert.Single(provider.GetServices<ComputeBackend>());
        Assert.Equal(AwsComputeRegistration.Name, backend.Name);
        Assert.Equal(TimeSpan.FromMinutes(4), backend.LaunchAllowance(provider));
        Assert.IsType<AwsEc2Compute>(provider.GetRequiredKeyedService<ICompute>(AwsComputeRegistration.Name));
    }

    [Fact]
    public void The_interruption_queue_consumer_is_registered_with_the_backend_and_shares_its_notices()
    {
        var services = new ServiceCollection().AddSingleton(TimeProvider.System)
            .AddSingleton(typeof(ILogger<>), typeof(NullLogger<>))
            .AddAwsCompute(_ => Options);
        using var provider = services.BuildServiceProvider();

        Assert.Single(provider.GetServices<IHostedService>().OfType<InterruptionQueueConsumer>());
        Assert.Same(provider.GetRequiredService<InstanceNotices>(), provider.GetRequiredService<InstanceNotices>());
        Assert.Equal("http://127.0.0.1:2/", AwsComputeRegistration.CreateSqsClient(Options).Config.ServiceURL);
    }

    [Fact]
    public void An_endpoint_override_is_the_clients_service_url_signed_for_the_region()
    {
        var config = AwsComputeRegistration.Config(Options);

        Assert.Equal("http://127.0.0.1:1/", config.ServiceURL);
        Assert.Equal("us-east-1", config.AuthenticationRegion);
    }
}
