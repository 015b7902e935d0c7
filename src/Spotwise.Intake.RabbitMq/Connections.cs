using RabbitMQ.Client;

namespace Spotwise.Intake.RabbitMq;

/// <summary>Connections to the broker, made one way for the consumer, the event publisher and <c>submit --via</c>.</summary>
public static class Connections
{
    /// <summary>
    /// A factory for <paramref name="uri"/> that recovers: after a broker restart the client reconnects, re-opens the
    /// channels and re-declares the queues and consumers it declared (automatic and topology recovery).
    /// </summary>
    public static ConnectionFactory Factory(Uri uri, string clientName) => new()
    {
        Uri = uri,
        ClientProvidedName = clientName,
        AutomaticRecoveryEnabled = true,
        TopologyRecoveryEnabled = true,
        NetworkRecoveryInterval = TimeSpan.FromSeconds(1),
    };

    /// <summary>The user the broker knows the connection as: the team that publishes through it (<see cref="AmqpTeam"/>).</summary>
    public static string? UserOf(Uri uri) => uri.UserInfo.Length == 0 ? null : Uri.UnescapeDataString(uri.UserInfo.Split(':', 2)[0]);
}
