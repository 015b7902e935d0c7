using Amazon.Runtime;
using RetryPolicy = Spotwise.Core.RetryPolicy;

namespace Spotwise.Compute.Aws;

/// <summary>Where and how the EC2 backend launches: its regions, a launch template, a subnet per planned zone.</summary>
public sealed class AwsComputeOptions
{
    /// <summary>The region (us-east-1); null leaves it to the SDK's default chain (AWS_REGION, profile, instance metadata).</summary>
    public string? Region { get; init; }

    /// <summary>
    /// Every region the backend launches in, the home region (<see cref="Region"/>) first (<c>--region a --region b</c>);
    /// empty: <see cref="Region"/> alone. Each region has its own EC2 client: EC2 is one endpoint per region.
    /// </summary>
    public IReadOnlyList<string> Regions { get; init; } = [];

    /// <summary>The regions the backend has a client for, home first: <see cref="Regions"/>, or <see cref="Region"/> alone (null: the SDK's).</summary>
    public IReadOnlyList<string?> LaunchRegions => Regions.Count > 0 ? [.. Regions] : [Region];

    /// <summary>
    /// An EC2-compatible endpoint per region (a loopback EC2 per region in tests); a region not here takes
    /// <see cref="ServiceUrl"/>.
    /// </summary>
    public IReadOnlyDictionary<string, Uri> ServiceUrls { get; init; } = new Dictionary<string, Uri>(StringComparer.Ordinal);

    /// <summary>The endpoint override of one region's client: its own, else <see cref="ServiceUrl"/>, else none (the SDK's).</summary>
    public Uri? ServiceUrlFor(string? region) => region is not null && ServiceUrls.TryGetValue(region, out var url) ? url : ServiceUrl;

    /// <summary>
    /// An EC2-compatible endpoint (a loopback test server, LocalStack); null leaves it to the SDK, which also honours
    /// <c>AWS_ENDPOINT_URL</c> and <c>AWS_ENDPOINT_URL_EC2</c>.
    /// </summary>
    public Uri? ServiceUrl { get; init; }

    /// <summary>
    /// Null (the way to run): the SDK's default credential chain (profile, environment, SSO, instance role), resolved when
    /// the backend is first made. Set only by a caller holding its own (tests pass dummy ones to a loopback endpoint).
    /// </summary>
    public AWSCredentials? Credentials { get; init; }

    /// <summary>
    /// The launch template that carries the image, security groups, instance profile and user data: its id (lt-...), or
    /// its name (<see cref="Ec2LaunchTemplates"/>), which several regions need: an id is one region's.
    /// </summary>
    public required string LaunchTemplateId { get; init; }

    /// <summary>
    /// The subnet to launch in for each availability zone a plan may name (us-east-1a -> subnet-...). Given here by a
    /// caller that knows it; with <see cref="Subnets"/> the backend learns it from EC2 when it starts.
    /// </summary>
    public IReadOnlyDictionary<string, string> SubnetsByZone { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// The subnets to launch into (<c>--subnets</c>), one per availability zone: the backend asks EC2 for each one's zone
    /// (DescribeSubnets) when it starts, and the answer replaces <see cref="SubnetsByZone"/>. The first listed also takes
    /// the placements whose zone is the region (on-demand, regional spot): <see cref="Ec2Subnets.ForZone"/>.
    /// </summary>
    public IReadOnlyList<string> Subnets { get; init; } = [];

    /// <summary>
    /// How a placement whose zone is the region is launched: RunInstances into the first subnet listed in the region
    /// (the default), or one instant CreateFleet over every subnet of the region (<see cref="Ec2Fleets"/>), which cannot
    /// carry the agent's user data (<see cref="Ec2LaunchApis.AgentConflict"/>).
    /// </summary>
    public Ec2LaunchApi LaunchApi { get; init; } = Ec2LaunchApi.RunInstances;

    /// <summary>
    /// The SQS queue EventBridge feeds with spot interruption warnings, rebalance recommendations and state changes
    /// (<c>--interruption-queue</c>); null: no queue, notices come from the instances' agents only.
    /// </summary>
    public string? InterruptionQueueUrl { get; init; }

    /// <summary>
    /// The value of the <c>spotwise:managed-by</c> tag: this installation's name. Describe sees only instances carrying it,
    /// and the orphan sweep touches nothing else.
    /// </summary>
    public string ManagedBy { get; init; } = "spotwise";

    /// <summary>DescribeInstances page size (EC2 takes 5 to 1000).</summary>
    public int DescribePageSize { get; init; } = 1000;

    /// <summary>
    /// Retries of throttled (<c>RequestLimitExceeded</c>) and transient EC2 calls: attempts and capped exponential backoff
    /// with jitter, waiting on the service's clock (the SDK's own retries are off). The same formula as the model client's.
    /// </summary>
    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    /// <summary>
    /// An SQS-compatible endpoint (a loopback test server, LocalStack); null leaves it to the SDK, which also honours
    /// <c>AWS_ENDPOINT_URL</c> and <c>AWS_ENDPOINT_URL_SQS</c>.
    /// </summary>
    public Uri? SqsServiceUrl { get; init; }

    /// <summary>How long after RunInstances the job's work starts (boot, image pull): the planner's launch allowance.</summary>
    public TimeSpan LaunchAllowance { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>The orphan sweep's grace and period (<see cref="Cleanup.OrphanSweep"/>).</summary>
    public Cleanup.OrphanSweepOptions OrphanSweep { get; init; } = new();

    /// <summary>
    /// The Spotwise URL the instances reach (<c>https://spotwise.example.com</c>): each launch's user data then runs the
    /// job's command under the agent, which reports to <c>POST {AgentCallbackUrl}/api/attempts/{token}/events</c>. Null:
    /// no user data is sent and the launch template's applies (no agent, no heartbeats, no lost-instance check).
    /// </summary>
    public Uri? AgentCallbackUrl { get; init; }

    /// <summary>
    /// With the agent: an instance whose agent has said nothing for this long (after the launch allowance, for the first
    /// word) is lost; it is reported interrupted and terminated, and the job re-planned. Heartbeats come every 30 s.
    /// </summary>
    public TimeSpan HeartbeatTimeout { get; init; } = TimeSpan.FromMinutes(3);
}
