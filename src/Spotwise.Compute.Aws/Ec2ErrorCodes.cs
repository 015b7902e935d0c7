namespace Spotwise.Compute.Aws;

/// <summary>
/// EC2 error codes by what Spotwise does about them
/// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html).
/// </summary>
public static class Ec2ErrorCodes
{
    /// <summary>The pool has no room now: the launch ends as refused, the pool backs off and the job is re-planned.</summary>
    public static readonly IReadOnlySet<string> Capacity = new HashSet<string>(StringComparer.Ordinal)
    {
        "InsufficientInstanceCapacity",
        "InsufficientCapacity",
        "UnfulfillableCapacity",
        "SpotMaxPriceTooLow",
        "InsufficientHostCapacity",
        "InsufficientReservedInstanceCapacity",
    };

    /// <summary>Terminating an instance EC2 does not know (or an id it cannot read) is not an error for Spotwise.</summary>
    public static bool IsUnknownInstance(string? code) =>
        code is not null && code.StartsWith("InvalidInstanceID.", StringComparison.Ordinal);
}
