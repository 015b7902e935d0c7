using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Spotwise.Cli.Tests;

/// <summary>
/// The real server in-process on a temp SQLite file, keys k1 (team-a) and k2 (team-b), the greedy planner and a fake
/// clock (the scheduler plans on submit; nothing launches until a test moves the clock). <see cref="Cli"/> runs the
/// real <c>spotwise</c> command against it through the test server's handler.
/// </summary>
public sealed class ServerHost : WebApplicationFactory<Program>
{
    public const string Url = "http://localhost";

    private readonly string _dir = Directory.CreateTempSubdirectory("spotwise-cli-").FullName;

    public FakeTimeProvider Time { get; } = new(CliRunner.FixedNow);

    public (int ExitCode, string Out, string Err) Cli(params string[] args)
    {
        using var handler = Server.CreateHandler();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = CliApp.Run(args, stdout, stderr, Time, handler);
        return (code, stdout.ToString(), stderr.ToString());
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Spotwise:Db", Path.Combine(_dir, "spotwise.db"));
        builder.UseSetting("Spotwise:Planner", "greedy");
        builder.UseSetting("Spotwise:ApiKeys", "k1=team-a,k2=team-b");
        builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Time));
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
