using System.Globalization;
using System.Xml.Linq;

namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// DescribeSubnets over the subnets the server was started with (subnet -> zone), as the EC2 API reference shows it
/// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSubnets.html): <c>SubnetId.N</c> asks for those
/// subnets (one EC2 does not know fails the whole call with <c>InvalidSubnetID.NotFound</c>, naming it); the filter
/// <c>subnet-id</c> lists those of the given ids this region holds and never fails on the others; an answer of
/// <c>subnetSet</c> items with each subnet's <c>availabilityZone</c>.
/// </summary>
public sealed partial class FakeEc2Server
{
    private XElement DescribeSubnets(Dictionary<string, string> q)
    {
        var asked = Indexed(q, "SubnetId.");
        var missing = asked.FirstOrDefault(id => !_zoneBySubnet.ContainsKey(id));
        if (missing is not null)
        {
            throw new Ec2Error(400, "InvalidSubnetID.NotFound", $"The subnet ID '{missing}' does not exist");
        }
        var subnets = asked.Count > 0 ? asked : [.. _zoneBySubnet.Keys];
        foreach (var (_, values) in Filters(q, name => name == "subnet-id"))
        {
            subnets = [.. subnets.Where(values.Contains)];
        }
        return new XElement(Ns + "DescribeSubnetsResponse",
            new XElement(Ns + "requestId", Guid.NewGuid()),
            new XElement(Ns + "subnetSet", subnets.Select((id, n) => Subnet(id, _zoneBySubnet[id], n))));
    }

    private static XElement Subnet(string id, string zone, int n) => new(Ns + "item",
        new XElement(Ns + "subnetId", id),
        new XElement(Ns + "subnetArn", $"arn:aws:ec2:{zone[..^1]}:123456789012:subnet/{id}"),
        new XElement(Ns + "state", "available"),
        new XElement(Ns + "ownerId", "123456789012"),
        new XElement(Ns + "vpcId", "vpc-0123456789abcdef0"),
        new XElement(Ns + "cidrBlock", string.Create(CultureInfo.InvariantCulture, $"10.0.{n}.0/24")),
        new XElement(Ns + "availableIpAddressCount", 251),
        new XElement(Ns + "availabilityZone", zone),
        new XElement(Ns + "defaultForAz", false),
        new XElement(Ns + "mapPublicIpOnLaunch", false));
}
