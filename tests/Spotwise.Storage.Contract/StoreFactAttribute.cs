using Xunit.Abstractions;
using Xunit.Sdk;

namespace Spotwise.Storage.Contract;

/// <summary>
/// A contract test: a plain fact for a store that needs nothing, and for a store on a server (a test class marked
/// <see cref="StoreServerAttribute"/>) the same rule as tests/Shared's <c>ServiceFact</c>: skipped with how to start it
/// when its variable is unset on a laptop, run (and failing) under scripts/test.sh.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
[XunitTestCaseDiscoverer("Spotwise.Storage.Contract.StoreFactDiscoverer", "Spotwise.Storage.Contract")]
public sealed class StoreFactAttribute : FactAttribute;

/// <summary>The store under test lives on the server an up script started and announced in <see cref="Variable"/>.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class StoreServerAttribute(string variable) : Attribute
{
    public string Variable { get; } = variable;
}

/// <summary>Finds <see cref="StoreFactAttribute"/> tests; skips them on a class whose server is not there (and not required).</summary>
public sealed class StoreFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    public override IEnumerable<IXunitTestCase> Discover(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var server = testMethod.TestClass.Class.GetCustomAttributes(typeof(StoreServerAttribute)).FirstOrDefault();
        if (server?.GetConstructorArguments().FirstOrDefault() is string variable && SkipReason(variable) is { } reason)
        {
            return [new XunitSkippedDataRowTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(),
                discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, reason)];
        }
        return base.Discover(discoveryOptions, testMethod, factAttribute);
    }

    // tests/Shared's ServiceEnvironment.SkipReason, which this library cannot compile in (each test project has its copy).
    private static string? SkipReason(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } || Environment.GetEnvironmentVariable("SPOTWISE_REQUIRE_SERVICES") == "1"
            ? null
            : $"{variable} is not set: run the tests with `bash scripts/test.sh`, which starts the server and exports it "
              + "(or run the matching scripts/*-up.sh and export the line it prints).";
}
