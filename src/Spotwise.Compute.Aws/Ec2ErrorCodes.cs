using Amazon.Runtime;

namespace Spotwise.Compute.Aws;

/// <summary>
/// EC2 error codes by what Spotwise does about them
/// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html). docs/aws.md has the table.
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

    /// <summary>
    /// The account's quota for the type's class is reached: the launch ends as refused, naming the quota, and the runtime
    /// learns that the class holds no more than what runs in it now (<c>LearnedLimits</c>).
    /// </summary>
    public static readonly IReadOnlySet<string> Quota = new HashSet<string>(StringComparer.Ordinal)
    {
        "VcpuLimitExceeded",
        "MaxSpotInstanceCountExceeded",
        "InstanceLimitExceeded",
    };

    /// <summary>
    /// Refused for now, worth asking again after a wait: EC2's throttling (<c>RequestLimitExceeded</c>), the SDK's other
    /// throttling codes, and EC2's own transient server errors.
    /// </summary>
    public static readonly IReadOnlySet<string> Transient = new HashSet<string>(StringComparer.Ordinal)
    {
        "RequestLimitExceeded",
        "Throttling",
        "ThrottlingException",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "EC2ThrottledException",
        "InternalError",
        "InternalFailure",
        "Unavailable",
        "ServiceUnavailable",
    };

    /// <summary>The call is not allowed: one permission is missing (the policy lacks the action).</summary>
    public const string UnauthorizedOperation = "UnauthorizedOperation";

    /// <summary>The credentials themselves are refused or too old: no call will go through until they change.</summary>
    public static readonly IReadOnlySet<string> Credentials = new HashSet<string>(StringComparer.Ordinal)
    {
        "AuthFailure",
        "InvalidClientTokenId",
        "SignatureDoesNotMatch",
        "RequestExpired",
        "ExpiredToken",
    };

    /// <summary>The account cannot use EC2 here: not subscribed to the region or service, or blocked.</summary>
    public static readonly IReadOnlySet<string> Account = new HashSet<string>(StringComparer.Ordinal)
    {
        "OptInRequired",
        "Blocked",
    };

    public const string IdempotentParameterMismatch = "IdempotentParameterMismatch";

    /// <summary>Terminating an instance EC2 does not know (or an id it cannot read) is not an error for Spotwise.</summary>
    public static bool IsUnknownInstance(string? code) =>
        code is not null && code.StartsWith("InvalidInstanceID.", StringComparison.Ordinal);

    /// <summary>
    /// Whether a failed call is worth asking again: a transient code, any 5xx but a capacity error (EC2 classes those as
    /// server errors, yet asking again at once only repeats the refusal), or no answer at all.
    /// </summary>
    public static bool IsTransient(Exception e) => e switch
    {
        AmazonServiceException { ErrorCode: { } code } when Capacity.Contains(code) => false,
        AmazonServiceException { ErrorCode: { } code } when Transient.Contains(code) => true,
        AmazonServiceException s => (int)s.StatusCode >= 500 || s.InnerException is HttpRequestException or IOException,
        HttpRequestException or IOException => true,
        _ => false,
    };

    /// <summary>The SDK found no credentials anywhere in its chain (profile, environment, SSO, instance role).</summary>
    public static bool IsNoCredentials(Exception e) =>
        e is AmazonClientException
        && e.Message.StartsWith("Failed to resolve AWS credentials", StringComparison.Ordinal);
}
