namespace Spotwise.Compute.Aws;

/// <summary>
/// Which EC2 call launches a placement whose zone is the region (<c>--launch-api</c>, <c>Spotwise:Aws:LaunchApi</c>).
/// A placement in a zone is always one RunInstances into that zone's subnet.
/// </summary>
public enum Ec2LaunchApi
{
    /// <summary>RunInstances into the first subnet listed in the region: one pool, and the agent's user data per attempt.</summary>
    RunInstances,

    /// <summary>
    /// CreateFleet of type instant over every subnet of the region: EC2 launches in whichever pool has room. Takes no user
    /// data, so not with the agent (<see cref="Ec2LaunchApis.AgentConflict"/>).
    /// </summary>
    CreateFleet,
}

/// <summary>The launch APIs by the names the flag and the setting take.</summary>
public static class Ec2LaunchApis
{
    public const string RunInstancesName = "run-instances";
    public const string CreateFleetName = "create-fleet";

    /// <summary>The names, for an error that lists them.</summary>
    public static string Names => $"{RunInstancesName}, {CreateFleetName}";

    /// <summary>
    /// Why create-fleet does not go with the agent: CreateFleet has no UserData parameter (neither the request nor an
    /// override: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateFleet.html), and the agent's user data
    /// differs per attempt (its token, secret and command).
    /// </summary>
    public const string AgentConflict =
        "create-fleet cannot pass each attempt's user data (CreateFleet takes user data only from the launch template), so it does not go with the agent's callback URL; use run-instances";

    /// <summary>The API a name (<c>run-instances</c>, <c>create-fleet</c>) stands for; false for any other.</summary>
    public static bool TryParse(string? name, out Ec2LaunchApi api)
    {
        (var known, api) = name switch
        {
            RunInstancesName => (true, Ec2LaunchApi.RunInstances),
            CreateFleetName => (true, Ec2LaunchApi.CreateFleet),
            _ => (false, Ec2LaunchApi.RunInstances),
        };
        return known;
    }
}
