using System.Globalization;
using System.Xml.Linq;

namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// CreateFleet of type instant as the EC2 API reference shows it
/// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateFleet.html, API_CreateFleetInstance.html,
/// API_CreateFleetError.html): <c>LaunchTemplateConfigs.1</c> with a launch template (id or name, and the version the
/// request needs) and <c>Overrides.N</c> (<c>SubnetId</c>, <c>InstanceType</c>), <c>TargetCapacitySpecification</c> of 1,
/// <c>TagSpecification.N</c>. The overrides are tried in the order given (EC2 orders them by its allocation strategy; here
/// every pool is one type at one price): an override whose pool has no capacity (<see cref="RefuseCapacity"/>, per zone and
/// type, spot-only where injected so) or whose type is over quota (<see cref="RefuseQuota"/>) lands in <c>errorSet</c>, and
/// the first with room launches the instance (<c>fleetInstanceSet</c>), tagged and listed by DescribeInstances. ClientToken:
/// the same token and request answer the same fleet (its instance, or its errors); the same token with another request is
/// <c>IdempotentParameterMismatch</c>.
/// </summary>
public sealed partial class FakeEc2Server
{
    private readonly Dictionary<string, FakeFleet> _fleetsByToken = new(StringComparer.Ordinal);

    /// <summary>Every instant fleet asked for, in order (a test reads what was sent).</summary>
    public int FleetCount
    {
        get
        {
            lock (_lock)
            {
                return _fleets.Count;
            }
        }
    }

    private readonly List<FakeFleet> _fleets = [];

    private sealed record FleetOverride(string Subnet, string Zone, string InstanceType);

    private sealed record FakeFleet(string Id, string Fingerprint, string TemplateKey, string Template, string Version, bool Spot,
        FakeEc2Instance? Instance, FleetOverride? LaunchedBy, List<(FleetOverride Override, string Code, string Message)> Errors);

    private XElement CreateFleet(Dictionary<string, string> q)
    {
        if (Required(q, "Type") != "instant")
        {
            throw new Ec2Error(400, "InvalidParameterValue", "this fake makes fleets of type instant only");
        }
        if (Required(q, "TargetCapacitySpecification.TotalTargetCapacity") != "1")
        {
            throw new Ec2Error(400, "InvalidParameterValue", "this fake launches one instance per fleet");
        }
        var spot = Required(q, "TargetCapacitySpecification.DefaultTargetCapacityType") switch
        {
            "spot" => true,
            "on-demand" => false,
            var other => throw new Ec2Error(400, "InvalidParameterValue", $"Invalid value '{other}' for DefaultTargetCapacityType"),
        };
        const string Config = "LaunchTemplateConfigs.1.";
        var templateKey = q.ContainsKey(Config + "LaunchTemplateSpecification.LaunchTemplateName") ? "LaunchTemplateName" : "LaunchTemplateId";
        var template = Required(q, $"{Config}LaunchTemplateSpecification.{templateKey}");
        var version = Required(q, Config + "LaunchTemplateSpecification.Version");
        var overrides = Overrides(q, Config);
        var token = q.GetValueOrDefault("ClientToken");
        var fingerprint = string.Join("&", q.Where(p => p.Key != "Version").OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key}={p.Value}"));
        if (token is not null && _fleetsByToken.TryGetValue(token, out var existing))
        {
            return existing.Fingerprint == fingerprint
                ? FleetResponse(existing)
                : throw new Ec2Error(400, "IdempotentParameterMismatch", $"The client token '{token}' has already been used with a different request.");
        }

        var errors = new List<(FleetOverride, string, string)>();
        FakeEc2Instance? instance = null;
        FleetOverride? launchedBy = null;
        foreach (var pool in overrides)
        {
            if (_quotaByType.TryGetValue(pool.InstanceType, out var quota))
            {
                errors.Add((pool, quota, $"You have requested more vCPU capacity than your current vCPU limit allows for {pool.InstanceType}."));
                continue;
            }
            if (_capacityErrors.TryGetValue((pool.Zone, pool.InstanceType), out var refusal) && (!refusal.SpotOnly || spot))
            {
                errors.Add((pool, refusal.Code, $"We currently do not have sufficient {pool.InstanceType} capacity in the Availability Zone you requested ({pool.Zone})."));
                continue;
            }
            instance = Launch(token ?? "", fingerprint, pool.InstanceType, pool.Zone, pool.Subnet, spot, InstanceTags(q));
            launchedBy = pool;
            break;
        }
        var fleet = new FakeFleet(string.Create(CultureInfo.InvariantCulture, $"fleet-{_idBase + _fleets.Count + 1:x8}-0000-4000-8000-000000000000"),
            fingerprint, templateKey, template, version, spot, instance, launchedBy, errors);
        _fleets.Add(fleet);
        if (token is not null)
        {
            _fleetsByToken.Add(token, fleet);
        }
        return FleetResponse(fleet);
    }

    private List<FleetOverride> Overrides(Dictionary<string, string> q, string config)
    {
        var overrides = new List<FleetOverride>();
        for (var n = 1; q.TryGetValue($"{config}Overrides.{n}.SubnetId", out var subnet); n++)
        {
            var type = Required(q, $"{config}Overrides.{n}.InstanceType");
            if (!_zoneBySubnet.TryGetValue(subnet, out var zone))
            {
                throw new Ec2Error(400, "InvalidSubnetID.NotFound", $"The subnet ID '{subnet}' does not exist");
            }
            overrides.Add(new FleetOverride(subnet, zone, type));
        }
        return overrides.Count > 0 ? overrides : throw new Ec2Error(400, "MissingParameter", "this fake needs an override per subnet (Overrides.N.SubnetId)");
    }

    private static XElement FleetResponse(FakeFleet fleet)
    {
        var lifecycle = fleet.Spot ? "spot" : "on-demand";
        var response = new XElement(Ns + "CreateFleetResponse",
            new XElement(Ns + "requestId", Guid.NewGuid()),
            new XElement(Ns + "fleetId", fleet.Id),
            new XElement(Ns + "errorSet", fleet.Errors.Select(e => new XElement(Ns + "item",
                TemplateAndOverrides(fleet, e.Override),
                new XElement(Ns + "lifecycle", lifecycle),
                new XElement(Ns + "errorCode", e.Code),
                new XElement(Ns + "errorMessage", e.Message)))));
        var launched = new XElement(Ns + "fleetInstanceSet");
        if (fleet.Instance is { } instance)
        {
            launched.Add(new XElement(Ns + "item",
                TemplateAndOverrides(fleet, fleet.LaunchedBy!),
                new XElement(Ns + "lifecycle", lifecycle),
                new XElement(Ns + "instanceIds", new XElement(Ns + "item", instance.Id)),
                new XElement(Ns + "instanceType", instance.InstanceType)));
        }
        response.Add(launched);
        return response;
    }

    private static XElement TemplateAndOverrides(FakeFleet fleet, FleetOverride pool) => new(Ns + "launchTemplateAndOverrides",
        new XElement(Ns + "launchTemplateSpecification",
            new XElement(Ns + (fleet.TemplateKey == "LaunchTemplateName" ? "launchTemplateName" : "launchTemplateId"), fleet.Template),
            new XElement(Ns + "version", fleet.Version)),
        new XElement(Ns + "overrides",
            new XElement(Ns + "instanceType", pool.InstanceType),
            new XElement(Ns + "subnetId", pool.Subnet),
            new XElement(Ns + "availabilityZone", pool.Zone)));
}
