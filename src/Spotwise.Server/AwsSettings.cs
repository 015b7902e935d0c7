using System.Globalization;
using Amazon.Runtime;
using Spotwise.Compute.Aws;
using Spotwise.Compute.Aws.Prices;
using Spotwise.Core;

namespace Spotwise.Server;

/// <summary>
/// The <c>Spotwise:Aws</c> section: where the <c>aws</c> backend launches (<c>spotwise serve --backend aws</c>'s flags
/// <c>--region</c>, <c>--launch-template</c>, <c>--subnets</c>, <c>--interruption-queue</c>, <c>--managed-by</c>,
/// <c>--launch-api</c>) and
/// what its live prices watch. The one reader of the section: the backend's options and the price feeds' come from here.
/// Credentials are never here: the AWS SDK's default chain finds them (profile, environment, SSO, instance role).
/// </summary>
public sealed class AwsSettings
{
    /// <summary>The region (us-east-1); unset: the SDK's own (AWS_REGION, AWS_DEFAULT_REGION, the profile's).</summary>
    public string? Region { get; set; }

    /// <summary>
    /// Several regions in one service (<c>--region a --region b</c>; <c>Spotwise:Aws:Regions:0</c>, <c>:1</c>, ...), the home
    /// region first (<see cref="Region"/>, when set, is home and need not be repeated); empty: <see cref="Region"/> alone.
    /// </summary>
    public List<string> Regions { get; set; } = [];

    /// <summary>An EC2-compatible endpoint per region (<c>Spotwise:Aws:ServiceUrls:us-west-2</c>); a region not here takes <see cref="ServiceUrl"/>.</summary>
    public Dictionary<string, string> ServiceUrls { get; set; } = new(StringComparer.Ordinal);

    /// <summary>The instance types the live price feed watches, a comma list; unset: every catalog type.</summary>
    public string? PriceTypes { get; set; }

    /// <summary>How long live spot prices are kept before EC2 is asked again (a time span; unset: 00:05:00).</summary>
    public string? PriceTtl { get; set; }

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

    /// <summary>
    /// How a placement in the region itself is launched: <c>run-instances</c> (unset: the first subnet listed in the region)
    /// or <c>create-fleet</c> (one instant fleet over every subnet of the region; not with <see cref="AgentCallbackUrl"/>).
    /// </summary>
    public string? LaunchApi { get; set; }

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

    /// <summary>The home region: <see cref="Region"/>, else the first of <see cref="Regions"/>, else the SDK's (environment, profile); null when none says.</summary>
    public string? ResolvedRegion() =>
        Region is { Length: > 0 } region ? region
        : Regions.FirstOrDefault(r => r.Length > 0) ?? FallbackRegionFactory.GetRegionEndpoint()?.SystemName;

    /// <summary>Every region the service launches in and prices, home first, each once; empty when no region is known.</summary>
    public IReadOnlyList<string> AllRegions() => ResolvedRegion() is { } home
        ? [home, .. Regions.Where(r => r.Length > 0 && r != home).Distinct(StringComparer.Ordinal)]
        : [];

    private Uri? ServiceUrlFor(string region) => ServiceUrls.GetValueOrDefault(region) is { Length: > 0 } own ? new Uri(own)
        : ServiceUrl is { Length: > 0 } url ? new Uri(url) : null;

    /// <summary>
    /// One region's live price feed: <paramref name="catalog"/> is that region's; a bad <see cref="PriceTypes"/> or
    /// <see cref="PriceTtl"/> throws naming its key.
    /// </summary>
    public AwsPriceFeedOptions PriceFeedOptions(Catalog catalog, AWSCredentials? credentials)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        return new AwsPriceFeedOptions
        {
            Region = catalog.Region,
            Catalog = catalog,
            InstanceTypes = Types(catalog),
            Ttl = Ttl(),
            ServiceUrl = ServiceUrlFor(catalog.Region),
            Credentials = credentials,
        };
    }

    private const string At = SpotwiseOptions.Section + ":Aws:";

    private string[]? Types(Catalog catalog)
    {
        if (string.IsNullOrWhiteSpace(PriceTypes))
        {
            return null;
        }
        var types = PriceTypes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = types.Where(t => catalog.Find(t) is null).ToList();
        return unknown.Count == 0
            ? types
            : throw new InvalidOperationException($"{At}PriceTypes names {string.Join(", ", unknown.Select(t => $"'{t}'"))}, not in the catalog");
    }

    private TimeSpan Ttl() =>
        PriceTtl is null ? AwsPriceFeedOptions.DefaultTtl
        : TimeSpan.TryParse(PriceTtl, CultureInfo.InvariantCulture, out var ttl) && ttl > TimeSpan.Zero ? ttl
        : throw new InvalidOperationException($"{At}PriceTtl is '{PriceTtl}'; give a time span greater than zero, such as 00:05:00");

    /// <summary>
    /// The backend's options. <paramref name="credentials"/>: null in the product (the SDK's chain); a test registers its
    /// own <see cref="AWSCredentials"/> service for a loopback endpoint. <paramref name="inUse"/>: the service runs on
    /// <c>aws</c>; otherwise the SDK is not asked for a region (it may ask the instance metadata endpoint, which takes
    /// seconds off EC2), as nothing AWS is made.
    /// </summary>
    public AwsComputeOptions ToComputeOptions(AWSCredentials? credentials, bool inUse) => new()
    {
        Region = inUse ? ResolvedRegion() : Region,
        Regions = inUse && AllRegions() is { Count: > 1 } all ? all : [],
        ServiceUrl = ServiceUrl is { Length: > 0 } url ? new Uri(url) : null,
        ServiceUrls = ServiceUrls.Where(u => IsHttpUrl(u.Value)).ToDictionary(u => u.Key, u => new Uri(u.Value), StringComparer.Ordinal),
        SqsServiceUrl = SqsServiceUrl is { Length: > 0 } sqs ? new Uri(sqs) : null,
        Credentials = credentials,
        LaunchTemplateId = LaunchTemplate ?? "",
        Subnets = SubnetIds,
        InterruptionQueueUrl = InterruptionQueueUrl is { Length: > 0 } queue ? queue : null,
        AgentCallbackUrl = AgentCallbackUrl is { Length: > 0 } agent ? new Uri(agent) : null,
        ManagedBy = ManagedBy,
        LaunchApi = Ec2LaunchApis.TryParse(LaunchApi ?? Ec2LaunchApis.RunInstancesName, out var api) ? api : Ec2LaunchApi.RunInstances,
    };

    /// <summary>What is wrong with the section for the <c>aws</c> backend, one line per problem naming the setting.</summary>
    public IEnumerable<string> Problems()
    {
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
        if (AllRegions().Count > 1 && LaunchTemplate is { } template && Ec2LaunchTemplates.IsId(template))
        {
            yield return $"{At}LaunchTemplate is '{template}', one region's template id; with several regions give the template's name, created under that name in each region";
        }
        if (LaunchApi is not null && !Ec2LaunchApis.TryParse(LaunchApi, out _))
        {
            yield return $"{At}LaunchApi is '{LaunchApi}'; give {Ec2LaunchApis.Names}";
        }
        else if (LaunchApi == Ec2LaunchApis.CreateFleetName && AgentCallbackUrl is { Length: > 0 })
        {
            yield return $"{At}LaunchApi is '{LaunchApi}' and AgentCallbackUrl is set: {Ec2LaunchApis.AgentConflict}";
        }
        if (Regions.Any(string.IsNullOrWhiteSpace))
        {
            yield return $"{At}Regions has an empty entry; name each region (us-east-1)";
        }
        var urls = new[] { ("ServiceUrl", ServiceUrl), ("SqsServiceUrl", SqsServiceUrl), ("InterruptionQueueUrl", InterruptionQueueUrl), ("AgentCallbackUrl", AgentCallbackUrl) }
            .Concat(ServiceUrls.Select(u => ($"ServiceUrls:{u.Key}", (string?)u.Value)));
        foreach (var (name, value) in urls)
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
