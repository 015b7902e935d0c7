using System.Net;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Compute.Aws;

/// <summary>
/// A placement whose zone is the region, launched as one CreateFleet of type instant
/// (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateFleet.html): target capacity 1 on the placement's
/// market, one override per subnet of the region, so EC2 launches in whichever pool has room instead of asking the first
/// subnet's zone again after every refusal. The fleet answers with the instances it launched (<c>fleetInstanceSet</c>) and
/// an error per override it could not fill (<c>errorSet</c>); no instance is read as the error that says most, thrown so
/// that <see cref="Ec2Calls"/> and the launch classify it as they classify RunInstances' errors (<see cref="Ec2ErrorCodes"/>).
/// </summary>
internal static class Ec2Fleets
{
    /// <summary>
    /// The request: the same template, client token and tags as RunInstances would send, the region's subnets as overrides
    /// in the order given (a function of the request alone, so a retried token repeats it: EC2 answers the same fleet).
    /// </summary>
    public static CreateFleetRequest Request(LaunchRequest request, string template, IReadOnlyList<string> subnets, List<Tag> tags)
    {
        var spot = request.Market == Market.Spot;
        var type = Amazon.EC2.InstanceType.FindValue(request.InstanceType);
        return new CreateFleetRequest
        {
            Type = FleetType.Instant,
            ClientToken = Ec2ClientTokens.For(request.ClientToken),
            TargetCapacitySpecification = new TargetCapacitySpecificationRequest
            {
                TotalTargetCapacity = 1,
                DefaultTargetCapacityType = spot ? DefaultTargetCapacityType.Spot : DefaultTargetCapacityType.OnDemand,
            },
            // On-demand: every pool is one type at one regional price, so lowest-price simply takes one with room. Spot:
            // AWS's advice for price and interruption risk together; a spot instance of a fleet ends with terminate.
            OnDemandOptions = spot ? null : new OnDemandOptionsRequest { AllocationStrategy = FleetOnDemandAllocationStrategy.LowestPrice },
            SpotOptions = spot
                ? new SpotOptionsRequest
                {
                    AllocationStrategy = SpotAllocationStrategy.PriceCapacityOptimized,
                    InstanceInterruptionBehavior = SpotInstanceInterruptionBehavior.Terminate,
                }
                : null,
            LaunchTemplateConfigs =
            [
                new FleetLaunchTemplateConfigRequest
                {
                    LaunchTemplateSpecification = Ec2LaunchTemplates.ForFleet(template),
                    Overrides = [.. subnets.Select(subnet => new FleetLaunchTemplateOverridesRequest { SubnetId = subnet, InstanceType = type })],
                },
            ],
            // An instant fleet tags its instances (and, as RunInstances does, their volumes) from the call itself.
            TagSpecifications =
            [
                new TagSpecification { ResourceType = ResourceType.Instance, Tags = tags },
                new TagSpecification { ResourceType = ResourceType.Volume, Tags = [.. tags] },
            ],
        };
    }

    /// <summary>
    /// The instance the fleet launched, as RunInstances would have returned it: in the zone of the override's subnet,
    /// pending, with the request's tags (the fleet answers ids, not instances; DescribeInstances says the rest later).
    /// </summary>
    /// <exception cref="AmazonEC2Exception">No instance: the error that says most (<see cref="Refusal"/>).</exception>
    public static Instance Launched(CreateFleetResponse response, CreateFleetRequest request, IReadOnlyDictionary<string, string> zoneOfSubnet,
        DateTimeOffset now)
    {
        var launched = (response.Instances ?? []).FirstOrDefault(i => i.InstanceIds is { Count: > 0 });
        if (launched is null)
        {
            throw Refusal(response.Errors ?? [], request.ClientToken);
        }
        var subnet = launched.LaunchTemplateAndOverrides?.Overrides?.SubnetId;
        var zone = subnet is not null && zoneOfSubnet.TryGetValue(subnet, out var z) ? z : launched.LaunchTemplateAndOverrides?.Overrides?.AvailabilityZone;
        return new Instance
        {
            InstanceId = launched.InstanceIds[0],
            InstanceType = launched.InstanceType ?? request.LaunchTemplateConfigs[0].Overrides[0].InstanceType,
            Placement = new Amazon.EC2.Model.Placement { AvailabilityZone = zone },
            SubnetId = subnet,
            State = new Amazon.EC2.Model.InstanceState { Name = InstanceStateName.Pending, Code = 0 },
            LaunchTime = now.UtcDateTime,
            InstanceLifecycle = launched.Lifecycle == InstanceLifecycle.Spot ? InstanceLifecycleType.Spot : null,
            ClientToken = request.ClientToken,
            Tags = request.TagSpecifications[0].Tags,
        };
    }

    /// <summary>
    /// A fleet that launched nothing, as the one EC2 error that says most about why: a missing permission or refused
    /// credentials (nothing will launch until they change), then a quota (the runtime learns it), then any other error,
    /// then throttling (asked again), and capacity last (every pool it tried was full). The message lists every override's
    /// error, so the refusal names each subnet EC2 tried.
    /// </summary>
    public static AmazonEC2Exception Refusal(IReadOnlyList<CreateFleetError> errors, string clientToken)
    {
        if (errors.Count == 0)
        {
            return new AmazonEC2Exception($"CreateFleet for client token '{clientToken}' launched no instance and gave no error",
                ErrorType.Receiver, "InternalError", null, HttpStatusCode.InternalServerError);
        }
        var code = errors.Select(e => e.ErrorCode ?? "").MinBy(Rank)!;
        var message = string.Join("; ", errors.Select(e =>
            $"{e.LaunchTemplateAndOverrides?.Overrides?.SubnetId ?? "?"}: {e.ErrorCode}: {e.ErrorMessage}"));
        return new AmazonEC2Exception(message, ErrorType.Sender, code, null, StatusOf(code));
    }

    private static int Rank(string code) =>
        code == Ec2ErrorCodes.UnauthorizedOperation || Ec2ErrorCodes.Credentials.Contains(code) || Ec2ErrorCodes.Account.Contains(code) ? 0
        : Ec2ErrorCodes.Quota.Contains(code) ? 1
        : Ec2ErrorCodes.Capacity.Contains(code) ? 4
        : Ec2ErrorCodes.Transient.Contains(code) ? 3
        : 2;

    /// <summary>The HTTP status EC2 gives the code as a call's error (errors-overview.html), which the classification reads.</summary>
    private static HttpStatusCode StatusOf(string code) =>
        Ec2ErrorCodes.Capacity.Contains(code) ? HttpStatusCode.InternalServerError
        : Ec2ErrorCodes.Transient.Contains(code) ? HttpStatusCode.ServiceUnavailable
        : code == Ec2ErrorCodes.UnauthorizedOperation ? HttpStatusCode.Forbidden
        : Ec2ErrorCodes.Credentials.Contains(code) ? HttpStatusCode.Unauthorized
        : HttpStatusCode.BadRequest;
}
