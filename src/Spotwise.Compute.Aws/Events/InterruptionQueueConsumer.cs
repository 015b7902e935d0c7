using Amazon.SQS;
using Amazon.SQS.Model;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spotwise.Runtime.Leadership;

namespace Spotwise.Compute.Aws.Events;

/// <summary>
/// Reads the SQS queue an EventBridge rule feeds with EC2's interruption warnings, rebalance recommendations and state
/// changes (<see cref="AwsComputeOptions.InterruptionQueueUrl"/>), and records what they say of this installation's
/// instances in <see cref="InstanceNotices"/>, where <see cref="AwsEc2Compute.DescribeAsync"/> finds them. Long polls
/// (ReceiveMessage, 20 s, 10 messages); deletes each message only after recording it, so a crash in between leaves the
/// message to come back and be recorded again (recording is idempotent). A message that cannot be read is logged and
/// deleted: it never will be, and left in the queue it would come back after every visibility timeout, forever where
/// no redrive policy is set. Events of other instances in the account and of other kinds are deleted unrecorded. Errors
/// back off exponentially (1 s to a minute) on the <see cref="TimeProvider"/>; stopping cancels the long poll. Does
/// nothing when no queue URL is set. Among replicas only the leader reads the queue (<see cref="LeaderWork"/>): the notices
/// are kept in the memory of the process whose reconcile loop acts on them, and a follower would delete them unseen.
/// </summary>
public sealed partial class InterruptionQueueConsumer(
    Func<IAmazonSQS> client, AwsComputeOptions options, InstanceNotices notices, TimeProvider time, ILogger<InterruptionQueueConsumer> logger,
    ILeadership? leadership = null)
    : BackgroundService
{
    /// <summary>SQS's longest long poll: one call per 20 s on an idle queue.</summary>
    public const int WaitTimeSeconds = 20;

    /// <summary>SQS's most messages per receive.</summary>
    public const int MaxNumberOfMessages = 10;

    public static readonly TimeSpan FirstBackoff = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan MaxBackoff = TimeSpan.FromMinutes(1);

    /// <summary>How much of an unreadable message's body goes into the log.</summary>
    private const int LoggedBodyLength = 200;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.InterruptionQueueUrl is not { } queueUrl)
        {
            return;
        }
        // Which instances are ours is known once the backend has listed them; an event read before would be dropped.
        await notices.Listed.WaitAsync(stoppingToken).ConfigureAwait(false);
        IAmazonSQS? sqs = null;
        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                sqs ??= client();
                await LeaderWork.RunAsync(leadership, ct => ReceiveOnceAsync(sqs, queueUrl, ct), logger, stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.Zero;
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                backoff = backoff == TimeSpan.Zero ? FirstBackoff : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, MaxBackoff.Ticks));
                LogReceiveFailed(e, queueUrl, backoff);
                await Task.Delay(backoff, time, stoppingToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>One long poll and what it brought: each message recorded (or judged) and then deleted. Returns how many came.</summary>
    public async Task<int> ReceiveOnceAsync(IAmazonSQS sqs, string queueUrl, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sqs);
        var response = await sqs.ReceiveMessageAsync(new ReceiveMessageRequest
        {
            QueueUrl = queueUrl,
            WaitTimeSeconds = WaitTimeSeconds,
            MaxNumberOfMessages = MaxNumberOfMessages,
        }, cancellationToken).ConfigureAwait(false);
        var messages = response.Messages ?? [];
        foreach (var message in messages)
        {
            Handle(message);
            await sqs.DeleteMessageAsync(new DeleteMessageRequest { QueueUrl = queueUrl, ReceiptHandle = message.ReceiptHandle },
                cancellationToken).ConfigureAwait(false);
        }
        return messages.Count;
    }

    private void Handle(Message message)
    {
        var reading = Ec2Events.Read(message.Body);
        if (reading.Malformed is { } why)
        {
            var body = message.Body ?? "";
            LogUnreadable(message.MessageId, why, body.Length > LoggedBodyLength ? body[..LoggedBodyLength] + "…" : body);
            return;
        }
        if (reading.Event is not { } e)
        {
            LogNotRead(message.MessageId, reading.NotRead);
            return;
        }
        if (!notices.IsOurs(e.InstanceId))
        {
            LogNotOurs(e.Kind, e.InstanceId);
            return;
        }
        notices.Record(e, time.GetUtcNow());
        LogRecorded(e.Kind, e.InstanceId, e.Time, e.Detail);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Reading the interruption queue {QueueUrl} failed; trying again in {Backoff}")]
    private partial void LogReceiveFailed(Exception exception, string queueUrl, TimeSpan backoff);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Interruption queue message {MessageId} cannot be read ({Why}); deleted, or it would come back forever: {Body}")]
    private partial void LogUnreadable(string messageId, string why, string body);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Interruption queue message {MessageId} deleted unread: {Why}")]
    private partial void LogNotRead(string messageId, string? why);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Kind} for {InstanceId} deleted: not an instance of this installation")]
    private partial void LogNotOurs(Ec2EventKind kind, string instanceId);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Kind} for {InstanceId} at {Time:u} ({Detail}) recorded")]
    private partial void LogRecorded(Ec2EventKind kind, string instanceId, DateTimeOffset time, string? detail);
}
