using System.Text.RegularExpressions;
using Microsoft.Extensions.Time.Testing;

namespace Spotwise.Cli.Tests;

/// <summary>Runs the real command in-process with captured output and a fixed clock.</summary>
public static partial class CliRunner
{
    public static readonly DateTimeOffset FixedNow = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    public static (int ExitCode, string Out, string Err) Run(params string[] args) => RunWith(new Dictionary<string, string>(), args);

    /// <summary>Runs with exactly these environment variables (the machine's own, such as a real model key, are not seen).</summary>
    public static (int ExitCode, string Out, string Err) RunWith(IReadOnlyDictionary<string, string> env, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        // The tests read as sentences with a plain result; the command runs on the pool, off xunit's context, while this waits.
        var code = Task.Run(() => CliApp.RunAsync(args, stdout, stderr, new FakeTimeProvider(FixedNow), env: env.GetValueOrDefault)).GetAwaiter().GetResult();
        return (code, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Solve times differ run to run; everything else in a plan is deterministic.</summary>
    public static string MaskTimings(string text) =>
        SolveSecondsJson().Replace(SolveSecondsTable().Replace(text, "in #.## s"), "\"solveSeconds\": #");

    [GeneratedRegex(@"in \d+\.\d\d s")]
    private static partial Regex SolveSecondsTable();

    [GeneratedRegex(@"""solveSeconds"": [0-9.eE+-]+")]
    private static partial Regex SolveSecondsJson();

    public static string TempFile(string content, string extension = ".json")
    {
        var path = Path.Combine(Path.GetTempPath(), $"spotwise-test-{Guid.NewGuid():N}{extension}");
        File.WriteAllText(path, content);
        return path;
    }
}
