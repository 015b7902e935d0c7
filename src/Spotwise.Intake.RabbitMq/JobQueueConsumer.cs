using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Spotwise.Intake.RabbitMq;

/// <summary>
/// Takes jobs from the durable quorum queue (<see cref="RabbitMqOptions.Queue"/>) through the one intake. A message is
/// acknowledged only after the store has committed its jobs (at-least-once: a redelivery after a crash or a broker
/// restart is a duplicate, which the idempotent store answers as such); one that cannot be taken whole is copied to the
/// dead-letter queue with the errors in its headers, confirmed, and only then acknowledged; a failure of ours (the
/// store) returns it to the queue, and the broker dead-letters it after <see cref="RabbitMqOptions.DeliveryLimit"/>
/// deliveries. The client recovers the connection, channel and consumer after a broker restart; a broker that is not
/// there at start is retried on the <see cref="TimeProvider"/>.
/// </summary>
public sealed partial class JobQueueConsumer(RabbitMqOptions options, JobMessages messages, TimeProvider time, ILogger<JobQueueConsumer> logger)
    : BackgroundService
{
    private readonly TaskCompletionSource _consuming = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly string _broker = RabbitMqOptions.Redacted(options.Uri.ToString());
    private long _stored;
    private long _deadLettered;

    /// <summary>Completes once the consumer is registered with the broker (tests and the bench wait on it).</summary>
    public Task Consuming => _consuming.Task;

    /// <summary>Messages whose jobs were stored, and messages dead-lettered, since start.</summary>
    public (long Stored, long DeadLettered) Counts => (Interlocked.Read(ref _stored), Interlocked.Read(ref _deadLettered));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await Connections.Factory(options.Uri, "spotwise-intake").CreateConnectionAsync(stoppingToken);
                await using var channel = await connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
                        consumerDispatchConcurrency: options.Concurrency), stoppingToken);
                await JobQueueTopology.DeclareAsync(channel, options, stoppingToken);
                await channel.BasicQosAsync(0, options.Prefetch, global: false, stoppingToken);
                var consumer = new AsyncEventingBasicConsumer(channel);
                consumer.ReceivedAsync += (_, delivery) => HandleAsync(channel, delivery, stoppingToken);
                await channel.BasicConsumeAsync(options.Queue, autoAck: false, consumer, stoppingToken);
                Log.Consuming(logger, options.Queue, _broker);
                _consuming.TrySetResult();
                // From here the client's recovery keeps the consumer alive across broker restarts.
                await Task.Delay(Timeout.InfiniteTimeSpan, time, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // A broker that is away or refuses the declaration must not stop the service: log, wait, try again.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.Unreachable(logger, _broker, e.Message);
                await WaitAsync(stoppingToken);
            }
        }
    }

    private async Task WaitAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(options.ReconnectDelay, time, stoppingToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task HandleAsync(IChannel channel, BasicDeliverEventArgs delivery, CancellationToken stoppingToken)
    {
        MessageVerdict verdict;
        try
        {
            verdict = await messages.JudgeAsync(delivery.Body, delivery.BasicProperties, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return; // Not acknowledged: the broker redelivers it to the next consumer.
        }
#pragma warning disable CA1031 // One message's failure (the store's) must not stop the consumer: it goes back to the queue.
        catch (Exception e)
#pragma warning restore CA1031
        {
            Log.Failed(logger, delivery.BasicProperties.MessageId, e);
            await channel.BasicNackAsync(delivery.DeliveryTag, multiple: false, requeue: true, CancellationToken.None);
            return;
        }
        switch (verdict)
        {
            case MessageVerdict.Refused refused:
                await DeadLetterAsync(channel, delivery, "refused", refused.Errors);
                break;
            case MessageVerdict.Conflicted conflicted:
                await DeadLetterAsync(channel, delivery, "conflict", conflicted.Errors);
                break;
            default:
                Interlocked.Increment(ref _stored);
                break;
        }
        // Only now: the jobs are committed, or the refused message is confirmed in the dead-letter queue.
        await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false, CancellationToken.None);
    }

    private async Task DeadLetterAsync(IChannel channel, BasicDeliverEventArgs delivery, string outcome, IReadOnlyList<string> errors)
    {
        Log.DeadLettered(logger, delivery.BasicProperties.MessageId, outcome, errors.Count, errors[0]);
        await DeadLetters.PublishAsync(channel, options, delivery.Body, delivery.BasicProperties, outcome, errors, CancellationToken.None);
        Interlocked.Increment(ref _deadLettered);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "Taking jobs from queue {Queue} on {Broker}")]
        public static partial void Consuming(ILogger logger, string queue, string broker);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot take jobs from RabbitMQ at {Broker} ({Reason}); trying again")]
        public static partial void Unreachable(ILogger logger, string broker, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "Message {MessageId} could not be stored; it goes back to the queue")]
        public static partial void Failed(ILogger logger, string? messageId, Exception exception);

        [LoggerMessage(Level = LogLevel.Warning, Message = "Message {MessageId} dead-lettered ({Outcome}, {Count} errors), first: {First}")]
        public static partial void DeadLettered(ILogger logger, string? messageId, string outcome, int count, string first);
    }
}
