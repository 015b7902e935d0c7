using System.Diagnostics.Metrics;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Aws.Cleanup;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;
using Spotwise.Storage.Sqlite;
using Placement = Spotwise.Runtime.Placement;

namespace Spotwise.Compute.Aws.Tests;

/// <summary>
/// The orphan sweep through the real AWS SDK client against the loopback EC2 (<see cref="FakeEc2Server"/>), reading a
/// real SQLite store, on a fake clock. Instances are launched the way the product launches them (<see cref="AwsEc2Compute"/>)
/// or, for what Spotwise never launches, straight through the SDK.
/// </summary>
public sealed class OrphanSweepTests : IAsyncLifetime
{
    private const string Team = "ml";
    private static readonly TimeSpan Grace = new OrphanSweepOptions().Grace;
    private static readonly CancellationToken Ct = CancellationToken.None;

    private static readonly Dictionary<string, string> Subnets = new(StringComparer.Ordinal) { ["us-east-1a"] = "subnet-aaaa" };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly string _folder = Directory.CreateTempSubdirectory("spotwise-sweep-").FullName;
    private FakeEc2Server _server = null!;
    private AmazonEC2Client _ec2 = null!;
    private SqliteJobStore _store = null!;
    private AwsEc2Compute _backend = null!;
    private OrphanSweep _sweep = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeEc2Server.StartAsync(_time, Subnets.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal));
        // The agent's command outlives every test: an instance ends only when someone terminates it.
        _server.Run = TimeSpan.FromDays(1);
        _ec2 = (AmazonEC2Client)AwsComputeRegistration.CreateClient(Options());
        _store = await SqliteJobStore.OpenAsync(Path.Combine(_folder, "jobs.db"), Ct);
        _backend = new AwsEc2Compute(_ec2, Options(), _time);
        _sweep = new OrphanSweep(_ec2, _store, Options(), _time, NullLogger<OrphanSweep>.Instance);
    }

    public async Task DisposeAsync()
    {
        _ec2.Dispose();
        await _store.DisposeAsync();
        await _server.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>Against the loopback EC2, with dummy credentials (here only: the product uses the SDK's chain).</summary>
    private AwsComputeOptions Options(string managedBy = "spotwise") => new()
    {
        ServiceUrl = _server.BaseUri,
        Region = "us-east-1",
        LaunchTemplateId = "lt-0abc",
        SubnetsByZone = Subnets,
        ManagedBy = managedBy,
        DescribePageSize = 5,
        Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
    };

    [Fact]
    public async Task An_instance_whose_job_is_not_in_the_store_is_terminated_once_past_its_grace()
    {
        var ghost = await _backend.LaunchAsync(Request("ghost", 1), Ct);
        _time.Advance(Grace + TimeSpan.FromMinutes(1));

        var orphan = Assert.Single(await _sweep.SweepAsync(Ct));

        Assert.Equal((ghost.InstanceId, new JobKey(Team, "ghost"), 1), (orphan.InstanceId, orphan.Job, orphan.Attempt));
        Assert.Contains("not in the store", orphan.Reason, StringComparison.Ordinal);
        Assert.Equal("terminated", await StateAsync(ghost.InstanceId));
        Assert.Equal(1, _sweep.Terminated);
    }

    [Fact]
    public async Task An_orphan_within_its_grace_is_left_running()
    {
        var ghost = await _backend.LaunchAsync(Request("ghost", 1), Ct);
        _time.Advance(Grace - TimeSpan.FromMinutes(1));

        Assert.Empty(await _sweep.SweepAsync(Ct));
        Assert.Equal("running", await StateAsync(ghost.InstanceId));
        Assert.DoesNotContain("TerminateInstances", _server.Actions);
    }

    [Fact]
    public async Task A_running_instance_its_job_owns_is_left_running()
    {
        var job = await LaunchedAsync("train", 1);
        await ObserveRunningAsync(job);
        _time.Advance(TimeSpan.FromHours(2));

        Assert.Empty(await _sweep.SweepAsync(Ct));
        Assert.Equal("running", await StateAsync(job.InstanceId!));
    }

    [Fact]
    public async Task A_launch_whose_intent_is_stored_but_whose_instance_is_not_yet_recorded_is_owned()
    {
        // Intent first: the attempt and its request are stored, EC2 made the instance, the loop has not written its id.
        var intent = await IntentAsync("train", 1);
        var launched = await _backend.LaunchAsync(intent.LaunchIntent!, Ct);
        _time.Advance(Grace + TimeSpan.FromMinutes(5));

        Assert.Null((await _store.GetAsync(intent.Key, Ct))!.InstanceId);
        Assert.Empty(await _sweep.SweepAsync(Ct));
        Assert.Equal("running", await StateAsync(launched.InstanceId));
    }

    [Fact]
    public async Task Instances_of_another_installation_or_without_spotwise_tags_are_never_touched()
    {
        var theirs = await new AwsEc2Compute(_ec2, Options("other-install"), _time).LaunchAsync(Request("theirs", 1), Ct);
        var byHand = await RunByHandAsync([]);
        var managedButNoJob = await RunByHandAsync([new Tag(Ec2Tags.ManagedBy, "spotwise")]);
        _time.Advance(TimeSpan.FromHours(3));

        Assert.Empty(await _sweep.SweepAsync(Ct));
        Assert.Equal(["running", "running", "running"],
            [await StateAsync(theirs.InstanceId), await StateAsync(byHand), await StateAsync(managedButNoJob)]);
        Assert.DoesNotContain("TerminateInstances", _server.Actions);
    }

    [Fact]
    public async Task An_instance_of_an_attempt_the_job_has_moved_past_is_terminated_and_the_current_one_kept()
    {
        var first = await LaunchedAsync("train", 1);
        var running = await ObserveRunningAsync(first);
        // The safety net: attempt 2 on-demand, while attempt 1's terminate was lost.
        var second = await LaunchedAsync("train", 2, from: running, market: Market.OnDemand);
        _time.Advance(Grace + TimeSpan.FromMinutes(1));

        var orphan = Assert.Single(await _sweep.SweepAsync(Ct));

        Assert.Equal((first.InstanceId, 1), (orphan.InstanceId, orphan.Attempt));
        Assert.Contains("at attempt 2, not 1", orphan.Reason, StringComparison.Ordinal);
        Assert.Equal("running", await StateAsync(second.InstanceId!));
    }

    [Fact]
    public async Task An_earlier_attempts_instance_keeps_its_last_minutes_for_a_grace_after_the_job_moved_on()
    {
        var first = await LaunchedAsync("train", 1);
        _time.Advance(TimeSpan.FromMinutes(30));
        var running = await ObserveRunningAsync(first);
        // An interruption notice: the next attempt starts now, the noticed instance checkpoints in its last two minutes.
        await LaunchedAsync("train", 2, from: running, market: Market.OnDemand);
        _time.Advance(Grace - TimeSpan.FromMinutes(1));

        Assert.Empty(await _sweep.SweepAsync(Ct));
        _time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(first.InstanceId, Assert.Single(await _sweep.SweepAsync(Ct)).InstanceId);
    }

    [Fact]
    public async Task An_instance_of_a_finished_job_is_terminated()
    {
        var job = await LaunchedAsync("train", 1);
        var cancelled = await _store.TryUpdateAsync(JobTransitions.Cancel(job, Team, _time.GetUtcNow()).Record, "cancelled", _time.GetUtcNow(), Ct);
        Assert.NotNull(cancelled);
        _time.Advance(Grace + TimeSpan.FromMinutes(1));

        var orphan = Assert.Single(await _sweep.SweepAsync(Ct));

        Assert.Equal("its job is cancelled", orphan.Reason);
        Assert.Equal("terminated", await StateAsync(job.InstanceId!));
    }

    [Fact]
    public async Task A_store_that_fails_stops_the_sweep_before_anything_is_terminated()
    {
        var ghost = await _backend.LaunchAsync(Request("ghost", 1), Ct);
        _time.Advance(Grace + TimeSpan.FromMinutes(1));
        await _store.DisposeAsync();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => _sweep.SweepAsync(Ct));

        Assert.Equal("running", await StateAsync(ghost.InstanceId));
        Assert.DoesNotContain("TerminateInstances", _server.Actions);
        Assert.Equal(0, _sweep.Terminated);
    }

    [Fact]
    public async Task The_registered_sweep_runs_at_start_and_every_interval_and_counts_on_the_spotwise_meter()
    {
        var ghost = await _backend.LaunchAsync(Request("ghost", 1), Ct);
        _time.Advance(Grace + TimeSpan.FromMinutes(1));
        await using var provider = Services(routeToAws: true);
        var sweep = provider.GetRequiredService<OrphanSweep>();
        var swept = new List<IReadOnlyList<Orphan>>();
        var next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        sweep.Swept += (_, orphans) =>
        {
            lock (swept)
            {
                swept.Add(orphans);
            }
            next.TrySetResult();
        };
        var service = Assert.Single(provider.GetServices<IHostedService>().OfType<OrphanSweepService>());

        await service.StartAsync(Ct);
        await next.Task.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);
        next = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var later = await _backend.LaunchAsync(Request("ghost-2", 1), Ct);
        _time.Advance(new OrphanSweepOptions().Interval);
        await next.Task.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);
        await service.StopAsync(Ct);

        Assert.Equal([[ghost.InstanceId], []], swept.Select(s => s.Select(o => o.InstanceId).ToList()));
        Assert.Equal("running", await StateAsync(later.InstanceId)); // five minutes old: within its grace
        Assert.Equal(1, ObservedOrphanCount(provider));
    }

    [Fact]
    public async Task The_registered_sweep_does_not_run_when_no_route_launches_on_aws()
    {
        var ghost = await _backend.LaunchAsync(Request("ghost", 1), Ct);
        _time.Advance(Grace + TimeSpan.FromMinutes(1));
        var describes = _server.Actions.Count(a => a == "DescribeInstances");
        await using var provider = Services(routeToAws: false);
        var service = Assert.Single(provider.GetServices<IHostedService>().OfType<OrphanSweepService>());

        await service.StartAsync(Ct);
        await service.ExecuteTask!.WaitAsync(TimeSpan.FromSeconds(30), TimeProvider.System);

        Assert.Equal(describes, _server.Actions.Count(a => a == "DescribeInstances"));
        Assert.Equal("running", await StateAsync(ghost.InstanceId));
    }

    /// <summary>A service as the server composes one: clock, store, metrics, the aws backend, and a route to it or elsewhere.</summary>
    private ServiceProvider Services(bool routeToAws)
    {
        var services = new ServiceCollection()
            .AddLogging()
            .AddMetrics()
            .AddSingleton<TimeProvider>(_time)
            .AddSingleton<IJobStore>(_store)
            .AddAwsCompute(_ => Options());
        services.AddComputeRoute(_ => new ComputeRoute("aws", routeToAws ? AwsComputeRegistration.Name : "simulated"));
        return services.BuildServiceProvider();
    }

    /// <summary>spotwise.orphans_terminated as an exporter reads it: the observable counter of the service's own meter.</summary>
    private static long ObservedOrphanCount(IServiceProvider provider)
    {
        var factory = provider.GetRequiredService<IMeterFactory>();
        long observed = -1;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Name == "spotwise.orphans_terminated")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => observed = value);
        listener.Start();
        listener.RecordObservableInstruments();
        return observed;
    }

    private static LaunchRequest Request(string jobId, int attempt, Market market = Market.Spot) =>
        new(ClientTokens.For(new JobKey(Team, jobId), attempt), Team, jobId, attempt, market, "p3.2xlarge", "us-east-1a",
            WorkHours: 1, Checkpointable: false, CheckpointIntervalHours: 0, Command: "train.sh");

    /// <summary>A stored job planned and at <paramref name="attempt"/>'s launch intent (no instance yet).</summary>
    private async Task<JobRecord> IntentAsync(string id, int attempt, JobRecord? from = null, Market market = Market.Spot)
    {
        var now = _time.GetUtcNow();
        var job = from ?? await PlannedAsync(id);
        var request = Request(id, attempt, market);
        return (await _store.TryUpdateAsync(JobTransitions.Launch(job, request, $"launching attempt {attempt}").Record, "launch", now, Ct))!;
    }

    /// <summary>A stored job at <paramref name="attempt"/>, launched as the reconcile loop does: intent, EC2, record.</summary>
    private async Task<JobRecord> LaunchedAsync(string id, int attempt, JobRecord? from = null, Market market = Market.Spot)
    {
        var intent = await IntentAsync(id, attempt, from, market);
        var instance = await _backend.LaunchAsync(intent.LaunchIntent!, Ct);
        return (await _store.TryUpdateAsync(JobTransitions.Launched(intent, instance.InstanceId).Record, "launched", _time.GetUtcNow(), Ct))!;
    }

    private async Task<JobRecord> PlannedAsync(string id)
    {
        var now = _time.GetUtcNow();
        var job = new Job { Id = id, DurationHours = 1, Resources = ResourceRequest.ForInstanceTypes(["p3.2xlarge"]) };
        var submitted = Assert.Single(await _store.SubmitAsync([new Submission(job, Team, $"{{\"jobId\":\"{id}\"}}")], now, Ct)).Record!;
        var placement = new Placement(Market.Spot, "p3.2xlarge", "us-east-1a", now, 1, 1, FallbackAt: null);
        return (await _store.TryUpdateAsync(JobTransitions.Plan(submitted, placement, "test").Record, "planned", now, Ct))!;
    }

    private async Task<JobRecord> ObserveRunningAsync(JobRecord job)
    {
        _time.Advance(TimeSpan.FromMinutes(1));
        var status = (await _backend.DescribeAsync(Ct)).Single(s => s.InstanceId == job.InstanceId);
        return (await _store.TryUpdateAsync(JobTransitions.Observe(job, JobState.Running, status, "running", _time.GetUtcNow()).Record,
            "running", _time.GetUtcNow(), Ct))!;
    }

    /// <summary>An instance launched outside Spotwise, with <paramref name="tags"/> only.</summary>
    private async Task<string> RunByHandAsync(List<Tag> tags)
    {
        var request = new RunInstancesRequest
        {
            MinCount = 1,
            MaxCount = 1,
            InstanceType = Amazon.EC2.InstanceType.T3Micro,
            SubnetId = "subnet-aaaa",
            LaunchTemplate = new LaunchTemplateSpecification { LaunchTemplateId = "lt-byhand" },
            TagSpecifications = tags.Count == 0 ? null : [new TagSpecification { ResourceType = ResourceType.Instance, Tags = tags }],
        };
        return (await _ec2.RunInstancesAsync(request, Ct)).Reservation.Instances.Single().InstanceId;
    }

    /// <summary>EC2's state of one instance (the loopback EC2 lists everything; the test picks the instance out).</summary>
    private async Task<string> StateAsync(string instanceId) =>
        (await _ec2.DescribeInstancesAsync(new DescribeInstancesRequest(), Ct))
            .Reservations.SelectMany(r => r.Instances).Single(i => i.InstanceId == instanceId).State.Name.Value;
}
