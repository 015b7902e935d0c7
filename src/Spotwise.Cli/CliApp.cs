using System.CommandLine;

namespace Spotwise.Cli;

/// <summary>
/// The <c>spotwise</c> command. Output streams and the clock are parameters so tests run it in-process. Asynchronous to
/// the entry point: commands await their work (a planner's model, the server), nothing blocks on a task.
/// </summary>
public static class CliApp
{
    /// <param name="args">The command line.</param>
    /// <param name="stdout">Where results go.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <param name="time">The clock.</param>
    /// <param name="http">The client commands' HTTP handler (tests host the server in-process); null: the network.</param>
    /// <param name="env">The environment (tests pass their own); null: the process's.</param>
    /// <param name="awsCredentials">Where <c>aws</c> commands find credentials; null: the AWS SDK's default chain.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, TimeProvider time, HttpMessageHandler? http = null,
        Func<string, string?>? env = null, AwsCommand.CredentialSource? awsCredentials = null)
    {
        var root = new RootCommand("Spotwise: run batch and ML jobs on the cheapest capacity that still meets every deadline.")
        {
            PlanCommand.Create(stdout, stderr, time, env ?? Environment.GetEnvironmentVariable),
            SimulateCommand.Create(stdout, stderr),
            ServeCommand.Create(stderr, env ?? Environment.GetEnvironmentVariable),
            SubmitCommand.Create(stdout, stderr, http),
            JobsCommand.Create(stdout, stderr, http),
            CancelCommand.Create(stdout, stderr, http),
            AwsCommand.Create(stdout, stderr, env ?? Environment.GetEnvironmentVariable, awsCredentials),
            PricesCommand.Create(stdout, stderr, time),
            CatalogCommand.Create(stdout, stderr, time),
        };
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // Syntax errors are bad input like any other: exit 2, one line each (1 means "some job unplanned").
            foreach (var error in parse.Errors)
            {
                stderr.WriteLine($"error: {error.Message}");
            }
            stderr.WriteLine($"Run '{CommandPath(parse.CommandResult)} --help' for usage.");
            return ExitCodes.BadInput;
        }
        return await parse.InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });
    }

    /// <summary>The command as typed: <c>spotwise</c>, <c>spotwise plan</c>, <c>spotwise aws check</c>.</summary>
    private static string CommandPath(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (var at = result; at.Parent is System.CommandLine.Parsing.CommandResult parent; at = parent)
        {
            names.Insert(0, at.Command.Name);
        }
        return string.Join(' ', ["spotwise", .. names]);
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
