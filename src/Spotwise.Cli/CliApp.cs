using System.CommandLine;

namespace Spotwise.Cli;

/// <summary>
/// The <c>spotwise</c> command. Output streams and the clock are parameters so tests run it in-process. Asynchronous to
/// the entry point: commands await their work (a planner's model, the server), nothing blocks on a task.
/// </summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TimeProvider time, HttpMessageHandler? http = null,
        Func<string, string?>? env = null)
    {
        var root = new RootCommand("Spotwise: run batch and ML jobs on the cheapest capacity that still meets every deadline.")
        {
            PlanCommand.Create(stdout, stderr, time, env ?? Environment.GetEnvironmentVariable),
            SimulateCommand.Create(stdout, stderr),
            ServeCommand.Create(stderr),
            SubmitCommand.Create(stdout, stderr, http),
            JobsCommand.Create(stdout, stderr, http),
            CancelCommand.Create(stdout, stderr, http),
            PricesCommand.Create(stdout, stderr, time),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // Syntax errors are bad input like any other: exit 2, one line each (1 means "some job unplanned").
            foreach (var error in parse.Errors)
            {
                stderr.WriteLine($"error: {error.Message}");
            }
            stderr.WriteLine($"Run '{string.Join(' ', parse.CommandResult.Command.Name == root.Name ? "spotwise" : "spotwise " + parse.CommandResult.Command.Name)} --help' for usage.");
            return ExitCodes.BadInput;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
    }
}

/// <summary>Exit codes every command shares.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The command ran but not everything could be done (for plan: some job could not be planned).</summary>
    public const int Partial = 1;

    /// <summary>Bad input: one line per problem on stderr.</summary>
    public const int BadInput = 2;

    /// <summary>A planner produced a plan the validator rejects: a bug, reported with every violation.</summary>
    public const int InvalidPlan = 3;
}
