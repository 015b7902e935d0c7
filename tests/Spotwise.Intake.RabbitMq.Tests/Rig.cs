using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using RabbitMQ.Client;
using Spotwise.Runtime;
using Spotwise.Runtime.Intake;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Intake.RabbitMq.Tests;

/// <summary>The broker scripts/rabbitmq-up.sh started, and names no other test uses (each test has its own queues and exchanges).</summary>
public static class Broker
{
    public static Uri Uri => new(ServiceEnvironment.Require("SPOTWISE_AMQP"));

    /// <summary>The team the broker's user is (the user in SPOTWISE_AMQP).</summary>
    public static string Team => Connections.UserOf(Uri)!;

    public static RabbitMqOptions UniqueOptions()
    {
        var id = Guid.NewGuid().ToString("N")[..12];
        return new RabbitMqOptions
        {
            Uri = Uri,
            Queue = $"spotwise.jobs.test-{id}",
            DeadLetterExchange = $"spotwise.jobs.test-{id}.dead",
            DeadLetterQueue = $"spotwise.jobs.test-{id}.dead",
            EventsExchange = $"spotwise.events.test-{id}",
            ReconnectDelay = TimeSpan.FromMilliseconds(250),
        };
    }

    /// <summary>Stops and starts the node through the project's own scripts (messages in the quorum queue survive).</summary>
    public static async Task RunScriptAsync(string name)
    {
        using var process = Process.Start(new ProcessStartInfo("bash", Path.Combine(RepoPaths.Root, "scripts", name))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromMinutes(10)).Token);
        Assert.True(process.ExitCode == 0, $"scripts/{name} exited {process.ExitCode}: {await output}{await errors}");
    }

    /// <summary>Waits until <paramref name="condition"/> holds, looking again every few milliseconds; fails after <paramref name="seconds"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, string what, int seconds = 120)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(seconds), $"timed out after {seconds} s waiting until {what}");
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
    }
}

/// <summary>
/// A consumer (and optionally the event publisher) on a real SQLite store, with a test's own names on the real broker,
/// and a connection of the test's own to publish and look with. Deletes its queues and exchanges at the end.
/// </summary>
public sealed class Rig : IAsyncDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly string _folder;
    private readonly CancellationTokenSource _stop = new();
    private IConnection? _connection;

    private Rig(RabbitMqOptions options, string folder, SqliteJobStore store)
    {
        _folder = folder;
        Options = options;
        Sqlite = store;
        Gate = new GatedStore(store);
    }

    public RabbitMqOptions Options { get; }

    public SqliteJobStore Sqlite { get; }

    /// <summary>The store the intake writes through: a gate the test may close, then the event hand-off.</summary>
    public GatedStore Gate { get; }

    public IJobStore Store { get; private set; } = null!;

    public FakeTimeProvider Time { get; } = new(Now);

    public JobQueueConsumer Consumer { get; private set; } = null!;

    public JobEventPublisher? Events { get; private set; }

    public IChannel Channel { get; private set; } = null!;

    public static async Task<Rig> StartAsync(bool events = false, bool consume = true)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"spotwise-amqp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var store = await SqliteJobStore.OpenAsync(Path.Combine(folder, "jobs.db"), CancellationToken.None);
        var rig = new Rig(Broker.UniqueOptions(), folder, store);
        await rig.OpenAsync(events, consume);
        return rig;
    }

    private async Task OpenAsync(bool events, bool consume)
    {
        var writes = new CommittedWrites(Options.EventBuffer);
        Store = events ? new EventPublishingJobStore(Gate, writes) : Gate;
        var intake = new JobIntake(Store, ShippedData.Catalog, Time);
        Consumer = new JobQueueConsumer(Options, new JobMessages(intake), TimeProvider.System, NullLogger<JobQueueConsumer>.Instance);
        _connection = await Connections.Factory(Options.Uri, "spotwise-tests").CreateConnectionAsync();
        Channel = await _connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        await JobQueueTopology.DeclareAsync(Channel, Options, CancellationToken.None);
        if (events)
        {
            Events = new JobEventPublisher(Options, writes, Gate, TimeProvider.System, NullLogger<JobEventPublisher>.Instance);
            await Events.StartAsync(_stop.Token);
        }
        if (consume)
        {
            await Consumer.StartAsync(_stop.Token);
            await Consumer.Consuming.WaitAsync(TimeSpan.FromSeconds(60));
        }
    }

    /// <summary>Publishes a message as a team would (confirmed by the broker); <paramref name="userId"/> null publishes none.</summary>
    public async Task PublishAsync(string body, string? userId = "")
    {
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = "application/json",
            UserId = userId == "" ? Broker.Team : userId,
            MessageId = Guid.NewGuid().ToString("N"),
        };
        await Channel.BasicPublishAsync("", Options.Queue, mandatory: true, properties, Encoding.UTF8.GetBytes(body));
    }

    public async Task<int> StoredCountAsync() =>
        (await Sqlite.ListAsync(new JobQuery(Broker.Team), CancellationToken.None)).Count;

    public async Task<uint> ReadyAsync(string queue) => (await Channel.QueueDeclarePassiveAsync(queue)).MessageCount;

    public async ValueTask DisposeAsync()
    {
        Gate.Open();
        await _stop.CancelAsync();
        await Consumer.StopAsync(CancellationToken.None);
        if (Events is not null)
        {
            await Events.StopAsync(CancellationToken.None);
        }
        if (Channel is { IsOpen: true })
        {
            await Channel.QueueDeleteAsync(Options.Queue);
            await Channel.QueueDeleteAsync(Options.DeadLetterQueue);
            await Channel.ExchangeDeleteAsync(Options.DeadLetterExchange);
            await Channel.ExchangeDeleteAsync(Options.EventsExchange);
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
        Consumer.Dispose();
        Events?.Dispose();
        await Sqlite.DisposeAsync();
        _stop.Dispose();
        Directory.Delete(_folder, recursive: true);
    }
}
