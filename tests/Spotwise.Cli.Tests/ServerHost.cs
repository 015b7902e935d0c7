using Spotwise.Server.Tests;

namespace Spotwise.Cli.Tests;

/// <summary>
/// The real server in-process (<see cref="SpotwiseServerFactory"/>: temp SQLite file, keys k1 for team-a and k2 for
/// team-b, the greedy planner, a fake clock at <see cref="CliRunner.FixedNow"/>). <see cref="Cli"/> runs the real
/// <c>spotwise</c> command against it through the test server's handler.
/// </summary>
public sealed class ServerHost : IAsyncDisposable
{
    public const string Url = "http://localhost";

    private readonly SpotwiseServerFactory _server = new(start: CliRunner.FixedNow);

    public (int ExitCode, string Out, string Err) Cli(params string[] args)
    {
        using var handler = _server.Server.CreateHandler();
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        // As CliRunner: the command runs on the pool, off xunit's context, while the test waits for its exit code.
        var code = Task.Run(() => CliApp.RunAsync(args, stdout, stderr, _server.Time, handler)).GetAwaiter().GetResult();
        return (code, stdout.ToString(), stderr.ToString());
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
