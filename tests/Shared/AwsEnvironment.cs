namespace Spotwise.Testing;

/// <summary>
/// Tests that set the environment variables the AWS SDK reads itself (process-wide): they run alone, and every variable
/// is restored after.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class AwsEnvironment
{
    public const string Name = "AWS SDK environment";

    /// <summary>Credentials the SDK's chain finds in the environment (and no instance metadata to ask).</summary>
    public static IDisposable DummyCredentials(Dictionary<string, string?>? more = null) => Set(new Dictionary<string, string?>(more ?? new Dictionary<string, string?>(), StringComparer.Ordinal)
    {
        ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE",
        ["AWS_SECRET_ACCESS_KEY"] = "secret",
        ["AWS_SESSION_TOKEN"] = null,
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    });

    /// <summary>
    /// No credential anywhere the SDK's chain looks: environment, profile files, web identity, container and instance
    /// metadata (turned off, so nothing is asked of the network).
    /// </summary>
    public static IDisposable NoCredentials(Dictionary<string, string?>? more = null) => Set(new Dictionary<string, string?>(more ?? new Dictionary<string, string?>(), StringComparer.Ordinal)
    {
        ["AWS_ACCESS_KEY_ID"] = null,
        ["AWS_SECRET_ACCESS_KEY"] = null,
        ["AWS_SESSION_TOKEN"] = null,
        ["AWS_PROFILE"] = null,
        ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(Path.GetTempPath(), "spotwise-no-such-aws-credentials"),
        ["AWS_CONFIG_FILE"] = Path.Combine(Path.GetTempPath(), "spotwise-no-such-aws-config"),
        ["AWS_WEB_IDENTITY_TOKEN_FILE"] = null,
        ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = null,
        ["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = null,
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    });

    public static IDisposable Set(Dictionary<string, string?> variables)
    {
        var before = variables.Keys.ToDictionary(k => k, Environment.GetEnvironmentVariable);
        foreach (var (key, value) in variables)
        {
            Environment.SetEnvironmentVariable(key, value);
        }
        return new Restore(before);
    }

    private sealed class Restore(Dictionary<string, string?> before) : IDisposable
    {
        public void Dispose()
        {
            foreach (var (key, value) in before)
            {
                Environment.SetEnvironmentVariable(key, value);
            }
        }
    }
}
