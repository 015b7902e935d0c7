using System.Diagnostics.CodeAnalysis;

namespace Spotwise.Testing;

/// <summary>
/// A test that talks to a real server started by a scripts/NAME-up.sh script (PostgreSQL, RabbitMQ, Slurm): it runs
/// when the environment variable the up script prints (e.g. <c>SPOTWISE_STORE</c>) is set. Without it the test is
/// skipped with the command to run, so a plain <c>dotnet test</c> on a laptop stays usable, except under
/// scripts/test.sh, which sets <c>SPOTWISE_REQUIRE_SERVICES=1</c>: there the test runs and fails with that message,
/// so CI can never go green by skipping the real-server tests.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[SuppressMessage("Performance", "CA1813:Avoid unsealed attributes", Justification = "ServiceTheory derives from it.")]
public class ServiceFactAttribute : FactAttribute
{
    public ServiceFactAttribute(string variable)
    {
        Variable = variable;
        Skip = ServiceEnvironment.SkipReason(variable);
    }

    public string Variable { get; }
}

/// <summary>The theory form of <see cref="ServiceFactAttribute"/>.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ServiceTheoryAttribute : TheoryAttribute
{
    public ServiceTheoryAttribute(string variable)
    {
        Variable = variable;
        Skip = ServiceEnvironment.SkipReason(variable);
    }

    public string Variable { get; }
}

/// <summary>Reads what the up scripts exported.</summary>
public static class ServiceEnvironment
{
    /// <summary>The value the up script printed for <paramref name="variable"/>; fails the test with how to start it when missing.</summary>
    public static string Require(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(Missing(variable));

    internal static string? SkipReason(string variable)
    {
        if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 })
        {
            return null;
        }
        // Under scripts/test.sh a missing server must fail the test (Require throws), not skip it.
        return Environment.GetEnvironmentVariable("SPOTWISE_REQUIRE_SERVICES") == "1" ? null : Missing(variable);
    }

    private static string Missing(string variable) =>
        $"{variable} is not set: run the tests with `bash scripts/test.sh`, which starts the server and exports it "
        + "(or run the matching scripts/*-up.sh and export the line it prints).";
}
