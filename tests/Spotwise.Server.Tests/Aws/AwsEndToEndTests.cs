using System.Text;
using System.Threading.Channels;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Aws.Fakes;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Reconciliation;

namespace Spotwise.Server.Tests.Aws;

/// <summary>
/// Issue 12's end-to-end test: the service as <c>spotwise serve --backend aws</c> composes it (SpotwiseApp, real SQLite,
/// real CP-SAT, the live EC2 price feed, the EC2 backend, the SQS interruption queue), every AWS call through the real
/// SDK clients to the loopback EC2 and SQS on the service's own fake clock. A queue planned across three zones, no
/// capacity in one pool, a throttled call, a spot interruption with its two-minute warning, the fallback meeting the
/// deadline, and no instance left running. The test drives the loops a minute at a time, as the service's timers would
/// (and those timers run too, on the same clock): the spot policy's safety net decides one tick ahead, and its tick is a
/// minute (<see cref="Spotwise.Runtime.Policy.SpotAvailabilityHistory.DefaultTick"/>). Driven five minutes at a time, the net's
/// last safe moment could fall between two decisions and the fallback launch up to four minutes late: a clean-clone CI run
/// under load missed job-c's deadline by 91 s that way.
/// </summary>
public sealed class AwsEndToEndTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, string> ZoneBySubnet = new(StringComparer.Ordinal)
    {
        ["subnet-aaaa"] = "us-east-1a",
        ["subnet-bbbb"] = "us-east-1b",
        ["subnet-cccc"] = "us-east-1c",
    };

    private readonly TimerWatchingClock _clock = new(Start);
    private AwsService _aws = null!;
    private FakeSqsServer _sqs = null!;
    private string _queue = null!;

    public async Task InitializeAsync()
    {
        _sqs = await FakeSqsServer.StartAsync(_clock);
        _queue = _sqs.CreateQueue("spot-events");
        _aws = await AwsService.StartAsync(ZoneBySubnet, new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Spotwise:Planner"] = "cpsat",
            ["Spotwise:Aws:Region"] = "us-east-1",
            ["Spotwise:Aws:LaunchTemplate"] = "lt-0abc",
            ["Spotwise:Aws:Subnets"] = "subnet-aaaa,subnet-bbbb,subnet-cccc",
            ["Spotwise:Aws:InterruptionQueueUrl"] = _queue,
            ["Spotwise:Aws:SqsServiceUrl"] = _sqs.BaseUri.ToString(),
            ["Spotwise:Aws:PriceTypes"] = "m5.large,c5.large,r5.large",
        }, _clock);
        var ec2 = _aws.Ec2;
        ec2.Run = TimeSpan.FromHours(1); // each job's command: an hour of work, then the instance shuts itself down
        ec2.SendEventsTo(_sqs, _queue);
        // Each type sold on spot where the plan should put it: c5.large in 1a only, m5.large in 1b only, r5.large in 1b and
        // (cheaper) 1c, whose spot pool has no capacity for it.
        ec2.Offer("us-east-1a", "c5.large");
        ec2.Offer("us-east-1b", "m5.large", "r5.large");
        ec2.Offer("us-east-1c", "r5.large");
        var before = Start - TimeSpan.FromDays(1);
        ec2.SeedSpotPrice("us-east-1a", "c5.large", before, 0.034);
        ec2.SeedSpotPrice("us-east-1b", "m5.large", before, 0.030);
        ec2.SeedSpotPrice("us-east-1b", "r5.large", before, 0.050);
        ec2.SeedSpotPrice("us-east-1c", "r5.large", before, 0.040);
        // No r5.large at all in 1c, spot or on-demand: the fallback must not be asked there (it is regional: the first subnet).
        ec2.RefuseCapacity("us-east-1c", "r5.large");
    }

    public async Task DisposeAsync()
    {
        await _aws.DisposeAsync();
        await _sqs.DisposeAsync();
    }

    private IServiceProvider Services => _aws.Factory.Services;

    [Fact]
    public async Task A_queue_across_three_zones_survives_no_capacity_throttling_and_an_interruption_and_every_deadline_is_met()
    {
        using var client = _aws.Factory.ClientFor("k1");
        foreach (var (id, type, deadline) in new[] { ("job-a", "c5.large", "+150m"), ("job-b", "m5.large", "+4h"), ("job-c", "r5.large", "+4h") })
        {
            var body = $$$"""{"jobId":"{{{id}}}","deadline":"{{{deadline}}}","estimatedDurationHours":1,"resourceRequirements":{"instanceTypes":["{{{type}}}"]}}""";
            Assert.Equal(System.Net.HttpStatusCode.Created, (await client.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode);
        }

        // Planned across three zones, each on spot where its type is cheapest.
        await DriveAsync(() => Services.GetRequiredService<Scheduler>().RunCycleAsync(default));
        Assert.Equal(["us-east-1a", "us-east-1b", "us-east-1c"], await ZonesAsync("job-a", "job-b", "job-c"));
        var a = await JobAsync("job-a");
        Assert.Equal(Market.Spot, a.Placement!.Market);
        Assert.NotNull(a.Placement.FallbackAt);

        // The first tick launches all three: a RunInstances throttled and retried on the service's clock, one refused for
        // capacity in us-east-1c, two instances made, and no job left with an error. (The service's own loops run too, on
        // the same clock, as they would: a tick of theirs may re-ask a token, so calls are counted from below.)
        _aws.Ec2.Throttle("RunInstances", calls: 1);
        await DriveAsync(() => Services.GetRequiredService<ReconcileLoop>().TickAsync(default));
        // The throttled call may be a tick of the service's own loop, still waiting on the clock when the test's tick ends
        // (a clean-clone CI run met it): step on until both launches are made.
        await StepUntilAsync(() => _aws.Ec2.InstanceCount >= 2, limit: TimeSpan.FromMinutes(10));
        Assert.True(_aws.Ec2.CallsOf("RunInstances") >= _aws.Ec2.InstanceCount + 2, "the throttled call and the refused one come on top of the two launches");
        Assert.All(await AllAsync(), j => Assert.Null(j.LastError));

        // A minute at a time until job-a has run 20 minutes on spot; then EC2 warns and takes it back two minutes later.
        await StepUntilAsync(() => _clock.GetUtcNow() >= Start + TimeSpan.FromMinutes(20));
        var spotA = await JobAsync("job-a");
        Assert.Equal((JobState.Running, Market.Spot), (spotA.State, spotA.Placement!.Market));
        _aws.Ec2.InterruptWithNotice(spotA.InstanceId!);
        await _sqs.WhenEmptyAsync(_queue); // the service's queue consumer read and deleted the warning
        await StepAsync(TimeSpan.FromMinutes(1));
        var warned = await JobAsync("job-a");
        Assert.Equal((spotA.Attempt + 1, Market.OnDemand), (warned.Attempt, warned.Placement!.Market));
        Assert.NotEqual(spotA.InstanceId, warned.InstanceId);
        Assert.Contains("ahead of the interruption", (await EventsAsync("job-a"))[^1].Cause, StringComparison.Ordinal);

        await StepUntilAsync(() => false, until: async () => (await AllAsync()).All(j => j.State == JobState.Succeeded), limit: TimeSpan.FromHours(5));

        foreach (var job in await AllAsync())
        {
            Assert.True(job.FinishedAt <= job.Job.Deadline, $"{job.Job.Id} finished at {job.FinishedAt}, after its deadline {job.Job.Deadline}");
        }
        var c = await JobAsync("job-c");
        var eventsC = await EventsAsync("job-c");
        Assert.True(c.Placement!.Market == Market.OnDemand || c.Placement.Zone != "us-east-1c",
            $"job-c ran on spot in the pool without capacity");
        Assert.True(eventsC.Any(e => e.Cause.Contains("InsufficientInstanceCapacity", StringComparison.Ordinal)),
            $"job-c ran {c.Placement.Market} in {c.Placement.Zone}:\n{string.Join("\n", eventsC.Select(e => $"{e.At:HH:mm:ss} {e.To} {e.Cause}"))}");
        // No instance left running: every one EC2 made has ended.
        Assert.All(await _aws.InstancesAsync(), i => Assert.Equal("terminated", i.State.Name.Value));
    }

    private async Task<IReadOnlyList<JobEvent>> EventsAsync(string id) =>
        await Services.GetRequiredService<IJobStore>().EventsAsync(new JobKey("team-a", id), default);

    private async Task<JobRecord> JobAsync(string id) =>
        (await Services.GetRequiredService<IJobStore>().GetAsync(new JobKey("team-a", id), default))!;

    private async Task<List<JobRecord>> AllAsync() =>
        [await JobAsync("job-a"), await JobAsync("job-b"), await JobAsync("job-c")];

    private async Task<List<string>> ZonesAsync(params string[] ids)
    {
        var zones = new List<string>();
        foreach (var id in ids)
        {
            zones.Add((await JobAsync(id)).Placement?.Zone ?? "(none)");
        }
        return zones;
    }

    /// <summary>A step of the service (the policy's tick, a minute, unless said): the clock moves, the scheduler plans and the reconcile loop ticks, as their timers would.</summary>
    private async Task StepAsync(TimeSpan? by = null)
    {
        _clock.Advance(by ?? Spotwise.Runtime.Policy.SpotAvailabilityHistory.DefaultTick);
        await DriveAsync(() => Services.GetRequiredService<Scheduler>().RunCycleAsync(default));
        await DriveAsync(() => Services.GetRequiredService<ReconcileLoop>().TickAsync(default));
    }

    private async Task StepUntilAsync(Func<bool> condition, Func<Task<bool>>? until = null, TimeSpan? limit = null)
    {
        var end = _clock.GetUtcNow() + (limit ?? TimeSpan.FromHours(3));
        while (!condition() && !(until is not null && await until()))
        {
            if (_clock.GetUtcNow() >= end)
            {
                var story = new List<string>();
                foreach (var job in (await AllAsync()).Where(j => j.State != JobState.Succeeded))
                {
                    story.Add($"{job.Job.Id} {job.State} {job.InstanceId} {job.LastError}: " + string.Join(" | ", (await EventsAsync(job.Job.Id)).Select(e => $"{e.At:HH:mm:ss} {e.To} {e.Cause}")));
                }
                Assert.Fail($"not done by {end}: {string.Join("\n", story)}");
            }
            await StepAsync();
        }
    }

    /// <summary>
    /// Lets a call that waits on the service's clock (a throttled call's backoff) wait its turn: whenever it makes a timer
    /// before it is done, the clock moves a second.
    /// </summary>
    private async Task DriveAsync(Func<Task> start)
    {
        _clock.ForgetTimers();
        var call = start();
        while (!call.IsCompleted)
        {
            var timer = _clock.NextTimerAsync();
            if (await Task.WhenAny(call, timer) == timer && !call.IsCompleted)
            {
                _clock.Advance(TimeSpan.FromSeconds(1));
            }
        }
        await call;
    }

    /// <summary>A fake clock that reports each timer made on it, so a test knows when the service waits on it.</summary>
    private sealed class TimerWatchingClock(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly Channel<TimeSpan> _made = Channel.CreateUnbounded<TimeSpan>();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            _made.Writer.TryWrite(dueTime);
            return timer;
        }

        public Task<TimeSpan> NextTimerAsync() => _made.Reader.ReadAsync().AsTask();

        /// <summary>Timers made so far are not news to the next call.</summary>
        public void ForgetTimers()
        {
            while (_made.Reader.TryRead(out _))
            {
            }
        }
    }
}
