using System.Text;
using Spotwise.Runtime.Attempts;

namespace Spotwise.Server;

/// <summary>
/// The installation's agent key, from which every attempt's secret is derived (<see cref="AttemptSecrets"/>). From the
/// environment (<see cref="EnvironmentVariable"/>) when set: the way for several replicas, or a key kept in a secrets
/// manager. Otherwise generated once and kept beside the SQLite file (<see cref="FileFor"/>), readable by its owner
/// only (0600), because it must outlive a restart: the secrets in running instances' user data were derived from it,
/// and a new key would refuse all their reports (and, three minutes later, judge every one of them lost). Not in the
/// database: the store holds jobs, and a copy of it made for a bug report should not carry the key. Never in git.
/// </summary>
public static class AgentKey
{
    public const string EnvironmentVariable = "SPOTWISE_AGENT_KEY";

    /// <summary>Where the generated key is kept for the store at <paramref name="db"/>: <c>spotwise.db.agent-key</c>.</summary>
    public static string FileFor(string db) => Path.GetFullPath(db) + ".agent-key";

    /// <summary>Why <paramref name="environment"/> cannot be the key; null when it can (or is not set).</summary>
    public static string? Problem(string? environment) => environment is { Length: > 0 } text && Encoding.UTF8.GetByteCount(text) < AttemptSecrets.MinKeyBytes
        ? $"{EnvironmentVariable} is {Encoding.UTF8.GetByteCount(text)} bytes long; it must be at least {AttemptSecrets.MinKeyBytes} (e.g. openssl rand -hex 32)"
        : null;

    /// <summary>The secrets of this installation: from the environment's key, else from the key file (made on first use).</summary>
    public static AttemptSecrets Load(string db, string? environment)
    {
        if (environment is { Length: > 0 })
        {
            return Problem(environment) is { } why ? throw new InvalidOperationException(why) : new AttemptSecrets(Encoding.UTF8.GetBytes(environment));
        }
        var path = FileFor(db);
        return new AttemptSecrets(ReadOrCreate(path));
    }

    private static byte[] ReadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            try
            {
                Create(path, Convert.ToHexStringLower(AttemptSecrets.NewKey()));
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another process made it first: use theirs.
            }
        }
        var text = File.ReadAllText(path).Trim();
        try
        {
            var key = Convert.FromHexString(text);
            return key.Length >= AttemptSecrets.MinKeyBytes ? key
                : throw new InvalidOperationException($"the agent key file {path} holds {key.Length} bytes; it must hold at least {AttemptSecrets.MinKeyBytes}, in hex");
        }
        catch (FormatException)
        {
            throw new InvalidOperationException($"the agent key file {path} is not hex; delete it to make a new key (running instances' reports will then be refused)");
        }
    }

    /// <summary>Writes a new file its owner alone can read (the mode is set as the file is made, never widened first).</summary>
    private static void Create(string path, string hex)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }
        using var file = new StreamWriter(path, Encoding.ASCII, options);
        file.Write(hex + "\n");
    }
}
