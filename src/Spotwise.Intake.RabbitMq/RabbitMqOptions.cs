namespace Spotwise.Intake.RabbitMq;

/// <summary>
/// Where the service takes jobs from and publishes job events to. Every name is an option so tests (and a second
/// installation on one broker) use their own; the defaults are the names docs/scale-out.md gives pipelines.
/// </summary>
public sealed record RabbitMqOptions
{
    /// <summary>The broker: <c>amqp://user:password@host:port/vhost</c> (the vhost <c>/</c> is the path <c>/</c>).</summary>
    public required Uri Uri { get; init; }

    /// <summary>The durable quorum queue jobs are published to (the default exchange routes by its name).</summary>
    public string Queue { get; init; } = DefaultQueue;

    /// <summary>Where refused messages go: a fanout exchange and the queue bound to it.</summary>
    public string DeadLetterExchange { get; init; } = DefaultQueue + ".dead";

    public string DeadLetterQueue { get; init; } = DefaultQueue + ".dead";

    /// <summary>The topic exchange job state changes are published to, with routing key <c>job.&lt;state&gt;</c>.</summary>
    public string EventsExchange { get; init; } = DefaultEventsExchange;

    /// <summary>
    /// Unacknowledged messages the broker hands the consumer at once (BasicQos): bounds memory, and what a crash
    /// redelivers.
    /// </summary>
    public ushort Prefetch { get; init; } = 64;

    /// <summary>Messages handled at once; each is stored in its own transaction by the one intake.</summary>
    public ushort Concurrency { get; init; } = 4;

    /// <summary>
    /// Deliveries of one message before the broker dead-letters it (the quorum queue's <c>x-delivery-limit</c>): a
    /// message that keeps failing for a reason that is not its content (the store is down) is kept, not looped forever.
    /// </summary>
    public int DeliveryLimit { get; init; } = 20;

    /// <summary>Job events held while the broker is away; past it the oldest waiting events are dropped (and counted).</summary>
    public int EventBuffer { get; init; } = 100_000;

    /// <summary>How long to wait between attempts to reach a broker that is not there.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromSeconds(2);

    public const string DefaultQueue = "spotwise.jobs";
    public const string DefaultEventsExchange = "spotwise.events";

    /// <summary>Why <paramref name="text"/> is not a broker URL, or null when it is one.</summary>
    public static string? Problem(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "amqp" or "amqps" && uri.Host.Length > 0
            ? null
            : $"'{Redacted(text)}' is not an AMQP URL (amqp://user:password@host:5672/)";

    /// <summary>A broker URL fit for a message or a log: the password is replaced.</summary>
    public static string Redacted(string text) =>
        Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.UserInfo.Contains(':', StringComparison.Ordinal)
            ? new UriBuilder(uri) { Password = "***" }.Uri.ToString()
            : text;
}
