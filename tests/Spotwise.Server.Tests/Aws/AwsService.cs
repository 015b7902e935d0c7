using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Aws.Fakes;

namespace Spotwise.Server.Tests.Aws;

/// <summary>
/// The service as <c>spotwise serve --backend aws</c> composes it (<c>SpotwiseApp.Build</c> with the <c>Spotwise:Aws</c>
/// section), its EC2 the loopback fake on the service's own fake clock, reached through the real SDK client. The only
/// test-made part is the credentials: dummy ones registered as the <see cref="AWSCredentials"/> service, which the
/// composition prefers to the SDK's chain.
/// </summary>
public sealed class AwsService : IAsyncDisposable
{
    private readonly AmazonEC2Client _inspector;

    private AwsService(SpotwiseServerFactory factory, FakeEc2Server ec2)
    {
        Factory = factory;
        Ec2 = ec2;
        _inspector = new AmazonEC2Client(Credentials, new AmazonEC2Config { ServiceURL = ec2.BaseUri.ToString(), AuthenticationRegion = "us-east-1" });
    }

    public static readonly BasicAWSCredentials Credentials = new("AKIDEXAMPLE", "not-a-secret");

    public SpotwiseServerFactory Factory { get; }

    public FakeEc2Server Ec2 { get; }

    /// <summary>
    /// Starts the loopback EC2 (knowing <paramref name="zoneBySubnet"/>) and composes the service against it with
    /// <paramref name="settings"/> on top of <c>Backend=aws</c>; the host itself starts when a test first asks for it.
    /// </summary>
    public static async Task<AwsService> StartAsync(IReadOnlyDictionary<string, string> zoneBySubnet, IReadOnlyDictionary<string, string> settings,
        FakeTimeProvider? time = null)
    {
        // The settings are read when the host is built, after the fake (which needs the factory's clock) has its port.
        var all = new Dictionary<string, string>(StringComparer.Ordinal) { ["Spotwise:Backend"] = "aws" };
        var factory = new SpotwiseServerFactory(all, services: services => services.AddSingleton<AWSCredentials>(Credentials), time: time);
        var ec2 = await FakeEc2Server.StartAsync(factory.Time, zoneBySubnet);
        all["Spotwise:Aws:ServiceUrl"] = ec2.BaseUri.ToString();
        foreach (var (key, value) in settings)
        {
            all[key] = value;
        }
        return new AwsService(factory, ec2);
    }

    /// <summary>Every instance the loopback EC2 holds, as EC2 describes it (whoever launched it).</summary>
    public async Task<List<Instance>> InstancesAsync()
    {
        var response = await _inspector.DescribeInstancesAsync(new DescribeInstancesRequest());
        return [.. (response.Reservations ?? []).SelectMany(r => r.Instances ?? [])];
    }

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Ec2.DisposeAsync();
        _inspector.Dispose();
    }
}
