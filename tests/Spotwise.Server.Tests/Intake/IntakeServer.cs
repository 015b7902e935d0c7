using System.Globalization;

namespace Spotwise.Server.Tests.Intake;

/// <summary>
/// One server on a loopback port for a whole suite, with a rate limit no suite reaches, scheduler cycles far apart (the
/// suites judge the intake, not the planner, and the queue grows by thousands of jobs) and quiet logs; one HttpClient.
/// </summary>
public sealed class IntakeServer : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Settings = new()
    {
        ["Spotwise:RateLimitPermits"] = "100000000",
        ["Spotwise:MinCycleGap"] = "00:10:00",
        ["Logging:LogLevel:Default"] = "Warning",
        ["Logging:LogLevel:Microsoft.AspNetCore"] = "Warning",
    };

    private int _requests;

    public LiveServer Server { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    /// <summary>A fixed-width prefix no other request of this server uses, so every body's ids are new.</summary>
    public string NextPrefix() => Interlocked.Increment(ref _requests).ToString("D" + BodyDraft.PrefixWidth, CultureInfo.InvariantCulture);

    public Task InitializeAsync()
    {
        Server = LiveServer.Start(Settings);
        Client = Server.ClientFor(null);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }
}
