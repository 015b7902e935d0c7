using System.CommandLine;

namespace Spotwise.Cli;

/// <summary>The flags every client command (submit, jobs, cancel) takes.</summary>
public sealed class ClientOptions
{
    public Option<string> Server { get; } = new("--server")
    {
        Description = $"The Spotwise server's URL (default {ApiConnection.DefaultServer})",
        DefaultValueFactory = _ => ApiConnection.DefaultServer,
    };

    public Option<string?> ApiKey { get; } = new("--api-key") { Description = $"API key (default: the {ApiConnection.KeyVariable} environment variable)" };

    public void AddTo(Command command)
    {
        command.Options.Add(Server);
        command.Options.Add(ApiKey);
    }
}
