using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Spotwise.Bench;

/// <summary>
/// <c>failover</c>: two built <c>spotwise serve --replica-id</c> processes on one store (a SQLite file; with
/// <c>--store postgres</c> a fresh PostgreSQL schema) with the local backend, jobs
/// running, the leader killed with SIGKILL (its whole process tree, as a lost machine). Measures, from the kill, when the
/// follower says it leads (<c>/healthz</c>) and when it has acted: its first planning cycle done
/// (<c>spotwise_cycles_total</c> &gt; 0) and every job finished. Target (issue 15): a new leader acting within 15 s.
/// </summary>
public static class FailoverCommand
{
    public const string Usage = "failover [--store sqlite|postgres] [--postgres CONNECTION (default $SPOTWISE_STORE)] [--runs 3] [--jobs 12] [--lease-seconds 10]";

    private const string CliDll = "src/Spotwise.Cli/bin/Release/net10.0/spotwise.dll";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new ArgReader(args, ["--store", "--postgres", "--runs", "--jobs", "--lease-seconds"], []);
        var runs = a.WholeNumber("--runs", 1, 100) ?? 3;
        var jobs = a.WholeNumber("--jobs", 1, 1000) ?? 12;
        var lease = a.PositiveNumber("--lease-seconds") ?? 10;
        var server = a.Text("--postgres") ?? Environment.GetEnvironmentVariable(BenchStore.Variable);
        var (stores, storeError) = BenchStore.Parse(a.Text("--store") ?? "sqlite", server);
        if (storeError is not null)
        {
            a.AddError(storeError);
        }
        else if (stores.Length != 1)
        {
            a.AddError("--store: the failover bench runs on one store; choose sqlite or postgres");
        }
        var cliDll = RepoRoot.PathTo(CliDll, out var whyCli);
        if (cliDll is null)
        {
            a.AddError($"cannot find the built CLI ({whyCli}); run `dotnet build src/Spotwise.Cli -c Release` first");
        }
        if (a.Errors.Count > 0)
        {
            return ArgReader.Refuse(a.Errors, Usage, stderr);
        }
        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"failover: {runs} run(s), two `spotwise serve --replica-id` on one {(stores[0] == "sqlite" ? "SQLite file" : "PostgreSQL schema")}, {jobs} local jobs (sleep 2), lease {lease} s"));
        var results = new List<Run>();
        for (var i = 0; i < runs; i++)
        {
            await using var store = await BenchStore.CreateAsync(stores[0], server, "failover");
            var run = await OneRunAsync(cliDll!, store, jobs, lease);
            results.Add(run);
            await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                $"  run {i + 1}: leads after {run.Leads.TotalSeconds:F1} s, first cycle done after {run.Acts.TotalSeconds:F1} s, all {jobs} jobs done after {run.AllDone.TotalSeconds:F1} s"));
        }
        await stdout.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
            $"new leader acting (first cycle done) after the kill: median {Median(results.Select(r => r.Acts)):F1} s, max {results.Max(r => r.Acts).TotalSeconds:F1} s (target <= 15 s)"));
        return 0;
    }

    private sealed record Run(TimeSpan Leads, TimeSpan Acts, TimeSpan AllDone);

    private static async Task<Run> OneRunAsync(string cliDll, BenchStore store, int jobs, double leaseSeconds)
    {
        var lease = leaseSeconds.ToString(CultureInfo.InvariantCulture);
        var urlA = $"http://127.0.0.1:{FreePort()}";
        var urlB = $"http://127.0.0.1:{FreePort()}";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "k1");
        using var patience = new CancellationTokenSource(Patience);
        var ct = patience.Token;
        // a first, leading before b starts, so the one killed is the leader.
        var a = await ChildServer.StartAsync(cliDll, urlA, store.ServeFlags, TimeSpan.FromSeconds(10), "--backend", "local", "--replica-id", "a", "--lease-seconds", lease);
        IServiceHost? b = null;
        try
        {
            await UntilAsync(async () => (await HealthAsync(http, urlA, ct)).Contains("leader", StringComparison.Ordinal), ct);
            b = await ChildServer.StartAsync(cliDll, urlB, store.ServeFlags, TimeSpan.FromSeconds(10), "--backend", "local", "--replica-id", "b", "--lease-seconds", lease);
            await UntilAsync(async () => (await HealthAsync(http, urlB, ct)).Contains("follower", StringComparison.Ordinal), ct);
            for (var i = 0; i < jobs; i++)
            {
                using var body = new StringContent(
                    $$"""{"jobId": "job-{{i}}", "estimatedDurationHours": 0.01, "requiredResourceType": "cpu_small", "command": "sleep 2"}""",
                    Encoding.UTF8, "application/json");
                using var posted = await http.PostAsync(new Uri(urlB + "/api/jobs"), body, ct);
                posted.EnsureSuccessStatusCode();
            }
            await UntilAsync(async () => (await StatesAsync(http, urlB, ct)).GetValueOrDefault("running") > 0, ct);

            await a.DisposeAsync();
            var killed = TimeProvider.System.GetTimestamp();
            await UntilAsync(async () => (await HealthAsync(http, urlB, ct)).Contains("leader", StringComparison.Ordinal), ct);
            var leads = TimeProvider.System.GetElapsedTime(killed);
            await UntilAsync(async () => await CyclesAsync(http, urlB, ct) > 0, ct);
            var acts = TimeProvider.System.GetElapsedTime(killed);
            await UntilAsync(async () => (await StatesAsync(http, urlB, ct)).GetValueOrDefault("succeeded") == jobs, ct);
            return new Run(leads, acts, TimeProvider.System.GetElapsedTime(killed));
        }
        finally
        {
            await a.DisposeAsync();
            if (b is not null)
            {
                await b.DisposeAsync();
            }
        }
    }

    private static async Task<string> HealthAsync(HttpClient http, string url, CancellationToken ct)
    {
        try
        {
            return await http.GetStringAsync(new Uri(url + "/healthz"), ct);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            // Not listening yet, or too busy starting to answer within the client's timeout.
            return "";
        }
    }

    private static async Task<double> CyclesAsync(HttpClient http, string url, CancellationToken ct)
    {
        var line = (await http.GetStringAsync(new Uri(url + "/metrics"), ct)).Split('\n')
            .Single(l => l.StartsWith("spotwise_cycles_total ", StringComparison.Ordinal));
        return double.Parse(line.Split(' ')[1], CultureInfo.InvariantCulture);
    }

    private static async Task<Dictionary<string, int>> StatesAsync(HttpClient http, string url, CancellationToken ct)
    {
        using var list = JsonDocument.Parse(await http.GetStringAsync(new Uri(url + "/api/jobs?limit=1000"), ct));
        return list.RootElement.EnumerateArray().GroupBy(j => j.GetProperty("state").GetString()!, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
    }

    /// <summary>Polls every 50 ms until <paramref name="condition"/> holds (the run's patience bounds it).</summary>
    private static async Task UntilAsync(Func<Task<bool>> condition, CancellationToken ct)
    {
        while (!await condition())
        {
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, ct);
        }
    }

    private static double Median(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Select(v => v.TotalSeconds).Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
