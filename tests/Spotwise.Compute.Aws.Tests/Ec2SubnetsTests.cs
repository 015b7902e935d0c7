using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Compute.Aws.Tests;

/// <summary>
/// <c>--subnets</c>: the backend asks the loopback EC2 (DescribeSubnets, through the real SDK client) which zone each
/// subnet is in, launches each planned zone into its subnet, and a placement in the region itself into the first one.
/// </summary>
public sealed class Ec2SubnetsTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> ZoneBySubnet = new(StringComparer.Ordinal)
    {
        ["subnet-aaaa"] = "us-west-2a",
        ["subnet-bbbb"] = "us-west-2b",
        ["subnet-cccc"] = "us-west-2c",
        ["subnet-aaa2"] = "us-west-2a",
    };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly List<AmazonEC2Client> _clients = [];
    private FakeEc2Server _server = null!;

    public async Task InitializeAsync() => _server = await FakeEc2Server.StartAsync(_time, ZoneBySubnet);

    public async Task DisposeAsync()
    {
        _clients.ForEach(c => c.Dispose());
        await _server.DisposeAsync();
    }

    private AwsEc2Compute Backend(params string[] subnets)
    {
        var options = new AwsComputeOptions
        {
            ServiceUrl = _server.BaseUri,
            Region = "us-west-2",
            LaunchTemplateId = "lt-0abc",
            Subnets = subnets,
            Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
        };
        var client = (AmazonEC2Client)AwsComputeRegistration.CreateClient(options);
        _clients.Add(client);
        return new AwsEc2Compute(client, options, _time);
    }

    private static LaunchRequest Spot(string jobId, string zone) =>
        new(ClientTokens.For(new JobKey("ml", jobId), 1), "ml", jobId, 1, Market.Spot, "p3.2xlarge", zone, 1, false, 0, null);

    private async Task<string> SubnetOfAsync(string instanceId)
    {
        var described = await _clients[0].DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [instanceId] });
        return Assert.Single(described.Reservations.SelectMany(r => r.Instances)).SubnetId;
    }

    [Fact]
    public async Task Each_subnets_zone_is_learnt_from_ec2_and_a_zones_launch_goes_to_its_subnet()
    {
        var backend = Backend("subnet-bbbb", "subnet-cccc");

        await backend.StartAsync(CancellationToken.None);
        var launched = await backend.LaunchAsync(Spot("job-1", "us-west-2c"), CancellationToken.None);

        Assert.Equal("subnet-cccc", await SubnetOfAsync(launched.InstanceId));
        Assert.Equal(1, _server.Actions.Count(a => a == "DescribeSubnets"));
    }

    [Fact]
    public async Task A_placement_whose_zone_is_the_region_goes_to_the_first_subnet_listed()
    {
        var backend = Backend("subnet-cccc", "subnet-bbbb");

        var launched = await backend.LaunchAsync(Spot("job-1", "us-west-2"), CancellationToken.None);
        var again = await backend.LaunchAsync(Spot("job-1", "us-west-2"), CancellationToken.None);

        Assert.Equal("subnet-cccc", await SubnetOfAsync(launched.InstanceId));
        Assert.Equal(launched.InstanceId, again.InstanceId);
    }

    [Fact]
    public async Task A_zone_of_another_region_without_a_subnet_is_still_refused_naming_it()
    {
        var backend = Backend("subnet-aaaa");

        var error = await Assert.ThrowsAsync<ArgumentException>(() => backend.LaunchAsync(Spot("job-1", "us-east-1"), CancellationToken.None));

        Assert.Contains("'us-east-1'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _server.InstanceCount);
    }

    [Fact]
    public async Task A_subnet_ec2_does_not_know_stops_the_start_naming_it()
    {
        var backend = Backend("subnet-aaaa", "subnet-zzzz");

        var error = await Assert.ThrowsAsync<AwsConfigurationException>(() => backend.StartAsync(CancellationToken.None));

        Assert.Equal(Ec2Subnets.SubnetsSetting, error.Setting);
        Assert.Contains("subnet-zzzz", error.Message, StringComparison.Ordinal);
        Assert.Contains("InvalidSubnetID.NotFound", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_subnets_in_one_zone_are_refused_naming_both()
    {
        var backend = Backend("subnet-aaaa", "subnet-aaa2");

        var error = await Assert.ThrowsAsync<AwsConfigurationException>(() => backend.StartAsync(CancellationToken.None));

        Assert.Contains("'subnet-aaaa' and 'subnet-aaa2' are both in us-west-2a", error.Message, StringComparison.Ordinal);
    }
}
