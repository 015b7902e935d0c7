using Amazon.Runtime;
using Spotwise.Core;

namespace Spotwise.Compute.Aws.Prices;

/// <summary>What the live price feed watches, where, and how long an answer from EC2 is good for.</summary>
public sealed class AwsPriceFeedOptions
{
    /// <summary>The region whose zones are priced (us-east-1).</summary>
    public required string Region { get; init; }

    /// <summary>
    /// The base catalog: instance types, on-demand prices and interruption bands (the shipped one). The feed replaces the
    /// spot prices of the types it watches with each zone's live price; everything else is the catalog's.
    /// </summary>
    public required Catalog Catalog { get; init; }

    /// <summary>The instance types to watch; null watches every type of <see cref="Catalog"/>.</summary>
    public IReadOnlyCollection<string>? InstanceTypes { get; init; }

    /// <summary>How long a snapshot is served before a refresh is started (in the background; the old one is served meanwhile).</summary>
    public TimeSpan Ttl { get; init; } = DefaultTtl;

    public static readonly TimeSpan DefaultTtl = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How far back before "now" the spot price history is asked. EC2 answers changes, not a series, and adds the last
    /// change before the window; a window of some length keeps the answer useful where an endpoint omits that change.
    /// </summary>
    public TimeSpan Lookback { get; init; } = TimeSpan.FromHours(1);

    /// <summary>An EC2-compatible endpoint; null leaves it to the SDK (<c>AWS_ENDPOINT_URL_EC2</c>, <c>AWS_ENDPOINT_URL</c>, the region's).</summary>
    public Uri? ServiceUrl { get; init; }

    /// <summary>Null (the way to run): the SDK's default credential chain. Tests pass dummy ones to a loopback endpoint.</summary>
    public AWSCredentials? Credentials { get; init; }
}
