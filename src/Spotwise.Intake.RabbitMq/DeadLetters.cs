using System.Globalization;
using RabbitMQ.Client;

namespace Spotwise.Intake.RabbitMq;

/// <summary>
/// Puts a message the intake could not take whole into the dead-letter queue, with why in its headers, before the
/// original is acknowledged: nothing is lost. The copy keeps the body and properties; the publisher's user moves to a
/// header, because the broker lets <c>user_id</c> name only the publishing connection's own user.
/// </summary>
public static class DeadLetters
{
    public const string ErrorsHeader = "x-spotwise-errors";
    public const string ErrorCountHeader = "x-spotwise-error-count";
    public const string OutcomeHeader = "x-spotwise-outcome";
    public const string UserHeader = "x-spotwise-user";
    public const string QueueHeader = "x-spotwise-queue";

    /// <summary>Publishes the copy and waits for the broker's confirm (the channel tracks confirmations).</summary>
    public static async Task PublishAsync(IChannel channel, RabbitMqOptions options, ReadOnlyMemory<byte> body, IReadOnlyBasicProperties original,
        string outcome, IReadOnlyList<string> errors, CancellationToken cancellationToken)
    {
        var headers = original.Headers is { } h ? new Dictionary<string, object?>(h) : [];
        headers[ErrorsHeader] = errors.Cast<object?>().ToList();
        headers[ErrorCountHeader] = errors.Count;
        headers[OutcomeHeader] = outcome;
        headers[QueueHeader] = options.Queue;
        if (original.UserId is { } user)
        {
            headers[UserHeader] = user;
        }
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = original.ContentType,
            MessageId = original.MessageId,
            CorrelationId = original.CorrelationId,
            Timestamp = original.Timestamp,
            Headers = headers,
        };
        await channel.BasicPublishAsync(options.DeadLetterExchange, "", mandatory: true, properties, body, cancellationToken);
    }

    /// <summary>A header's text, whichever way the client read it (AMQP strings arrive as bytes).</summary>
    public static string? Text(object? value) => value switch
    {
        null => null,
        byte[] bytes => System.Text.Encoding.UTF8.GetString(bytes),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString(),
    };
}
