using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace Spotwise.Cli.Tests;

/// <summary>
/// Issue 15's failover test: two real <c>spotwise serve --replica-id</c> processes on one SQLite file, the leader killed
/// with SIGKILL while jobs run on the local backend. The follower takes over, no job is lost, no attempt's launch intent
/// is written twice, and the takeover time is measured and printed.
/// </summary>
public sealed partial class FailoverTests(ITestOutputHelper output)
{
    private const int Jobs = 12;

    private static readonly Dictionary<string, string> Environment = new(StringComparer.Ordinal)
    {
        ["SPOTWISE_API_KEYS"] = "k1=team-a",
        ["Spotwise__LocalSlots"] = "4",
    };

    [Fact]
    public async Task When_the_leader_is_killed_the_follower_takes_over_and_every_job_finishes_once()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = deadline.Token;
        var dir = Directory.CreateTempSubdirectory("spotwise-failover-").FullName;
        var db = Path.Combine(dir, "spotwise.db");
        ServeProcess? a = null;
        ServeProcess? b = null;
        try
        {
            using var http = Client();
            a = ServeProcess.Start(db, Environment, "--backend", "local", "--replica-id", "a");
            await a.WaitHealthyAsync(http, TimeSpan.FromSeconds(30), ct);
            Assert.Equal("ok: leader, epoch 1", await RoleAsync(http, a, "leader", ct));
            b = ServeProcess.Start(db, Environment, "--backend", "local", "--replica-id", "b");
            await b.WaitHealthyAsync(http, TimeSpan.FromSeconds(30), ct);
            Assert.Equal("ok: follower", await RoleAsync(http, b, "follower", ct));

            // Submitted to the follower: the leader hears of them through the store and runs them.
            for (var i = 0; i < Jobs; i++)
            {
                using var posted = await http.PostAsync(new Uri(b.Url, "/api/jobs"), Body($"job-{i:D2}"), ct);
                Assert.Equal(HttpStatusCode.Created, posted.StatusCode);
            }
            await WaitAsync(http, b, states => states.GetValueOrDefault("running") + states.GetValueOrDefault("launching") > 0, ct);
            Assert.Equal("1", await MetricAsync(http, a, ct));
            Assert.Equal("0", await MetricAsync(http, b, ct));

            await a.KillAsync();
            var killed = TimeProvider.System.GetTimestamp();
            var role = await RoleAsync(http, b, "leader", ct);
            var tookOver = TimeProvider.System.GetElapsedTime(killed);
            var done = await WaitAsync(http, b, states => states.GetValueOrDefault("succeeded") == Jobs, ct);
            var allDone = TimeProvider.System.GetElapsedTime(killed);

            Assert.Equal("ok: leader, epoch 2", role);
            Assert.Equal(Jobs, done.GetValueOrDefault("succeeded"));
            Assert.Equal("1", await MetricAsync(http, b, ct));
            Assert.InRange(tookOver, TimeSpan.Zero, TimeSpan.FromSeconds(15));
            await b.KillAsync();
            AssertEveryAttemptLaunchedOnce(db);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"leader killed; the follower led after {tookOver.TotalSeconds:F1} s (lease 10 s), all {Jobs} jobs succeeded {allDone.TotalSeconds:F1} s after the kill"));
        }
        catch
        {
            output.WriteLine("a:\n" + a?.RecentOutput + "\nb:\n" + b?.RecentOutput);
            throw;
        }
        finally
        {
            a?.Dispose();
            b?.Dispose();
            try
            {
                Directory.Delete(dir, recursive: true);
            }
            catch (IOException)
            {
                // Left for the OS to clean.
            }
        }
    }

    /// <summary>Every job's launch intents, by attempt: each attempt's intent is written by one leader, once.</summary>
    private static void AssertEveryAttemptLaunchedOnce(string db)
    {
        using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = db, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT job_id, cause FROM job_events WHERE to_state = 'launching';";
        var intents = new List<(string Job, string Attempt)>();
        using (var reader = command.ExecuteReader())
        {
            while (reader.Read())
            {
                intents.Add((reader.GetString(0), AttemptOf().Match(reader.GetString(1)).Groups[1].Value));
            }
        }
        Assert.Equal(Jobs, intents.Select(i => i.Job).Distinct().Count());
        Assert.All(intents.GroupBy(i => i), g => Assert.Single(g));
    }

    [GeneratedRegex(@"attempt (\d+)")]
    private static partial Regex AttemptOf();

    /// <summary>Polls <c>/healthz</c> until it names <paramref name="role"/>; returns the answer.</summary>
    private static async Task<string> RoleAsync(HttpClient http, ServeProcess serve, string role, CancellationToken ct)
    {
        while (true)
        {
            var text = await http.GetStringAsync(new Uri(serve.Url, "/healthz"), ct);
            if (text.Contains(role, StringComparison.Ordinal))
            {
                return text;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(50), TimeProvider.System, ct);
        }
    }

    /// <summary>The replica's <c>spotwise_is_leader</c> line's value.</summary>
    private static async Task<string> MetricAsync(HttpClient http, ServeProcess serve, CancellationToken ct)
    {
        var text = await http.GetStringAsync(new Uri(serve.Url, "/metrics"), ct);
        return text.Split('\n').Single(l => l.StartsWith("spotwise_is_leader ", StringComparison.Ordinal)).Split(' ')[1];
    }

    /// <summary>Polls the job list until <paramref name="until"/> holds for the count of jobs in each state.</summary>
    private static async Task<Dictionary<string, int>> WaitAsync(HttpClient http, ServeProcess serve, Func<Dictionary<string, int>, bool> until, CancellationToken ct)
    {
        while (true)
        {
            using var list = JsonDocument.Parse(await http.GetStringAsync(new Uri(serve.Url, "/api/jobs?limit=1000"), ct));
            var states = list.RootElement.EnumerateArray().GroupBy(j => j.GetProperty("state").GetString()!, StringComparer.Ordinal)
                .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
            if (until(states))
            {
                return states;
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System, ct);
        }
    }

    private static HttpClient Client()
    {
        var http = new HttpClient(new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(2) }) { Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "k1");
        return http;
    }

    private static StringContent Body(string id) => new(
        $$"""{"jobId": "{{id}}", "estimatedDurationHours": 0.01, "requiredResourceType": "cpu_small", "command": "sleep 2"}""",
        Encoding.UTF8, "application/json");
}
