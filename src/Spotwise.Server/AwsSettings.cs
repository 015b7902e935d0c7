using Amazon.Runtime;
using Spotwise.Compute.Aws;

namespace Spotwise.Server;

/// <summary>
/// The <c>Spotwise:Aws</c> section: where the <c>aws</c> backend launches (<c>spotwise serve --backend aws</c>'s flags
/// <c>--region</c>, <c>--launch-template</c>, <c>--subnets</c>, <c>--interruption-queue</c>, <c>--managed-by</c>).
/// Credentials are never here: the AWS SDK's default chain finds them (profile, environment, SSO, instance role).
/// </summary>
public sealed class AwsSettings
{
    /// <summary>The region (us-east-1); unset: the SDK's own (AWS_REGION, AWS_DEFAULT_REGION, the profile's).</summary>
    public string? Region { get; set; }

    /// <summary>The launch template (lt-...) that carries the image, security groups, instance profile and user data.</summary>
    public string? LaunchTemplate { get; set; }

    /// <summary>The subnets to launch into, comma-separated, one per availability zone; their zones are asked of EC2 at start.</summary>
    public string? Subnets { get; set; }

    /// <summary>The SQS queue EventBridge feeds with spot interruption warnings (optional).</summary>
    public string? InterruptionQueueUrl { get; set; }

    /// <summary>
    /// The Spotwise URL the instances can reach (https://spotwise.example.com): each launch's user data then runs the job's
    /// command under the agent, which reports to <c>POST /api/attempts/{token}/events</c> there (optional; without it the
    /// launch template's user data applies and nothing reports progress or exit codes).
    /// </summary>
    public string? AgentCallbackUrl { get; set; }

    /// <summary>This installation's name, the value of every instance's <c>spotwise:managed-by</c> tag.</summary>
    public string ManagedBy { get; set; } = "spotwise";

    /// <summary>
    /// An EC2-compatible endpoint (LocalStack, a test server). Unset, the SDK resolves it and honours
    /// <c>AWS_ENDPOINT_URL_EC2</c> and <c>AWS_ENDPOINT_URL</c>: it is set on the client only when given here.
    /// </summary>
    public string? ServiceUrl { get; set; }

    /// <summary>An SQS-compatible endpoint for the interruption queue; unset, the SDK's (it honours <c>AWS_ENDPOINT_URL_SQS</c>).</summary>
    public string? SqsServiceUrl { get; set; }

    /// <summary>The subnets, in the order given (the first takes regional placements: <see cref="Ec2Subnets.ForZone"/>).</summary>
    public IReadOnlyList<string> SubnetIds => Split(Subnets);

    public static IReadOnlyList<string> Split(string? subnets) =>
        [.. (subnets ?? "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];

    /// <summary>The configured region, else the one the SDK's chain finds (environment, profile); null when neither says.</summary>
    public string? ResolvedRegion() => Region is { Length: > 0 } region ? region : FallbackRegionFactory.GetRegionEndpoint()?.SystemName;

    /// <summary>
    /// The backend's options. <paramref name="credentials"/>: null in the product (the SDK's chain); a test registers its
    /// own <see cref="AWSCredentials"/> service for a loopback endpoint. <paramref name="inUse"/>: the service runs on
    /// <c>aws</c>; otherwise the SDK is not asked for a region (it may ask the instance metadata endpoint, which takes
    /// seconds off EC2), as nothing AWS is made.
    /// </summary>
    public AwsComputeOptions ToComputeOptions(AWSCredentials? credentials, bool inUse) => new()
    {
        Region = inUse ? ResolvedRegion() : Region,
        ServiceUrl = ServiceUrl is { Length: > 0 } url ? new Uri(url) : null,
        SqsServiceUrl = SqsServiceUrl is { Length: > 0 } sqs ? new Uri(sqs) : null,
        Credentials = credentials,
        LaunchTemplateId = LaunchTemplate ?? "",
        Subnets = SubnetIds,
        InterruptionQueueUrl = InterruptionQueueUrl is { Length: > 0 } queue ? queue : null,
        AgentCallbackUrl = AgentCallbackUrl is { Length: > 0 } agent ? new Uri(agent) : null,
        ManagedBy = ManagedBy,
    };

    /// <summary>What is wrong with the section for the <c>aws</c> backend, one line per problem naming the setting.</summary>
    public IEnumerable<string> Problems()
    {
        const string At = SpotwiseOptions.Section + ":Aws:";
        if (string.IsNullOrWhiteSpace(LaunchTemplate))
        {
            yield return $"{At}LaunchTemplate is empty; the aws backend launches from a launch template (lt-...)";
        }
        if (SubnetIds.Count == 0)
        {
            yield return $"{At}Subnets is empty; name the subnets to launch into, one per availability zone (subnet-a,subnet-b)";
        }
        if (ResolvedRegion() is null)
        {
            yield return $"{At}Region is not set and the AWS SDK finds none (AWS_REGION, the profile); name the region (us-east-1)";
        }
        if (string.IsNullOrWhiteSpace(ManagedBy))
        {
            yield return $"{At}ManagedBy is empty; it names this installation on every instance it launches";
        }
        foreach (var (name, value) in new[] { ("ServiceUrl", ServiceUrl), ("SqsServiceUrl", SqsServiceUrl), ("InterruptionQueueUrl", InterruptionQueueUrl), ("AgentCallbackUrl", AgentCallbackUrl) })
        {
            if (value is { Length: > 0 } && !IsHttpUrl(value))
            {
                yield return $"{At}{name} is '{value}'; it must be an absolute http(s) URL";
            }
        }
    }

    public static bool IsHttpUrl(string value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);
}
