using System.Collections.Concurrent;
using System.Threading.Channels;
using Amazon.EC2;
using Amazon.Runtime;
using Amazon.SQS;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Aws.Events;
using Spotwise.Core;
using Spotwise.Runtime;
using InstanceState = Spotwise.Runtime.InstanceState;

namespace Spotwise.Compute.Aws.Tests;

/// <summary>
/// The interruption queue end to end on loopback: the fake EC2 warns through the fake SQS queue (EventBridge's target),
/// the consumer reads it through the real <c>AmazonSQSClient</c>, and the backend's Describe (real <c>AmazonEC2Client</c>)
/// reports the notice.
/// </summary>
public sealed class InterruptionQueueTests : IAsyncLifetime
{
    /// <summary>A guard on real time, so a broken consumer fails the test instead of hanging it (no test waits it out).</summary>
    private static readonly TimeSpan Guard = TimeSpan.FromSeconds(30);

    private static readonly Dictionary<string, string> Subnets = new(StringComparer.Ordinal) { ["us-east-1a"] = "subnet-aaaa" };

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly InstanceNotices _notices = new();
    private readonly ListLogger _log = new();
    private FakeEc2Server _ec2 = null!;
    private FakeSqsServer _sqs = null!;
    private string _queue = null!;
    private AmazonEC2Client _ec2Client = null!;
    private IAmazonSQS _sqsClient = null!;
    private AwsEc2Compute _backend = null!;
    private InterruptionQueueConsumer _consumer = null!;

    private static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync()
    {
        _ec2 = await FakeEc2Server.StartAsync(_time, Subnets.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal));
        _ec2.Run = TimeSpan.FromHours(1); // the agent's command outlasts every test: only EC2 ends an instance here
        _sqs = await FakeSqsServer.StartAsync(_time);
        _queue = _sqs.CreateQueue("spot-events");
        _ec2.SendEventsTo(_sqs, _queue);
        var options = Options(_queue);
        _ec2Client = (AmazonEC2Client)AwsComputeRegistration.CreateClient(options);
        _sqsClient = AwsComputeRegistration.CreateSqsClient(options);
        _backend = new AwsEc2Compute(_ec2Client, options, _time, notices: _notices);
        _consumer = Consumer(options);
    }

    public async Task DisposeAsync()
    {
        await _consumer.StopAsync(Ct);
        _consumer.Dispose();
        _sqsClient.Dispose();
        _ec2Client.Dispose();
        await _sqs.DisposeAsync();
        await _ec2.DisposeAsync();
    }

    /// <summary>Both loopback endpoints, dummy credentials (here only: the product uses the SDK's chain).</summary>
    private AwsComputeOptions Options(string queueUrl) => new()
    {
        Region = "us-east-1",
        ServiceUrl = _ec2.BaseUri,
        SqsServiceUrl = _sqs.BaseUri,
        InterruptionQueueUrl = queueUrl,
        LaunchTemplateId = "lt-0abc",
        SubnetsByZone = Subnets,
        Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
    };

    private InterruptionQueueConsumer Consumer(AwsComputeOptions options) => new(() => _sqsClient, options, _notices, _time, _log);

    /// <summary>A spot instance of ours, running, listed by Describe, with the consumer reading the queue.</summary>
    private async Task<InstanceStatus> RunningSpotInstanceAsync()
    {
        var launched = await _backend.LaunchAsync(new LaunchRequest("ml/job-1#1", "ml", "job-1", 1, Market.Spot, "p3.2xlarge", "us-east-1a",
            1, true, 0, "train.sh"), Ct);
        _time.Advance(TimeSpan.FromSeconds(40));
        await _backend.DescribeAsync(Ct);
        await _consumer.StartAsync(Ct);
        return launched;
    }

    private Task DrainedAsync() => _sqs.WhenEmptyAsync(_queue).WaitAsync(Guard);

    [Fact]
    public async Task A_spot_interruption_warning_is_recorded_and_describe_reports_it_until_ec2_takes_the_instance_back()
    {
        var launched = await RunningSpotInstanceAsync();
        var noticeAt = _time.GetUtcNow();

        _ec2.InterruptWithNotice(launched.InstanceId);
        await DrainedAsync();

        var warned = Assert.Single(await _backend.DescribeAsync(Ct));
        Assert.Equal((InstanceState.Running, noticeAt), (warned.State, warned.InterruptionNoticeAt));
        Assert.Equal("terminate", _notices.Find(launched.InstanceId)?.InstanceAction);

        _time.Advance(FakeEc2Server.InterruptionNoticeLead);
        var gone = Assert.Single(await _backend.DescribeAsync(Ct));
        Assert.Equal((InstanceState.Interrupted, noticeAt, noticeAt + FakeEc2Server.InterruptionNoticeLead),
            (gone.State, gone.InterruptionNoticeAt, gone.EndedAt));
    }

    [Fact]
    public async Task A_message_that_cannot_be_read_is_logged_and_deleted_so_it_does_not_come_back_forever()
    {
        var launched = await RunningSpotInstanceAsync();

        _sqs.Send(_queue, "this is not an event");
        _sqs.Send(_queue, """{"detail-type": "EC2 Spot Instance Interruption Warning", "time": "2026-12-01T12:00:40Z", "detail": {}}""");
        await DrainedAsync();

        Assert.Equal(2, _log.Entries.Count(e => e.Level == LogLevel.Warning && e.Message.Contains("cannot be read", StringComparison.Ordinal)));
        Assert.Contains(_log.Entries, e => e.Message.Contains("without 'detail.instance-id'", StringComparison.Ordinal));
        Assert.Null(_notices.Find(launched.InstanceId));
        Assert.Null(Assert.Single(await _backend.DescribeAsync(Ct)).InterruptionNoticeAt);
    }

    [Fact]
    public async Task Events_for_instances_that_are_not_ours_and_of_other_kinds_are_deleted_and_ignored()
    {
        var launched = await RunningSpotInstanceAsync();
        const string theirs = "i-0fedcba9876543210";

        _sqs.Send(_queue, Ec2EventMessages.InterruptionWarning(theirs, _time.GetUtcNow()));
        _sqs.Send(_queue, Ec2EventMessages.StateChange(theirs, _time.GetUtcNow(), "shutting-down"));
        _sqs.Send(_queue, """{"version": "0", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ec2", "time": "2026-12-01T12:00:40Z", "detail": {}}""");
        await DrainedAsync();

        Assert.Null(_notices.Find(theirs));
        Assert.Null(Assert.Single(await _backend.DescribeAsync(Ct), s => s.InstanceId == launched.InstanceId).InterruptionNoticeAt);
        Assert.DoesNotContain(_log.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task A_rebalance_recommendation_and_a_state_change_are_recorded_but_are_no_interruption_notice()
    {
        var launched = await RunningSpotInstanceAsync();
        var at = _time.GetUtcNow();

        _sqs.Send(_queue, Ec2EventMessages.RebalanceRecommendation(launched.InstanceId, at));
        _sqs.Send(_queue, Ec2EventMessages.StateChange(launched.InstanceId, at, "running"));
        // Deliveries are not ordered: an older state arriving later does not replace the newer.
        _sqs.Send(_queue, Ec2EventMessages.StateChange(launched.InstanceId, at.AddSeconds(-30), "pending"));
        await DrainedAsync();

        var notice = _notices.Find(launched.InstanceId);
        Assert.Equal((at, "running", (DateTimeOffset?)null), (notice?.RebalanceRecommendedAt, notice?.LastState, notice?.InterruptionNoticeAt));
        Assert.Null(Assert.Single(await _backend.DescribeAsync(Ct)).InterruptionNoticeAt);
    }

    [Fact]
    public async Task A_warning_delivered_twice_keeps_its_first_time()
    {
        var launched = await RunningSpotInstanceAsync();
        var first = _time.GetUtcNow();

        _sqs.Send(_queue, Ec2EventMessages.InterruptionWarning(launched.InstanceId, first));
        _sqs.Send(_queue, Ec2EventMessages.InterruptionWarning(launched.InstanceId, first.AddSeconds(5)));
        await DrainedAsync();

        Assert.Equal(first, Assert.Single(await _backend.DescribeAsync(Ct)).InterruptionNoticeAt);
    }

    [Fact]
    public async Task Stopping_the_consumer_cancels_its_long_poll()
    {
        await RunningSpotInstanceAsync();
        await _sqs.WhenAsync(s => s.Waiting > 0).WaitAsync(Guard);

        // The fake clock does not move: the 20-second poll would never end by itself.
        await _consumer.StopAsync(Ct).WaitAsync(Guard);

        Assert.True(_consumer.ExecuteTask?.IsCompleted);
        Assert.DoesNotContain(_log.Entries, e => e.Level >= LogLevel.Warning);
    }

    [Fact]
    public async Task The_consumer_reads_nothing_before_the_backend_has_listed_its_instances()
    {
        // A warning waiting in the queue across a restart: read before Describe, its instance would look like another's.
        _sqs.Send(_queue, Ec2EventMessages.InterruptionWarning("i-00000000000000001", _time.GetUtcNow()));
        await _consumer.StartAsync(Ct);
        Assert.Equal(0, _sqs.Receives);

        var launched = await _backend.LaunchAsync(new LaunchRequest("ml/job-1#1", "ml", "job-1", 1, Market.Spot, "p3.2xlarge", "us-east-1a",
            1, true, 0, "train.sh"), Ct);
        await _backend.DescribeAsync(Ct);
        await DrainedAsync();

        Assert.Equal("i-00000000000000001", launched.InstanceId);
        Assert.NotNull(_notices.Find(launched.InstanceId)?.InterruptionNoticeAt);
    }

    [Fact]
    public async Task Without_a_queue_url_the_consumer_reads_nothing()
    {
        var options = new AwsComputeOptions { LaunchTemplateId = "lt-0abc", SubnetsByZone = Subnets };
        using var none = new InterruptionQueueConsumer(() => throw new InvalidOperationException("no client is made without a queue"),
            options, _notices, _time, _log);

        await none.StartAsync(Ct);
        await none.ExecuteTask!.WaitAsync(Guard);

        Assert.True(none.ExecuteTask.IsCompletedSuccessfully);
        Assert.Empty(_log.Entries);
    }

    [Fact]
    public async Task A_failing_queue_is_read_again_after_a_backoff_that_doubles_on_the_clock()
    {
        var clock = new TimerWatchingClock(_time.GetUtcNow());
        var options = Options(new Uri(_sqs.BaseUri, $"{FakeSqsServer.AccountId}/no-such-queue").ToString());
        using var consumer = new InterruptionQueueConsumer(() => _sqsClient, options, _notices, clock, _log);
        _notices.Seen([], clock.GetUtcNow());

        await consumer.StartAsync(Ct);
        var first = await clock.NextTimerAsync().WaitAsync(Guard);
        var receivesThen = _sqs.Receives;
        clock.Advance(first);
        var second = await clock.NextTimerAsync().WaitAsync(Guard);

        // Waiting on the clock, not asking again: one receive per backoff.
        Assert.Equal((1, TimeSpan.FromSeconds(1)), (receivesThen, first));
        Assert.Equal((2, TimeSpan.FromSeconds(2)), (_sqs.Receives, second));
        Assert.Contains(_log.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("no-such-queue", StringComparison.Ordinal));
        await consumer.StopAsync(Ct);
    }

    /// <summary>A fake clock that tells when a timer is made (a <c>Task.Delay</c> on it), and for how long.</summary>
    private sealed class TimerWatchingClock(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly Channel<TimeSpan> _made = Channel.CreateUnbounded<TimeSpan>();

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            _made.Writer.TryWrite(dueTime);
            return timer;
        }

        public async Task<TimeSpan> NextTimerAsync() => await _made.Reader.ReadAsync();
    }

    /// <summary>Collects log entries (thread-safe: the consumer logs from its own task).</summary>
    private sealed class ListLogger : ILogger<InterruptionQueueConsumer>
    {
        public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Entries.Enqueue((logLevel, formatter(state, exception)));
    }
}
