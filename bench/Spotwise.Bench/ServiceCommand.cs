using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spotwise.Bench.Workloads;
using Spotwise.Core.Serialization;
using Spotwise.Server;

namespace Spotwise.Bench;

/// <summary>
/// <c>service</c>: the real server (<see cref="SpotwiseApp.Build"/>, in this process) on a loopback port over a temporary
/// SQLite file, driven over real HTTP with <see cref="HttpClient"/>: batch submission throughput, single-submit latency,
/// and the memory held with 100,000 jobs stored (docs/benchmarks.md, issue 3). <c>--store postgres</c> keeps the queue in
/// a fresh schema on PostgreSQL instead, and <c>--store both</c> measures SQLite and then PostgreSQL in one run (issue 15).
/// </summary>
public static class ServiceCommand
{
    public const string Usage =
        "service [--host cli|inprocess] [--store sqlite|postgres|both] [--postgres CONNECTION (default $SPOTWISE_STORE)] [--jobs 100000] [--batch 100] [--senders 4] [--seconds 10] [--singles 2000] [--seed 1]";

    private const string Key = "k1";
    private const int Permits = 100_000_000;
    private const string CliDll = "src/Spotwise.Cli/bin/Release/net10.0/spotwise.dll";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new ArgReader(args, ["--host", "--store", "--postgres", "--jobs", "--batch", "--senders", "--seconds", "--singles", "--seed"], []);
        var host = a.Text("--host") ?? "cli";
        var server = a.Text("--postgres") ?? Environment.GetEnvironmentVariable(BenchStore.Variable);
        var (stores, storeError) = BenchStore.Parse(a.Text("--store") ?? "sqlite", server);
        if (storeError is not null)
        {
            a.AddError(storeError);
        }
        var total = a.WholeNumber("--jobs", 1, 1_000_000) ?? 100_000;
        var batchSize = a.WholeNumber("--batch", 1, JobInput.MaxBatch) ?? 100;
        var senders = a.WholeNumber("--senders", 1, 256) ?? 4;
        var seconds = a.PositiveNumber("--seconds") ?? 10;
        var singles = a.WholeNumber("--singles", 1, 1_000_000) ?? 2_000;
        var seed = a.WholeNumber("--seed", int.MinValue, int.MaxValue) ?? 1;
        var tracePath = RepoRoot.PathTo(RepoRoot.AlibabaPods, out var why);
        if (tracePath is null)
        {
            a.AddError($"cannot find the repository's data: {why}");
        }
        string? cliDll = null;
        if (host == "cli")
        {
            cliDll = RepoRoot.PathTo(CliDll, out var whyCli);
            if (cliDll is null)
            {
                a.AddError($"--host cli: cannot find the built CLI ({whyCli}); run `dotnet build src/Spotwise.Cli -c Release` first, or use --host inprocess");
            }
        }
        else if (host != "inprocess")
        {
            a.AddError($"--host: '{host}' is not a host; choose cli (the built `spotwise serve`, a child process) or inprocess");
        }
        if (a.Errors.Count > 0)
        {
            return ArgReader.Refuse(a.Errors, Usage, stderr);
        }
        foreach (var name in stores)
        {
            await using var store = await BenchStore.CreateAsync(name, server, "service");
            stdout.WriteLine($"== store: {name}");
            await RunOnStoreAsync(store, host, cliDll, tracePath!, total, batchSize, senders, seconds, singles, seed, stdout);
            stdout.WriteLine();
        }
        return 0;
    }

    private static async Task RunOnStoreAsync(BenchStore store, string host, string? cliDll, string tracePath, int total, int batchSize, int senders,
        double seconds, int singles, int seed, TextWriter stdout)
    {

        // Job bodies: Alibaba-derived jobs written as the jobs file format with times relative to now, so the server
        // reads them against its own clock. `total` go in batches; 2 x `singles` + 1 one per request.
        var now = TimeProvider.System.GetUtcNow();
        var trace = AlibabaTrace.Read(tracePath);
        var count = total + (2 * singles) + 1;
        // The intake refuses times more than 366 days out; 104,001 tiled jobs span ~6 years of arrivals, so they are
        // compressed into 300 days (the same jobs, arriving faster).
        var span = AlibabaWorkload.Generate(trace, count, seed, now).Max(j => j.EarliestStart!.Value) - now;
        var compression = Math.Max(1.0, span / TimeSpan.FromDays(300));
        var generated = AlibabaWorkload.Generate(trace, count, seed, now, compression)
            .Select(j => j with { Team = null }); // the key's team owns them
        var bodies = JsonNode.Parse(JobsFileWriter.Write(generated, now))!["jobs"]!.AsArray()
            .Select(j => j!.ToJsonString()).ToArray();
        string[]? batches = [.. bodies.Take(total).Chunk(batchSize).Select(c => "[" + string.Join(",", c) + "]")];
        string[]? quietBodies = bodies[total..(total + singles)];
        string[]? loadedBodies = bodies[(total + singles)..(total + (2 * singles))];
        var warmUp = bodies[^1];
        bodies = null;

        var port = FreePort();
        var url = $"http://127.0.0.1:{port}";
        var cycleInterval = TimeSpan.FromHours(24);
        var server = host == "cli"
            ? await ChildServer.StartAsync(cliDll!, url, store.ServeFlags, cycleInterval)
            : await InProcessServer.StartAsync(url, store, cycleInterval);
        try
        {
            using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = senders * 2 })
            {
                BaseAddress = new Uri(url),
                Timeout = TimeSpan.FromMinutes(5),
            };
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Key);
            await WaitHealthyAsync(http);
            stdout.WriteLine($"server: {server.Describe} on {url}, {store.Describe}");
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"settings: greedy planner, CycleInterval {cycleInterval.TotalHours:0} h (no timed cycles; each submission still signals a cycle, as in production), " +
                $"rate limit raised to {Permits:N0} requests per minute per key, logging at Warning"));
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"machine: {Environment.ProcessorCount} logical processors, {Environment.OSVersion}, .NET {Environment.Version}"));

            // Warm-up: one request so JIT and the connection are not in the figures (a job outside the measured sets).
            await PostAsync(http, warmUp, expectStatus: HttpStatusCode.Created, expectCreated: 1);

            // 2a. Latency on a near-empty queue: one job per request, one request at a time.
            var quiet = await LatenciesAsync(http, quietBodies);
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"2a. {quiet.Length:N0} sequential single-job POSTs, queue near empty: {Summary(quiet)}"));

            // 1. Throughput: senders take the next batch until the time is up or the batches run out.
            var next = -1;
            var acknowledged = 0L;
            var stopAt = TimeSpan.FromSeconds(seconds);
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, senders).Select(async _ =>
            {
                while (clock.Elapsed < stopAt)
                {
                    var i = Interlocked.Increment(ref next);
                    if (i >= batches.Length)
                    {
                        return;
                    }
                    var created = await PostAsync(http, batches[i], HttpStatusCode.OK, CountJobs(batches[i]));
                    Interlocked.Add(ref acknowledged, created);
                }
            }));
            var throughputSeconds = clock.Elapsed.TotalSeconds;
            var sentBatches = Math.Min(Volatile.Read(ref next) + 1, batches.Length);
            var jobsPerSecond = acknowledged / throughputSeconds;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"1. {acknowledged:N0} jobs acknowledged (created, stored durably) in {sentBatches:N0} batches of {batchSize} by {senders} senders in {throughputSeconds:0.00} s"));

            // 2b. Latency again with those jobs queued: the cycles each submission signals now plan tens of thousands.
            var loaded = await LatenciesAsync(http, loadedBodies);
            var queuedBefore = 1 + quiet.Length + acknowledged;
            var stored = queuedBefore + loaded.Length;
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"2b. {loaded.Length:N0} sequential single-job POSTs, {queuedBefore:N0} jobs queued before them: {Summary(loaded)}"));

            // 3. Memory: the rest of the batches, so the store holds every job, then measure.
            foreach (var batch in batches.Skip(sentBatches))
            {
                stored += await PostAsync(http, batch, HttpStatusCode.OK, CountJobs(batch));
            }
            batches = null;
            quietBodies = loadedBodies = null;
            var memory = server.Memory();
            stdout.WriteLine($"3. holding {stored:N0} jobs: {memory.Text}");

            stdout.WriteLine();
            stdout.WriteLine("| figure | measured | target | verdict |");
            stdout.WriteLine("| --- | ---: | --- | --- |");
            Row(stdout, $"submission throughput, batches of {batchSize}, {senders} senders", $"{jobsPerSecond:N0} jobs/s", ">= 2,000 jobs/s", jobsPerSecond >= 2_000);
            Row(stdout, "single-job submit p50 / p95 / p99, queue near empty", Triple(quiet), "p99 <= 20 ms", P(quiet, 0.99) <= 20);
            Row(stdout, $"single-job submit p50 / p95 / p99, {queuedBefore:N0}+ queued", Triple(loaded), "p99 <= 20 ms", P(loaded, 0.99) <= 20);
            Row(stdout, $"server memory holding {stored:N0} jobs ({memory.What})", $"{Mib(memory.Bytes):N0} MiB", "< 1 GiB", memory.Bytes < 1L << 30);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static async Task<double[]> LatenciesAsync(HttpClient http, string[] bodies)
    {
        var latencies = new double[bodies.Length];
        for (var i = 0; i < bodies.Length; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await PostAsync(http, bodies[i], HttpStatusCode.Created, 1);
            latencies[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        }
        Array.Sort(latencies);
        return latencies;
    }

    private static async Task WaitHealthyAsync(HttpClient http)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                using var response = await http.GetAsync("/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException) when (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        }
    }

    private static string Summary(double[] sorted) => string.Create(CultureInfo.InvariantCulture,
        $"p50 {P(sorted, 0.50):0.00} ms, p95 {P(sorted, 0.95):0.00} ms, p99 {P(sorted, 0.99):0.00} ms, max {sorted[^1]:0.00} ms");

    private static string Triple(double[] sorted) => string.Create(CultureInfo.InvariantCulture,
        $"{P(sorted, 0.50):0.00} / {P(sorted, 0.95):0.00} / {P(sorted, 0.99):0.00} ms");

    /// <summary>Posts a body; any status but the expected one, or fewer jobs created than sent, stops the benchmark.</summary>
    private static async Task<int> PostAsync(HttpClient http, string body, HttpStatusCode expectStatus, int expectCreated)
    {
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.PostAsync("/api/jobs", content);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != expectStatus)
        {
            throw new InvalidOperationException($"POST /api/jobs answered {(int)response.StatusCode}: {text}");
        }
        if (expectStatus == HttpStatusCode.Created)
        {
            return 1;
        }
        using var doc = JsonDocument.Parse(text);
        var created = doc.RootElement.EnumerateArray().Count(e => e.GetProperty("outcome").GetString() == "created");
        if (created != expectCreated)
        {
            throw new InvalidOperationException($"a batch of {expectCreated} jobs created only {created}");
        }
        return created;
    }

    /// <summary>The jobs in a batch body (each job object starts with its id).</summary>
    private static int CountJobs(string batch)
    {
        var count = 0;
        for (var i = batch.IndexOf("{\"jobId\"", StringComparison.Ordinal); i >= 0; i = batch.IndexOf("{\"jobId\"", i + 1, StringComparison.Ordinal))
        {
            count++;
        }
        return count;
    }

    private static double P(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static double Mib(long bytes) => bytes / (1024.0 * 1024.0);

    private static void Row(TextWriter stdout, string figure, string measured, string target, bool? met) =>
        stdout.WriteLine($"| {figure} | {measured} | {target} | {(met is null ? "-" : met.Value ? "met" : "NOT met")} |");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
