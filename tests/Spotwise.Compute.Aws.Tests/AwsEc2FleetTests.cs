using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;
using InstanceState = Spotwise.Runtime.InstanceState;
using RetryPolicy = Spotwise.Core.RetryPolicy;

namespace Spotwise.Compute.Aws.Tests;

/// <summary>
/// <c>--launch-api create-fleet</c>: a placement whose zone is the region is one instant CreateFleet over every subnet of
/// the region, through the real SDK client against the loopback EC2, so a zone without capacity no longer stalls it.
/// </summary>
public sealed class AwsEc2FleetTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> ZoneBySubnet = new(StringComparer.Ordinal)
    {
        ["subnet-aaaa"] = "us-east-1a",
        ["subnet-bbbb"] = "us-east-1b",
        ["subnet-cccc"] = "us-east-1c",
    };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly List<AmazonEC2Client> _clients = [];
    private FakeEc2Server _server = null!;
    private AwsEc2Compute _backend = null!;

    private static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync()
    {
        _server = await FakeEc2Server.StartAsync(_time, ZoneBySubnet);
        _backend = Backend(Options());
    }

    public async Task DisposeAsync()
    {
        _clients.ForEach(c => c.Dispose());
        await _server.DisposeAsync();
    }

    private AwsComputeOptions Options(Ec2LaunchApi api = Ec2LaunchApi.CreateFleet, RetryPolicy? retry = null) => new()
    {
        Retry = retry ?? RetryPolicy.Default,
        ServiceUrl = _server.BaseUri,
        Region = "us-east-1",
        LaunchTemplateId = "lt-0abc",
        Subnets = ["subnet-aaaa", "subnet-bbbb", "subnet-cccc"],
        LaunchApi = api,
        Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
    };

    private AwsEc2Compute Backend(AwsComputeOptions options, BackendHealth? health = null)
    {
        var client = (AmazonEC2Client)AwsComputeRegistration.CreateClient(options);
        _clients.Add(client);
        return new AwsEc2Compute(client, options, _time, health: health);
    }

    private static LaunchRequest Regional(string jobId, Market market = Market.OnDemand, string type = "c5.large", int attempt = 1) =>
        new(ClientTokens.For(new JobKey("ml", jobId), attempt), "ml", jobId, attempt, market, type, "us-east-1", 1, false, 0, null);

    private async Task<Instance> DescribedAsync(string instanceId)
    {
        var described = await _clients[0].DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [instanceId] });
        return Assert.Single(described.Reservations.SelectMany(r => r.Instances));
    }

    private int Calls(string action) => _server.Actions.Count(a => a == action);

    [Fact]
    public async Task A_region_level_on_demand_placement_whose_first_subnets_zone_has_no_capacity_lands_in_the_second_subnets_zone_in_one_call()
    {
        _server.RefuseCapacity("us-east-1a", "c5.large");

        var launched = await _backend.LaunchAsync(Regional("job-1"), Ct);

        var instance = await DescribedAsync(launched.InstanceId);
        Assert.Equal(("subnet-bbbb", "us-east-1b"), (instance.SubnetId, instance.Placement.AvailabilityZone));
        Assert.Equal((InstanceState.Pending, Market.OnDemand, "us-east-1b"), (launched.State, launched.Market, launched.Zone));
        Assert.Equal((1, 0), (Calls("CreateFleet"), Calls("RunInstances")));
        Assert.Equal("us-east-1b", Assert.Single(await _backend.DescribeAsync(Ct)).Zone);
    }

    [Fact]
    public async Task With_run_instances_the_same_placement_is_refused_in_the_first_subnets_zone()
    {
        // What create-fleet fixes: RunInstances asks only the first subnet's zone.
        _server.RefuseCapacity("us-east-1a", "c5.large");

        var refused = await Backend(Options(Ec2LaunchApi.RunInstances)).LaunchAsync(Regional("job-1"), Ct);

        Assert.Equal(RefusalKind.Capacity, refused.Refusal?.Kind);
        Assert.Equal(0, Calls("CreateFleet"));
    }

    [Fact]
    public async Task The_same_attempt_retried_under_its_token_returns_the_same_instance()
    {
        var first = await _backend.LaunchAsync(Regional("job-1"), Ct);
        var again = await Backend(Options()).LaunchAsync(Regional("job-1"), Ct);

        Assert.Equal(first.InstanceId, again.InstanceId);
        Assert.Equal((1, 1), (_server.InstanceCount, _server.FleetCount));
        Assert.Equal(2, Calls("CreateFleet"));
    }

    [Fact]
    public async Task Every_override_refused_is_a_capacity_refusal_naming_each_subnet_and_its_token_is_not_asked_again()
    {
        foreach (var zone in ZoneBySubnet.Values)
        {
            _server.RefuseCapacity(zone, "c5.large");
        }

        var refused = await _backend.LaunchAsync(Regional("job-1"), Ct);
        var listed = Assert.Single(await _backend.DescribeAsync(Ct));
        var again = await _backend.LaunchAsync(Regional("job-1"), Ct);

        // The refusal the reconciler counts and backs off on, as for RunInstances (Ec2ErrorCodes.Capacity).
        Assert.Equal((InstanceState.Interrupted, RefusalKind.Capacity, "InsufficientInstanceCapacity"), (refused.State, refused.Refusal?.Kind, refused.Refusal?.Code));
        Assert.True(refused.IsEnded);
        Assert.All(ZoneBySubnet.Keys, subnet => Assert.Contains(subnet, refused.Error, StringComparison.Ordinal));
        Assert.Equal(refused.InstanceId, listed.InstanceId);
        Assert.Equal(refused, again);
        Assert.Equal((1, 0), (Calls("CreateFleet"), _server.InstanceCount));
    }

    [Fact]
    public async Task A_quota_in_a_pool_the_fleet_could_not_fill_is_a_quota_refusal()
    {
        _server.RefuseCapacity("us-east-1a", "g5.xlarge");
        _server.RefuseQuota("g5.xlarge");

        var refused = await _backend.LaunchAsync(Regional("job-1", type: "g5.xlarge"), Ct);

        Assert.Equal((RefusalKind.Quota, "VcpuLimitExceeded"), (refused.Refusal?.Kind, refused.Refusal?.Code));
    }

    [Fact]
    public async Task A_regional_spot_placement_is_a_spot_fleet_that_skips_a_zone_without_spot_capacity()
    {
        _server.RefuseCapacity("us-east-1a", "p3.2xlarge", spotOnly: true);

        var launched = await _backend.LaunchAsync(Regional("job-1", Market.Spot, "p3.2xlarge"), Ct);

        var instance = await DescribedAsync(launched.InstanceId);
        Assert.Equal(("us-east-1b", "spot"), (instance.Placement.AvailabilityZone, instance.InstanceLifecycle?.Value));
        Assert.Equal((Market.Spot, "us-east-1b"), (launched.Market, launched.Zone));
    }

    [Fact]
    public async Task The_instance_carries_spotwises_tags()
    {
        var launched = await _backend.LaunchAsync(Regional("job-1", attempt: 2), Ct);

        var instance = await DescribedAsync(launched.InstanceId);
        Assert.Equal(
            [("spotwise:attempt", "2"), ("spotwise:job", "job-1"), ("spotwise:managed-by", "spotwise"), ("spotwise:team", "ml")],
            instance.Tags.Select(t => (t.Key, t.Value)).Order());
        Assert.Equal(("ml", "job-1", 2), (launched.Team, launched.JobId, launched.Attempt));
    }

    [Fact]
    public void The_fleet_request_is_instant_for_one_instance_with_an_override_per_subnet_and_tags_on_instance_and_volumes()
    {
        var tags = new List<Tag> { new("spotwise:job", "job-1"), new("spotwise:attempt", "1"), new("spotwise:team", "ml"), new("spotwise:managed-by", "spotwise") };

        var onDemand = Ec2Fleets.Request(Regional("job-1"), "spotwise-batch", ["subnet-bbbb", "subnet-aaaa"], tags);
        var spot = Ec2Fleets.Request(Regional("job-1", Market.Spot), "lt-0abc", ["subnet-aaaa"], tags);

        Assert.Equal(("instant", 1, "on-demand", "ml/job-1#1"), (onDemand.Type.Value, onDemand.TargetCapacitySpecification.TotalTargetCapacity,
            onDemand.TargetCapacitySpecification.DefaultTargetCapacityType.Value, onDemand.ClientToken));
        var config = Assert.Single(onDemand.LaunchTemplateConfigs);
        Assert.Equal(("spotwise-batch", null, "$Default"), (config.LaunchTemplateSpecification.LaunchTemplateName,
            config.LaunchTemplateSpecification.LaunchTemplateId, config.LaunchTemplateSpecification.Version));
        Assert.Equal([("subnet-bbbb", "c5.large"), ("subnet-aaaa", "c5.large")], config.Overrides.Select(o => (o.SubnetId, o.InstanceType.Value)));
        Assert.Equal(("lowest-price", null), (onDemand.OnDemandOptions.AllocationStrategy.Value, onDemand.SpotOptions));
        Assert.Equal(("spot", "price-capacity-optimized", "terminate"), (spot.TargetCapacitySpecification.DefaultTargetCapacityType.Value,
            spot.SpotOptions.AllocationStrategy.Value, spot.SpotOptions.InstanceInterruptionBehavior.Value));
        Assert.Equal("lt-0abc", spot.LaunchTemplateConfigs[0].LaunchTemplateSpecification.LaunchTemplateId);
        Assert.Equal(["instance", "volume"], onDemand.TagSpecifications.Select(t => t.ResourceType.Value));
        Assert.All(onDemand.TagSpecifications, t => Assert.Equal(4, t.Tags.Count));
    }

    [Fact]
    public async Task A_placement_in_a_zone_is_still_one_run_instances_into_its_subnet()
    {
        var launched = await _backend.LaunchAsync(Regional("job-1") with { Zone = "us-east-1c" }, Ct);

        Assert.Equal("subnet-cccc", (await DescribedAsync(launched.InstanceId)).SubnetId);
        Assert.Equal((0, 1), (Calls("CreateFleet"), Calls("RunInstances")));
    }

    [Fact]
    public async Task The_same_token_with_another_request_is_an_idempotent_parameter_mismatch()
    {
        await _backend.LaunchAsync(Regional("job-1"), Ct);

        var error = await Assert.ThrowsAsync<AmazonEC2Exception>(() => _backend.LaunchAsync(Regional("job-1", type: "m5.large"), Ct));

        Assert.Equal("IdempotentParameterMismatch", error.ErrorCode);
        Assert.Equal(1, _backend.Mismatches);
    }

    [Fact]
    public async Task Without_permission_for_create_fleet_the_job_waits_and_the_health_names_ec2_create_fleet()
    {
        var health = new BackendHealth();
        var backend = Backend(Options(), health);
        _server.Deny("CreateFleet");

        await Assert.ThrowsAsync<BackendUnavailableException>(() => backend.LaunchAsync(Regional("job-1"), Ct));

        Assert.Contains(health.Problems, p => p.Subject == "ec2:CreateFleet" && p.Message.Contains("also needs ec2:RunInstances and ec2:CreateTags", StringComparison.Ordinal));
        _server.Allow("CreateFleet");
        Assert.False((await backend.LaunchAsync(Regional("job-1"), Ct)).IsEnded);
        Assert.DoesNotContain(health.Problems, p => p.Subject == "ec2:CreateFleet");
    }

    [Fact]
    public async Task A_throttled_create_fleet_is_asked_again_and_makes_one_instance()
    {
        _server.Throttle("CreateFleet", 2);
        // Retried as RunInstances is (Ec2Calls); waits of zero keep the test off the clock.
        var backend = Backend(Options(retry: new RetryPolicy(4, TimeSpan.Zero, TimeSpan.Zero)));

        var launched = await backend.LaunchAsync(Regional("job-1"), Ct);

        Assert.False(launched.IsEnded);
        Assert.Equal((3, 1), (Calls("CreateFleet"), _server.InstanceCount));
    }

    [Fact]
    public void Create_fleet_with_the_agent_is_refused_saying_why()
    {
        var options = new AwsComputeOptions
        {
            LaunchTemplateId = "lt-0abc",
            LaunchApi = Ec2LaunchApi.CreateFleet,
            AgentCallbackUrl = new Uri("https://spotwise.example.com"),
        };

        var error = Assert.Throws<ArgumentException>(() => new AwsEc2Compute(_clients.FirstOrDefault() ?? (AmazonEC2Client)AwsComputeRegistration.CreateClient(Options()), options, _time));

        Assert.Contains("user data", error.Message, StringComparison.Ordinal);
    }
}

/// <summary>The backend contract with create-fleet on: every contract launch is an on-demand placement in the region itself.</summary>
public sealed class AwsEc2FleetContractTests : ComputeBackendContract, IAsyncLifetime
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private FakeEc2Server _server = null!;
    private AmazonEC2Client _client = null!;
    private AwsEc2Compute _backend = null!;

    protected override ICompute Backend => _backend;

    protected override LaunchRequest OnDemandRequest(string jobId, int attempt = 1) =>
        Request(jobId, attempt, Market.OnDemand, "g5.xlarge", "us-east-1", workHours: 1.0 / 60);

    /// <summary>The fleet chose the first subnet's zone (the loopback EC2 tries the overrides in order, and all have room).</summary>
    protected override string ZoneFor(LaunchRequest request) => "us-east-1a";

    protected override TimeSpan TimeToFinish => TimeSpan.FromMinutes(5);

    protected override Task LetTimePassAsync(TimeSpan span)
    {
        _time.Advance(span);
        return Task.CompletedTask;
    }

    public async Task InitializeAsync()
    {
        _server = await FakeEc2Server.StartAsync(_time, new Dictionary<string, string>(StringComparer.Ordinal) { ["subnet-aaaa"] = "us-east-1a", ["subnet-bbbb"] = "us-east-1b" });
        var options = new AwsComputeOptions
        {
            ServiceUrl = _server.BaseUri,
            Region = "us-east-1",
            LaunchTemplateId = "lt-0abc",
            Subnets = ["subnet-aaaa", "subnet-bbbb"],
            LaunchApi = Ec2LaunchApi.CreateFleet,
            Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
        };
        _client = (AmazonEC2Client)AwsComputeRegistration.CreateClient(options);
        _backend = new AwsEc2Compute(_client, options, _time);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }
}
