namespace Spotwise.Cli;

/// <summary>
/// The entry point of <c>spotwise</c>. Not a top-level <c>Program</c>: the CLI hosts the server, whose public
/// <c>Program</c> (for <c>WebApplicationFactory</c>) would otherwise share the name.
/// </summary>
internal static class EntryPoint
{
    private static Task<int> Main(string[] args) => CliApp.RunAsync(args, Console.Out, Console.Error, TimeProvider.System);
}
