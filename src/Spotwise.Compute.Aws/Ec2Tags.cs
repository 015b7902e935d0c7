namespace Spotwise.Compute.Aws;

/// <summary>The tags Spotwise puts on each instance and its volumes: whose job it is, and which installation owns it.</summary>
public static class Ec2Tags
{
    public const string Job = "spotwise:job";
    public const string Attempt = "spotwise:attempt";
    public const string Team = "spotwise:team";
    public const string ManagedBy = "spotwise:managed-by";

    /// <summary>Set by the agent (Agent/spotwise-agent.sh), where it can, before it shuts the instance down: the command's exit code.</summary>
    public const string ExitCode = "spotwise:exit-code";
}
