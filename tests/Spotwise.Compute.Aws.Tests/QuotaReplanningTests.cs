using Amazon.EC2;
using Amazon.Runtime;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime;
using Spotwise.Runtime.Reconciliation;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Compute.Aws.Tests;

/// <summary>
/// A quota refusal from EC2 through the whole control loop: the real Scheduler (CP-SAT), ReconcileLoop and SQLite store,
/// the EC2 backend on the real SDK client against the loopback EC2.
/// </summary>
public sealed class QuotaReplanningTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    // The shipped catalog has no zones: on-demand offers are regional, so their zone is the region.
    private static readonly Dictionary<string, string> Subnets = new(StringComparer.Ordinal) { ["us-east-1"] = "subnet-aaaa" };

    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"spotwise-aws-{Guid.NewGuid():N}");
    private readonly FakeTimeProvider _time = new(Now);
    private FakeEc2Server _server = null!;
    private AmazonEC2Client _client = null!;
    private SqliteJobStore _store = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeEc2Server.StartAsync(_time, Subnets.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal));
        _store = await SqliteJobStore.OpenAsync(Path.Combine(_folder, "jobs.db"), CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _client?.Dispose();
        await _store.DisposeAsync();
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    private AwsEc2Compute Backend()
    {
        var options = new AwsComputeOptions
        {
            ServiceUrl = _server.BaseUri,
            Region = "us-east-1",
            LaunchTemplateId = "lt-0abc",
            SubnetsByZone = Subnets,
            Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
        };
        _client = (AmazonEC2Client)AwsComputeRegistration.CreateClient(options);
        return new AwsEc2Compute(_client, options, _time);
    }

    [Fact]
    public async Task A_quota_refusal_lowers_the_planned_capacity_so_the_next_cycle_plans_the_job_on_a_class_with_room()
    {
        // The account has no G quota (a new account's default): EC2 refuses g5.xlarge whatever the configured limits say.
        _server.RefuseQuota("g5.xlarge", "VcpuLimitExceeded");
        var learned = new LearnedLimits();
        var options = new SchedulerOptions { Limits = CapacityLimits.Default with { DefaultSpotPoolSize = 0 } };
        var feed = new CatalogPriceFeed(ShippedData.Catalog);
        var scheduler = new Scheduler(_store, feed, new CpSatPlanner(), options, _time, NullLogger<Scheduler>.Instance, learned: learned);
        var loop = new ReconcileLoop(_store, Backend(), feed, _time, NullLogger<ReconcileLoop>.Instance, limits: options.Limits, learned: learned);
        var job = new Job
        {
            Id = "train",
            DurationHours = 2,
            Deadline = Now.AddHours(12),
            Resources = ResourceRequest.ForInstanceTypes(["g5.xlarge", "p3.2xlarge"]),
        };
        await _store.SubmitAsync([new Submission(job, "ml", "train")], Now, CancellationToken.None);
        await scheduler.RunCycleAsync(CancellationToken.None);
        Assert.Equal("g5.xlarge", (await Get()).Placement!.InstanceType);

        for (var minute = 0; minute < 30 && _server.InstanceCount == 0; minute++)
        {
            await loop.TickAsync(CancellationToken.None);
            await scheduler.RunCycleAsync(CancellationToken.None);
            _time.Advance(TimeSpan.FromMinutes(1));
        }

        var record = await Get();
        Assert.Equal((Market.OnDemand, "p3.2xlarge"), (record.Placement!.Market, record.Placement.InstanceType));
        Assert.Equal(1, _server.InstanceCount);
        Assert.Equal(2, _server.Actions.Count(a => a == "RunInstances"));
        var quota = Assert.Single(learned.At(_time.GetUtcNow()));
        Assert.Equal((Market.OnDemand, "g", 0, "VcpuLimitExceeded"), (quota.Market, quota.QuotaClass, quota.OnDemandVcpus, quota.Code));
        var events = await _store.EventsAsync(new JobKey("ml", "train"), CancellationToken.None);
        Assert.Contains(events, e => e.Cause.Contains("quota reached: VcpuLimitExceeded", StringComparison.Ordinal));
    }

    private async Task<JobRecord> Get() => (await _store.GetAsync(new JobKey("ml", "train"), CancellationToken.None))!;
}
