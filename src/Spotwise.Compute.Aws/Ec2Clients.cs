using Amazon;
using Amazon.EC2;
using Amazon.Runtime;

namespace Spotwise.Compute.Aws;

/// <summary>
/// EC2 clients for callers that are not the backend (the price feed, the CLI): the SDK's default credential chain unless
/// credentials are given, the region given or the SDK's own (<c>AWS_REGION</c>, profile), and the endpoint given or the
/// SDK's own resolution, which honours <c>AWS_ENDPOINT_URL_EC2</c> and <c>AWS_ENDPOINT_URL</c>.
/// </summary>
public static class Ec2Clients
{
    /// <summary>Without credentials the SDK resolves its chain here, and throws naming the providers it tried.</summary>
    public static IAmazonEC2 Create(string? region, Uri? serviceUrl = null, AWSCredentials? credentials = null)
    {
        var config = Configure(new AmazonEC2Config(), region, serviceUrl);
        return credentials is null ? new AmazonEC2Client(config) : new AmazonEC2Client(credentials, config);
    }

    /// <summary>
    /// Region and endpoint where given; otherwise the SDK resolves them (environment, profile). One place for every AWS
    /// client Spotwise makes (EC2 and SQS, the backend's and everyone else's).
    /// </summary>
    public static TConfig Configure<TConfig>(TConfig config, string? region, Uri? serviceUrl)
        where TConfig : ClientConfig
    {
        ArgumentNullException.ThrowIfNull(config);
        if (region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }
        if (serviceUrl is not null)
        {
            config.ServiceURL = serviceUrl.ToString();
            // A custom endpoint still signs for a region; AWS-compatible servers accept any.
            config.AuthenticationRegion = region ?? "us-east-1";
        }
        return config;
    }
}
