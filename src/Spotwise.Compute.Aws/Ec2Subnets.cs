using Amazon.EC2;
using Amazon.EC2.Model;

namespace Spotwise.Compute.Aws;

/// <summary>
/// Where a launch goes: the subnet of the planned zone. Users name subnets (<c>--subnets</c>); EC2 says which zone each is
/// in (DescribeSubnets, https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSubnets.html).
/// </summary>
public static class Ec2Subnets
{
    /// <summary>The setting a subnet error is about (<c>--subnets</c>, <c>Spotwise:Aws:Subnets</c>).</summary>
    public const string SubnetsSetting = "subnets";

    /// <summary>
    /// Each subnet's availability zone, as zone -> subnet in the order given. A subnet EC2 does not know (or two in one
    /// zone: the backend launches into one subnet per zone) is a configuration error naming it.
    /// </summary>
    /// <exception cref="AwsConfigurationException">A subnet does not exist or shares its zone (other EC2 errors pass: throttling is retried, auth is the backend's health).</exception>
    public static async Task<IReadOnlyDictionary<string, string>> LearnAsync(IAmazonEC2 ec2, IReadOnlyList<string> subnetIds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(subnetIds);
        try
        {
            var zoneOf = await ZonesAsync(ec2, () => new DescribeSubnetsRequest { SubnetIds = [.. subnetIds] }, cancellationToken).ConfigureAwait(false);
            return ByZone(subnetIds, zoneOf, "");
        }
        catch (AmazonEC2Exception e) when (e.ErrorCode is not null && e.ErrorCode.StartsWith("InvalidSubnetID.", StringComparison.Ordinal))
        {
            // EC2's message names the subnet: "The subnet ID 'subnet-0abc' does not exist".
            throw new AwsConfigurationException(SubnetsSetting, $"{e.Message} ({e.ErrorCode}); the subnets given: {string.Join(",", subnetIds)}", e);
        }
    }

    /// <summary>
    /// Subnet -> zone for those of <paramref name="subnetIds"/> that are in the client's region, for a backend of several
    /// regions. A subnet id belongs to exactly one region, and the ids are given without theirs: each region is asked with
    /// the <c>subnet-id</c> filter, which lists the ones it holds and, unlike <c>SubnetId.N</c>, does not fail on the others.
    /// </summary>
    public static Task<Dictionary<string, string>> ZonesInRegionAsync(IAmazonEC2 ec2, IReadOnlyList<string> subnetIds, CancellationToken cancellationToken) =>
        ZonesAsync(ec2, () => new DescribeSubnetsRequest { Filters = [new Filter("subnet-id", [.. subnetIds])] }, cancellationToken);

    private static async Task<Dictionary<string, string>> ZonesAsync(IAmazonEC2 ec2, Func<DescribeSubnetsRequest> request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ec2);
        var zoneOf = new Dictionary<string, string>(StringComparer.Ordinal);
        string? next = null;
        do
        {
            var ask = request();
            ask.NextToken = next;
            var page = await ec2.DescribeSubnetsAsync(ask, cancellationToken).ConfigureAwait(false);
            foreach (var subnet in page.Subnets ?? [])
            {
                zoneOf[subnet.SubnetId] = subnet.AvailabilityZone;
            }
            next = page.NextToken;
        }
        while (!string.IsNullOrEmpty(next));
        return zoneOf;
    }

    /// <summary>
    /// Zone -> subnet in the order given. A subnet no answer listed, or two in one zone, is a configuration error naming it.
    /// <paramref name="where"/> says where EC2 was asked (" in us-east-1, us-west-2"; empty for one region).
    /// </summary>
    /// <exception cref="AwsConfigurationException">A subnet not listed, or two subnets in one zone.</exception>
    public static Dictionary<string, string> ByZone(IReadOnlyList<string> subnetIds, IReadOnlyDictionary<string, string> zoneOf, string where)
    {
        var byZone = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var id in subnetIds)
        {
            if (!zoneOf.TryGetValue(id, out var zone))
            {
                throw new AwsConfigurationException(SubnetsSetting, $"subnet '{id}' does not exist{where} (DescribeSubnets did not list it)");
            }
            if (!byZone.TryAdd(zone, id))
            {
                throw new AwsConfigurationException(SubnetsSetting, $"'{byZone[zone]}' and '{id}' are both in {zone}; give one subnet per availability zone");
            }
        }
        return byZone;
    }

    /// <summary>
    /// The subnet a launch in <paramref name="zone"/> goes to. A placement whose zone is the region (on-demand, or spot
    /// where the feed knows no zones) may run in any zone; it goes to <paramref name="regional"/>, the first subnet the
    /// user listed: the choice must be a function of the request alone, because EC2 answers a retried client token with
    /// the same instance only when every parameter is the same (a rotating choice would be IdempotentParameterMismatch),
    /// and the first is the one the user put first.
    /// </summary>
    /// <exception cref="ArgumentException">A zone of another region or without a subnet; the message names it and the zones known.</exception>
    public static string ForZone(IReadOnlyDictionary<string, string> byZone, string zone, string? region, string? regional)
    {
        ArgumentNullException.ThrowIfNull(byZone);
        if (byZone.TryGetValue(zone, out var subnet))
        {
            return subnet;
        }
        if (regional is not null && string.Equals(zone, region, StringComparison.Ordinal))
        {
            return regional;
        }
        throw new ArgumentException(
            $"zone '{zone}' has no subnet in the AWS backend's SubnetsByZone ({string.Join(", ", byZone.Keys)})", nameof(zone));
    }
}

/// <summary>
/// The AWS backend cannot run as configured (a subnet that does not exist, EC2 refusing to describe it): the start stops.
/// <see cref="Setting"/> names what to fix (<c>subnets</c>: the CLI says <c>--subnets</c>).
/// </summary>
public sealed class AwsConfigurationException : Exception
{
    public AwsConfigurationException()
    {
    }

    public AwsConfigurationException(string message) : base(message)
    {
    }

    public AwsConfigurationException(string message, Exception innerException) : base(message, innerException)
    {
    }

    public AwsConfigurationException(string setting, string message, Exception? innerException = null) : base(message, innerException) =>
        Setting = setting;

    /// <summary>The setting at fault, lower case as the flag spells it (<c>subnets</c>); null when none is.</summary>
    public string? Setting { get; }
}
