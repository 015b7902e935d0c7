using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using Spotwise.Intake.RabbitMq;
using Spotwise.Runtime;
using Spotwise.Server;

namespace Spotwise.Bench;

/// <summary>
/// <c>intake</c>: submissions per second through RabbitMQ beside HTTP, in one run, into one real service
/// (<see cref="SpotwiseApp.Build"/> with <c>Spotwise:Amqp</c>, as <c>serve --amqp</c> composes it) over a temporary SQLite
/// file. HTTP: batches POSTed by concurrent senders, counted when answered (stored durably). RabbitMQ: the same batches
/// published with publisher confirms by concurrent publishers, counted when the service has stored every job (the
/// consumer acknowledges after the commit): from the first publish to the last job stored. <c>--store postgres</c> keeps
/// the queue in a fresh schema on PostgreSQL instead (<see cref="BenchStore"/>).
/// </summary>
public static class IntakeCommand
{
    public const string Usage =
        "intake [--amqp amqp://user:password@host:port/ (default: SPOTWISE_AMQP)] [--store sqlite|postgres] [--postgres CONNECTION (default $SPOTWISE_STORE)] [--jobs 20000] [--batch 100] [--senders 4]";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new ArgReader(args, ["--amqp", "--store", "--postgres", "--jobs", "--batch", "--senders"], []);
        var amqp = a.Text("--amqp") ?? Environment.GetEnvironmentVariable("SPOTWISE_AMQP");
        var total = a.WholeNumber("--jobs", 1, 1_000_000) ?? 20_000;
        var batchSize = a.WholeNumber("--batch", 1, JobInput.MaxBatch) ?? 100;
        var senders = a.WholeNumber("--senders", 1, 256) ?? 4;
        var server = a.Text("--postgres") ?? Environment.GetEnvironmentVariable(BenchStore.Variable);
        var (stores, storeError) = BenchStore.Parse(a.Text("--store") ?? "sqlite", server);
        if (storeError is not null)
        {
            a.AddError(storeError);
        }
        else if (stores.Length != 1)
        {
            a.AddError("--store: the intake bench measures one store per run; choose sqlite or postgres");
        }
        if (amqp is null)
        {
            a.AddError("--amqp: no broker; pass --amqp or run scripts/rabbitmq-up.sh and export the SPOTWISE_AMQP it prints");
        }
        else if (RabbitMqOptions.Problem(amqp) is { } bad)
        {
            a.AddError($"--amqp: {bad}");
        }
        if (a.Errors.Count > 0)
        {
            return ArgReader.Refuse(a.Errors, Usage, stderr);
        }
        var uri = new Uri(amqp!);
        var team = Connections.UserOf(uri) ?? "guest";
        var run = Guid.NewGuid().ToString("N")[..8];
        var queue = $"spotwise.jobs.bench-{run}";
        await using var benchStore = await BenchStore.CreateAsync(stores[0], server, "intake");
        var url = $"http://127.0.0.1:{FreePort()}";
        await using var app = SpotwiseApp.Build([
            "--urls", url, benchStore.Setting, "--Spotwise:ApiKeys=k1=bench", "--Spotwise:Planner=greedy",
            "--Spotwise:CycleInterval=1.00:00:00", "--Spotwise:RateLimitPermits=100000000", "--Logging:LogLevel:Default=Warning",
            $"--Spotwise:Amqp={amqp}", $"--Spotwise:AmqpQueue={queue}"]);
        await app.StartAsync();
        try
        {
            await app.Services.GetRequiredService<JobQueueConsumer>().Consuming.WaitAsync(TimeSpan.FromSeconds(60));
            var store = app.Services.GetRequiredService<IJobStore>();
            stdout.WriteLine($"service: SpotwiseApp.Build in this process on {url}, {benchStore.Describe}, queue {queue} on {RabbitMqOptions.Redacted(amqp!)}");
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"machine: {Environment.ProcessorCount} logical processors, {Environment.OSVersion}, .NET {Environment.Version}; {total:N0} jobs per path, batches of {batchSize}, {senders} senders"));

            var httpSeconds = await HttpAsync(url, Batches("h", total, batchSize), senders);
            var (confirmSeconds, storedSeconds) = await AmqpAsync(uri, queue, team, Batches("q", total, batchSize), senders, store, total);

            stdout.WriteLine();
            stdout.WriteLine("| path | jobs | seconds | jobs/s | target |");
            stdout.WriteLine("| --- | ---: | ---: | ---: | --- |");
            Row(stdout, "HTTP POST /api/jobs (answered = stored)", total, httpSeconds);
            Row(stdout, "RabbitMQ, published and confirmed by the broker", total, confirmSeconds);
            Row(stdout, "RabbitMQ, published → consumed → stored (acked after commit)", total, storedSeconds);
            await using var connection = await Connections.Factory(uri, "spotwise-bench").CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync();
            await channel.QueueDeleteAsync(queue);
            await channel.QueueDeleteAsync(queue + ".dead");
            await channel.ExchangeDeleteAsync(queue + ".dead");
            return 0;
        }
        finally
        {
            await app.StopAsync();
        }
    }

    private static async Task<double> HttpAsync(string url, string[] batches, int senders)
    {
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromMinutes(5) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "k1");
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, senders).Select(async _ =>
        {
            for (var i = Interlocked.Increment(ref next); i < batches.Length; i = Interlocked.Increment(ref next))
            {
                using var content = new StringContent(batches[i], Encoding.UTF8, "application/json");
                using var response = await http.PostAsync("/api/jobs", content);
                if (response.StatusCode != HttpStatusCode.OK)
                {
                    throw new InvalidOperationException($"POST /api/jobs answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            }
        }));
        return clock.Elapsed.TotalSeconds;
    }

    /// <summary>Seconds until the broker confirmed every batch, and until the service had stored every job.</summary>
    private static async Task<(double Confirmed, double Stored)> AmqpAsync(Uri uri, string queue, string team, string[] batches, int senders,
        IJobStore store, int total)
    {
        await using var connection = await Connections.Factory(uri, "spotwise-bench").CreateConnectionAsync();
        var channels = await Task.WhenAll(Enumerable.Range(0, senders).Select(_ =>
            connection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true))));
        var next = -1;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(channels.Select(async channel =>
        {
            for (var i = Interlocked.Increment(ref next); i < batches.Length; i = Interlocked.Increment(ref next))
            {
                var properties = new BasicProperties { Persistent = true, ContentType = "application/json", UserId = team };
                await channel.BasicPublishAsync("", queue, mandatory: true, properties, Encoding.UTF8.GetBytes(batches[i]));
            }
        }));
        var confirmed = clock.Elapsed.TotalSeconds;
        while ((await store.CountByStateAsync(team, CancellationToken.None)).Values.Sum() < total)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(5), TimeProvider.System);
        }
        var stored = clock.Elapsed.TotalSeconds;
        foreach (var channel in channels)
        {
            await channel.DisposeAsync();
        }
        return (confirmed, stored);
    }

    /// <summary>Distinct small jobs (ids prefixed per path), in batches of the API's JSON.</summary>
    private static string[] Batches(string prefix, int total, int batchSize) =>
    [
        .. Enumerable.Range(0, total)
            .Select(i => $"{{\"jobId\":\"{prefix}-{i}\",\"priority\":{1 + (i % 10)},\"estimatedDurationHours\":{1 + (i % 7)},\"resourceRequirements\":{{\"type\":\"cpu_small\"}}}}")
            .Chunk(batchSize).Select(c => "[" + string.Join(",", c) + "]"),
    ];

    private static void Row(TextWriter stdout, string path, int jobs, double seconds) => stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {path} | {jobs:N0} | {seconds:0.00} | {jobs / seconds:N0} | >= 2,000 jobs/s |"));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
