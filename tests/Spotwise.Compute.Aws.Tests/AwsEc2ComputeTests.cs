using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Runtime;
using InstanceState = Spotwise.Runtime.InstanceState;

namespace Spotwise.Compute.Aws.Tests;

/// <summary>
/// The EC2 backend through the real AWS SDK client against the loopback EC2 (<see cref="FakeEc2Server"/>): the contract,
/// plus what only EC2 does (subnets per zone, spot market options, tags, capacity errors, paging, state reasons).
/// </summary>
public sealed class AwsEc2ComputeTests : ComputeBackendContract, IAsyncLifetime
{
    private static readonly Dictionary<string, string> Subnets = new(StringComparer.Ordinal)
    {
        ["us-east-1a"] = "subnet-aaaa",
        ["us-east-1b"] = "subnet-bbbb",
    };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private FakeEc2Server _server = null!;
    private readonly List<AmazonEC2Client> _clients = [];
    private AwsEc2Compute _backend = null!;

    protected override ICompute Backend => _backend;

    protected override LaunchRequest OnDemandRequest(string jobId, int attempt = 1) =>
        Request(jobId, attempt, Market.OnDemand, "g5.xlarge", "us-east-1a", workHours: 1.0 / 60);

    /// <summary>Boot (30 s) and the agent's command (1 min) with room to spare.</summary>
    protected override TimeSpan TimeToFinish => TimeSpan.FromMinutes(5);

    /// <summary>The loopback EC2 reads the same clock: its instances boot, run and shut down as it moves.</summary>
    protected override Task LetTimePassAsync(TimeSpan span)
    {
        _time.Advance(span);
        return Task.CompletedTask;
    }

    public async Task InitializeAsync()
    {
        _server = await FakeEc2Server.StartAsync(_time, Subnets.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal));
        _backend = Backed(Loopback("spotwise"));
    }

    public async Task DisposeAsync()
    {
        _clients.ForEach(c => c.Dispose());
        await _server.DisposeAsync();
    }

    /// <summary>The backend's options against the loopback EC2, with dummy credentials (here only: the product uses the SDK's chain).</summary>
    private AwsComputeOptions Loopback(string managedBy) => new()
    {
        ServiceUrl = _server.BaseUri,
        Region = "us-east-1",
        LaunchTemplateId = "lt-0abc",
        SubnetsByZone = Subnets,
        ManagedBy = managedBy,
        DescribePageSize = 5,
        Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
    };

    private AwsEc2Compute Backed(AwsComputeOptions options)
    {
        var client = (AmazonEC2Client)AwsComputeRegistration.CreateClient(options);
        _clients.Add(client);
        return new AwsEc2Compute(client, options, _time);
    }

    private static LaunchRequest SpotRequest(string jobId, string zone = "us-east-1a", int attempt = 1) =>
        Request(jobId, attempt, Market.Spot, "p3.2xlarge", zone, workHours: 1.0 / 60);

    [Fact]
    public async Task A_spot_launch_goes_to_the_planned_zones_subnet_as_a_one_time_spot_instance_tagged_with_its_job()
    {
        var launched = await Backend.LaunchAsync(SpotRequest("job-1", zone: "us-east-1b"), Ct);

        var described = await _clients[0].DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [launched.InstanceId] });
        var instance = Assert.Single(described.Reservations.SelectMany(r => r.Instances));
        Assert.Equal(("subnet-bbbb", "us-east-1b", "spot"), (instance.SubnetId, instance.Placement.AvailabilityZone, instance.InstanceLifecycle?.Value));
        Assert.Equal(
            [("spotwise:attempt", "1"), ("spotwise:job", "job-1"), ("spotwise:managed-by", "spotwise"), ("spotwise:team", "ml")],
            instance.Tags.Select(t => (t.Key, t.Value)).Order());
        Assert.Equal((Market.Spot, InstanceState.Pending, "us-east-1b"), (launched.Market, launched.State, launched.Zone));
    }

    [Fact]
    public void The_run_request_asks_for_spot_one_time_terminate_and_tags_instance_and_volumes()
    {
        var run = _backend.RunRequest(SpotRequest("job-1"));

        Assert.Equal(("spot", "one-time", "terminate"), (run.InstanceMarketOptions.MarketType.Value,
            run.InstanceMarketOptions.SpotOptions.SpotInstanceType.Value, run.InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior.Value));
        Assert.Equal(["instance", "volume"], run.TagSpecifications.Select(t => t.ResourceType.Value));
        Assert.All(run.TagSpecifications, t => Assert.Equal(4, t.Tags.Count));
        Assert.Equal(("ml/job-1#1", "lt-0abc"), (run.ClientToken, run.LaunchTemplate.LaunchTemplateId));
        Assert.Null(_backend.RunRequest(OnDemandRequest("job-2")).InstanceMarketOptions);
    }

    [Fact]
    public async Task A_zone_without_a_subnet_is_refused_naming_the_zone()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => Backend.LaunchAsync(SpotRequest("job-1", zone: "us-east-1f"), Ct));

        Assert.Contains("'us-east-1f'", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _server.InstanceCount);
    }

    [Fact]
    public async Task No_capacity_in_a_pool_comes_back_as_a_launch_refused_before_it_ran()
    {
        _server.RefuseCapacity("us-east-1a", "p3.2xlarge");

        var refused = await Backend.LaunchAsync(SpotRequest("job-1"), Ct);
        var elsewhere = await Backend.LaunchAsync(SpotRequest("job-1", zone: "us-east-1b", attempt: 2), Ct);

        Assert.Equal(InstanceState.Interrupted, refused.State);
        Assert.True(refused.IsEnded);
        Assert.Null(refused.RunningSince);
        Assert.Contains("InsufficientInstanceCapacity", refused.Error, StringComparison.Ordinal);
        Assert.Equal(InstanceState.Pending, elsewhere.State);
        Assert.Equal(1, _server.InstanceCount);
    }

    [Fact]
    public async Task A_refused_launch_is_listed_by_describe_and_its_token_stays_refused_without_asking_ec2_again()
    {
        _server.RefuseCapacity("us-east-1a", "p3.2xlarge");
        var refused = await Backend.LaunchAsync(SpotRequest("job-1"), Ct);
        var calls = _server.Actions.Count(a => a == "RunInstances");

        // The reconciler learns of the refusal from Describe on its next tick, and retries a token Describe misses.
        var listed = Assert.Single(await Backend.DescribeAsync(Ct));
        var again = await Backend.LaunchAsync(SpotRequest("job-1"), Ct);

        Assert.Equal((refused.InstanceId, InstanceState.Interrupted), (listed.InstanceId, listed.State));
        Assert.Equal(refused, again);
        Assert.Equal(calls, _server.Actions.Count(a => a == "RunInstances"));
        await Backend.TerminateAsync(refused.InstanceId, Ct);
        await LetTimePassAsync(AwsEc2Compute.RefusalMemory + TimeSpan.FromMinutes(1));
        Assert.Empty(await Backend.DescribeAsync(Ct));
    }

    [Fact]
    public async Task The_same_client_token_with_a_different_request_is_an_idempotent_parameter_mismatch()
    {
        var request = SpotRequest("job-1");
        await Backend.LaunchAsync(request, Ct);

        var error = await Assert.ThrowsAsync<AmazonEC2Exception>(() => Backend.LaunchAsync(request with { InstanceType = "g5.xlarge" }, Ct));

        Assert.Equal("IdempotentParameterMismatch", error.ErrorCode);
        Assert.Equal(1, _server.InstanceCount);
    }

    [Fact]
    public async Task A_spot_instance_taken_back_by_ec2_is_interrupted_after_it_ran()
    {
        var launched = await Backend.LaunchAsync(SpotRequest("job-1"), Ct);
        await LetTimePassAsync(TimeSpan.FromSeconds(40));
        _server.Interrupt(launched.InstanceId);

        var status = Assert.Single(await Backend.DescribeAsync(Ct));

        Assert.Equal(InstanceState.Interrupted, status.State);
        Assert.NotNull(status.RunningSince);
        Assert.Equal(_time.GetUtcNow(), status.EndedAt);
    }

    [Fact]
    public async Task Describe_pages_through_every_instance_and_sees_only_this_installations()
    {
        for (var n = 1; n <= 12; n++)
        {
            await Backend.LaunchAsync(OnDemandRequest($"job-{n}"), Ct);
        }
        var other = Backed(Loopback("other-install"));
        await other.LaunchAsync(OnDemandRequest("theirs"), Ct);

        var mine = await Backend.DescribeAsync(Ct);

        Assert.Equal(12, mine.Select(s => s.InstanceId).Distinct().Count());
        Assert.DoesNotContain(mine, s => s.JobId == "theirs");
        Assert.True(_server.Actions.Count(a => a == "DescribeInstances") >= 3, "12 instances at 5 a page take three pages");
    }

    [Fact]
    public async Task A_client_token_longer_than_ec2_takes_is_sent_as_a_digest_and_still_finds_the_same_instance()
    {
        var request = OnDemandRequest(new string('j', 128));
        var first = await Backend.LaunchAsync(request, Ct);
        var again = await Backend.LaunchAsync(request, Ct);

        var sent = Ec2ClientTokens.For(request.ClientToken);
        Assert.Equal(Ec2ClientTokens.MaxLength, sent.Length);
        Assert.Equal(first.InstanceId, again.InstanceId);
        Assert.Equal(request.ClientToken, Assert.Single(await Backend.DescribeAsync(Ct)).ClientToken);
        Assert.Equal("ml/job-1#1", Ec2ClientTokens.For("ml/job-1#1"));
    }
}
