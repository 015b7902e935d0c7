using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
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
    public void An_endpoint_override_is_the_clients_service_url_signed_for_the_region()
    {
        var config = AwsComputeRegistration.Config(Options);

        Assert.Equal("http://127.0.0.1:1/", config.ServiceURL);
        Assert.Equal("us-east-1", config.AuthenticationRegion);
    }
}
