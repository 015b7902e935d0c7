using System.Text;
using Spotwise.Runtime;

namespace Spotwise.Compute.Aws;

/// <summary>
/// The user data an attempt's instance boots with: a bash bootstrap that exports the attempt's token, its secret, the
/// Spotwise URL the agent reports to and the job's command, writes the embedded agent (<c>Agent/spotwise-agent.sh</c>)
/// beside it and runs it. cloud-init runs user data that starts with <c>#!</c> once, as root, at first boot.
/// </summary>
public static class Ec2UserData
{
    /// <summary>
    /// RunInstances takes at most 16 KB of user data, before base64
    /// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/user-data.html).
    /// </summary>
    public const int MaxBytes = 16 * 1024;

    private const string AgentEnd = "SPOTWISE_AGENT_END";

    /// <summary>The agent script as shipped.</summary>
    public static string AgentScript { get; } = LoadAgent();

    /// <summary>The user data of one attempt, base64 as RunInstances takes it.</summary>
    /// <exception cref="ArgumentException">The job has no command, or its command makes the user data larger than EC2 takes.</exception>
    public static string Build(LaunchRequest request, Uri callbackUrl, string secret)
    {
        var bootstrap = Encoding.UTF8.GetBytes(Bootstrap(request, callbackUrl, secret));
        if (bootstrap.Length > MaxBytes)
        {
            throw new ArgumentException(
                $"job '{request.Job}' attempt {request.Attempt}: its user data is {bootstrap.Length} bytes, more than the {MaxBytes} EC2 takes "
                + $"(the agent takes {Encoding.UTF8.GetByteCount(AgentScript)}, the command {Encoding.UTF8.GetByteCount(request.Command ?? "")}); "
                + "shorten the command, e.g. to a script the image or the job's data holds", nameof(request));
        }
        return Convert.ToBase64String(bootstrap);
    }

    /// <summary>The bootstrap script, before base64.</summary>
    public static string Bootstrap(LaunchRequest request, Uri callbackUrl, string secret)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(callbackUrl);
        if (string.IsNullOrWhiteSpace(request.Command))
        {
            throw new ArgumentException(
                $"job '{request.Job}' has no command: on EC2 with AgentCallbackUrl set, the agent runs the job's command, so a job needs one", nameof(request));
        }
        if (request.Command.Contains('\0', StringComparison.Ordinal))
        {
            throw new ArgumentException($"job '{request.Job}': its command holds a NUL character, which no shell can pass on", nameof(request));
        }
        var script = new StringBuilder()
            .Append("#!/bin/bash\n")
            .Append("# Spotwise: one attempt of a job, run and reported on by spotwise-agent (written by Ec2UserData).\n")
            .Append("export SPOTWISE_URL=").Append(Quote(callbackUrl.ToString())).Append('\n')
            .Append("export SPOTWISE_TOKEN=").Append(Quote(request.ClientToken)).Append('\n')
            .Append("export SPOTWISE_SECRET=").Append(Quote(secret)).Append('\n')
            .Append("export SPOTWISE_COMMAND=").Append(Quote(request.Command)).Append('\n')
            .Append("agent_dir=$(mktemp -d \"${TMPDIR:-/tmp}/spotwise-agent.XXXXXX\") || exit 1\n")
            .Append("cat > \"$agent_dir/spotwise-agent.sh\" <<'").Append(AgentEnd).Append("'\n")
            .Append(AgentScript);
        if (!AgentScript.EndsWith('\n'))
        {
            script.Append('\n');
        }
        return script.Append(AgentEnd).Append('\n')
            .Append("exec bash \"$agent_dir/spotwise-agent.sh\"\n")
            .ToString();
    }

    /// <summary>
    /// A bash word that is exactly <paramref name="value"/>: inside single quotes nothing is special ($, backticks,
    /// double quotes, newlines stay as they are) but the single quote itself, which closes, is escaped, and reopens.
    /// </summary>
    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string LoadAgent()
    {
        using var stream = typeof(Ec2UserData).Assembly.GetManifestResourceStream("spotwise-agent.sh")
            ?? throw new InvalidOperationException("the agent script is not embedded in Spotwise.Compute.Aws");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var text = reader.ReadToEnd();
        // The here-document ends at the first line that is its delimiter; the agent must not hold one.
        return text.Split('\n').Contains(AgentEnd)
            ? throw new InvalidOperationException($"the agent script holds the line '{AgentEnd}', which ends its here-document")
            : text;
    }
}
