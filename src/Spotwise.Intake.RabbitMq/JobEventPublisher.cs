using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RabbitMQ.Client;
using Spotwise.Runtime;

namespace Spotwise.Intake.RabbitMq;

/// <summary>
/// Publishes job state changes to the topic exchange <see cref="RabbitMqOptions.EventsExchange"/> (routing key
/// <c>job.&lt;state&gt;</c>), from the committed writes <see cref="EventPublishingJobStore"/> hands it. A write moved the job
/// when the store recorded an event for it (same state, cause and time); that event, with its per-job sequence number,
/// is what is published, with publisher confirms.
/// </summary>
/// <remarks>
/// The guarantee: while the service runs, every state change is published at least once (a batch not confirmed is
/// published again after the client reconnects, so a consumer may see a repeat: (team, jobId, sequence) names it),
/// and one job's changes are published in order. Writers never wait for the broker: while it is away, changes wait
/// in a bounded buffer and past <see cref="RabbitMqOptions.EventBuffer"/> the oldest are dropped (logged, counted);
/// changes still buffered when the service stops are not published. The store's events (the API's job view) stay the
/// record; the exchange is a feed for pipelines to follow.
/// </remarks>
public sealed partial class JobEventPublisher(RabbitMqOptions options, CommittedWrites queue, IJobStore store, TimeProvider time,
    ILogger<JobEventPublisher> logger) : BackgroundService
{
    private const int BatchSize = 256;
    private static readonly TimeSpan SameMoment = TimeSpan.FromMilliseconds(1);
    private readonly string _broker = RabbitMqOptions.Redacted(options.Uri.ToString());
    private long _published;

    /// <summary>Events the broker has confirmed since start.</summary>
    public long Published => Interlocked.Read(ref _published);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        List<JobStateEvent> unconfirmed = [];
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await Connections.Factory(options.Uri, "spotwise-events").CreateConnectionAsync(stoppingToken);
                await using var channel = await connection.CreateChannelAsync(
                    new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), stoppingToken);
                await channel.ExchangeDeclareAsync(options.EventsExchange, ExchangeType.Topic, durable: true, autoDelete: false,
                    cancellationToken: stoppingToken);
                while (!stoppingToken.IsCancellationRequested)
                {
                    if (unconfirmed.Count == 0)
                    {
                        unconfirmed = await NextEventsAsync(stoppingToken);
                    }
                    await PublishAsync(channel, unconfirmed, stoppingToken);
                    Interlocked.Add(ref _published, unconfirmed.Count);
                    unconfirmed = [];
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
#pragma warning disable CA1031 // The feed must never stop the service: whatever went wrong (the broker, a store read), log, wait, go on.
            catch (Exception e)
#pragma warning restore CA1031
            {
                Log.Unreachable(logger, _broker, e.Message, unconfirmed.Count, queue.Dropped);
                try
                {
                    await Task.Delay(options.ReconnectDelay, time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>The state changes among the next committed writes (waits for at least one write).</summary>
    private async Task<List<JobStateEvent>> NextEventsAsync(CancellationToken cancellationToken)
    {
        var events = new List<JobStateEvent>();
        while (events.Count == 0)
        {
            await queue.Reader.WaitToReadAsync(cancellationToken);
            for (var n = 0; n < BatchSize && queue.Reader.TryRead(out var write); n++)
            {
                if (await ChangeOfAsync(write, cancellationToken) is { } change)
                {
                    events.Add(change);
                }
            }
        }
        return events;
    }

    /// <summary>The event the store recorded for the write, or null when the write did not move the job (a note, an instance id).</summary>
    private async Task<JobStateEvent?> ChangeOfAsync(CommittedWrite write, CancellationToken cancellationToken)
    {
        var record = write.Record;
        if (write.Cause is null)
        {
            // A submission: its first event, as every store writes it.
            return JobStateEvent.Of(record, new JobEvent(record.Team, record.Id, 1, write.At, null, JobState.Queued, "submitted"));
        }
        var events = await store.EventsAsync(record.Key, cancellationToken);
        var change = events.LastOrDefault(e => e.To == record.State && e.Cause == write.Cause && (e.At - write.At).Duration() < SameMoment);
        return change is null ? null : JobStateEvent.Of(record, change);
    }

    /// <summary>Publishes and waits for every confirm; one job's events one after another, different jobs' at once.</summary>
    private async Task PublishAsync(IChannel channel, List<JobStateEvent> events, CancellationToken cancellationToken)
    {
        var perJob = events.GroupBy(e => (e.Team, e.JobId)).Select(async job =>
        {
            foreach (var change in job)
            {
                var properties = new BasicProperties
                {
                    Persistent = true,
                    ContentType = "application/json",
                    MessageId = $"{change.Team}/{change.JobId}/{change.Sequence}",
                    Type = "spotwise.job." + change.State,
                };
                await channel.BasicPublishAsync(options.EventsExchange, change.RoutingKey, mandatory: false, properties, change.ToJson(), cancellationToken);
            }
        });
        await Task.WhenAll(perJob);
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Cannot publish job events to RabbitMQ at {Broker} ({Reason}); {Waiting} events wait, {Dropped} dropped so far")]
        public static partial void Unreachable(ILogger logger, string broker, string reason, int waiting, long dropped);
    }
}
