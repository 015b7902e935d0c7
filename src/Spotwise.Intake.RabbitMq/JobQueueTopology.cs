using RabbitMQ.Client;

namespace Spotwise.Intake.RabbitMq;

/// <summary>
/// The broker objects the intake and the events need, declared idempotently (the same arguments every time, so a
/// second service or a restart declares them again harmlessly): the jobs queue (durable, quorum, dead-lettering to
/// the dead-letter exchange after <see cref="RabbitMqOptions.DeliveryLimit"/> deliveries), the dead-letter exchange
/// and queue, and the events topic exchange.
/// </summary>
public static class JobQueueTopology
{
    public static async Task DeclareAsync(IChannel channel, RabbitMqOptions options, CancellationToken cancellationToken)
    {
        await channel.ExchangeDeclareAsync(options.DeadLetterExchange, ExchangeType.Fanout, durable: true, autoDelete: false,
            cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(options.DeadLetterQueue, durable: true, exclusive: false, autoDelete: false,
            arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" }, cancellationToken: cancellationToken);
        await channel.QueueBindAsync(options.DeadLetterQueue, options.DeadLetterExchange, "", cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(options.Queue, durable: true, exclusive: false, autoDelete: false,
            arguments: QueueArguments(options), cancellationToken: cancellationToken);
        await channel.ExchangeDeclareAsync(options.EventsExchange, ExchangeType.Topic, durable: true, autoDelete: false,
            cancellationToken: cancellationToken);
    }

    /// <summary>The jobs queue's arguments; a queue declared before with others is refused by the broker (PRECONDITION_FAILED).</summary>
    public static Dictionary<string, object?> QueueArguments(RabbitMqOptions options) => new()
    {
        ["x-queue-type"] = "quorum",
        ["x-dead-letter-exchange"] = options.DeadLetterExchange,
        ["x-delivery-limit"] = options.DeliveryLimit,
    };
}
