using Spotwise.Runtime.Attempts;

namespace Spotwise.Server.Tests.Attempts;

public sealed class AgentKeyTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spotwise-agent-key-").FullName;

    private string Db => Path.Combine(_dir, "spotwise.db");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_generated_key_is_kept_beside_the_db_for_its_owner_alone_and_outlives_a_restart()
    {
        var first = AgentKey.Load(Db, environment: null).For("team-a/job-1#1");
        var afterRestart = AgentKey.Load(Db, environment: null).For("team-a/job-1#1");

        Assert.Equal(first, afterRestart);
        Assert.Equal(Db + ".agent-key", AgentKey.FileFor(Db));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(AgentKey.FileFor(Db)));
        }
    }

    [Fact]
    public void The_environments_key_is_used_when_set_and_no_file_is_made()
    {
        var key = new string('k', 40);

        var secrets = AgentKey.Load(Db, key);

        Assert.Equal(new AttemptSecrets(System.Text.Encoding.UTF8.GetBytes(key)).For("t/j#1"), secrets.For("t/j#1"));
        Assert.False(File.Exists(AgentKey.FileFor(Db)));
    }

    [Fact]
    public void A_short_key_in_the_environment_is_refused_at_start_naming_the_variable()
    {
        var validator = new SpotwiseOptionsValidator(name => name == AgentKey.EnvironmentVariable ? "short" : null, ["simulated"]);

        var result = validator.Validate(null, new SpotwiseOptions());

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("SPOTWISE_AGENT_KEY is 5 bytes long", StringComparison.Ordinal));
    }

    [Fact]
    public void Secrets_differ_by_attempt_and_by_installation_and_compare_only_equal()
    {
        var ours = new AttemptSecrets(AttemptSecrets.NewKey());
        var theirs = new AttemptSecrets(AttemptSecrets.NewKey());

        Assert.NotEqual(ours.For("t/j#1"), ours.For("t/j#2"));
        Assert.NotEqual(ours.For("t/j#1"), theirs.For("t/j#1"));
        Assert.True(ours.Verify("t/j#1", ours.For("t/j#1")));
        Assert.False(ours.Verify("t/j#1", ours.For("t/j#1").ToUpperInvariant()));
        Assert.False(ours.Verify("t/j#1", null));
        Assert.Matches("^[0-9a-f]{64}$", ours.For("t/j#1"));
    }
}
