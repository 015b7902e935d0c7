using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Spotwise.Server.Tests;

/// <summary>
/// The server on a temp SQLite file, with a fake clock (the loops wait on it, so they only run when a test says) and
/// two keys: k1 for team-a, k2 for team-b. The greedy planner keeps cycles fast.
/// </summary>
/// <remarks>Linked into the CLI tests too, which run the client commands against it (one copy of the setup).</remarks>
/// <param name="settings">Configuration on top of the defaults above.</param>
/// <param name="start">The fake clock's start (default <see cref="Start"/>).</param>
/// <param name="services">More test services (the AWS tests' credentials for a loopback EC2).</param>
/// <param name="time">The fake clock itself, when a test needs its own kind (one that reports the timers made on it).</param>
public sealed class SpotwiseServerFactory(IReadOnlyDictionary<string, string>? settings = null, DateTimeOffset? start = null,
    Action<IServiceCollection>? services = null, FakeTimeProvider? time = null) : WebApplicationFactory<Program>
{
    public static readonly DateTimeOffset Start = new(2026, 3, 2, 8, 0, 0, TimeSpan.Zero);

    private readonly string _dir = Directory.CreateTempSubdirectory("spotwise-server-").FullName;

    public FakeTimeProvider Time { get; } = time ?? new(start ?? Start);

    public string DbPath => Path.Combine(_dir, "spotwise.db");

    public HttpClient ClientFor(string key)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Spotwise:Db", DbPath);
        builder.UseSetting("Spotwise:Planner", "greedy");
        builder.UseSetting("Spotwise:ApiKeys", "k1=team-a,k2=team-b");
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
        {
            builder.UseSetting(key, value);
        }
        builder.ConfigureTestServices(test =>
        {
            test.AddSingleton<TimeProvider>(Time);
            services?.Invoke(test);
        });
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // A file still held open by a pooled connection: the temp folder is cleaned by the OS later.
        }
    }
}
