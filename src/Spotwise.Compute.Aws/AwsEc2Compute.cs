using System.Collections.Concurrent;
using System.Globalization;
using Amazon.EC2;
using Amazon.EC2.Model;
using Spotwise.Core;
using Spotwise.Runtime;
using InstanceState = Spotwise.Runtime.InstanceState;
using InstanceStatus = Spotwise.Runtime.InstanceStatus;

namespace Spotwise.Compute.Aws;

/// <summary>
/// EC2 as a backend: a launch is one RunInstances with the attempt's client token (EC2 makes a retried token the same
/// instance), the instances are whatever DescribeInstances finds under this installation's managed-by tag, and a
/// terminate is TerminateInstances. A pool without capacity answers the launch as an instance that ended at once,
/// refused, the way <c>SimulatedCloud</c> reports "no spot capacity", so the reconciler backs the pool off and re-plans.
/// </summary>
public sealed class AwsEc2Compute(IAmazonEC2 ec2, AwsComputeOptions options, TimeProvider time) : ICompute
{
    /// <summary>
    /// Launches EC2 refused, by client token. EC2 keeps nothing of a refused RunInstances, but the reconciler learns of a
    /// launch's end from Describe on its next tick, and asks again under the same token when Describe does not list it:
    /// without this memory a refused pool would be asked again every tick instead of backing off. A token refused once
    /// stays refused, as in SimulatedCloud; the next attempt has its own token. Kept in memory only: after a restart a
    /// refused token is tried once more.
    /// </summary>
    private readonly ConcurrentDictionary<string, InstanceStatus> _refused = new(StringComparer.Ordinal);

    /// <summary>How long a refusal stays in Describe (EC2 lists a terminated instance for about an hour).</summary>
    public static readonly TimeSpan RefusalMemory = TimeSpan.FromHours(1);

    /// <summary>The zone -> subnet map launches go to: the options', or learnt from EC2 by <see cref="StartAsync"/>.</summary>
    private IReadOnlyDictionary<string, string>? _subnetsByZone = options.Subnets.Count == 0 ? options.SubnetsByZone : null;

    /// <summary>
    /// Learns the zone of each subnet in <see cref="AwsComputeOptions.Subnets"/> (DescribeSubnets), once. The service calls
    /// it at start, so a subnet that does not exist stops the start (<see cref="AwsConfigurationException"/>, naming it);
    /// a launch calls it too. Nothing to do when the options carry the map.
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken) =>
        _subnetsByZone ??= await Ec2Subnets.LearnAsync(ec2, options.Subnets, cancellationToken).ConfigureAwait(false);

    public async Task<InstanceStatus> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var run = RunRequest(request);
        if (_refused.TryGetValue(request.ClientToken, out var refused))
        {
            return refused;
        }
        try
        {
            var response = await ec2.RunInstancesAsync(run, cancellationToken).ConfigureAwait(false);
            var instance = response.Reservation?.Instances?.FirstOrDefault()
                ?? throw new InvalidOperationException($"RunInstances for client token '{request.ClientToken}' returned no instance");
            return Ec2InstanceStatuses.From(instance)
                ?? throw new InvalidOperationException($"instance {instance.InstanceId} came back without Spotwise's tags");
        }
        catch (AmazonEC2Exception e) when (e.ErrorCode is not null && Ec2ErrorCodes.Capacity.Contains(e.ErrorCode))
        {
            return _refused.GetOrAdd(request.ClientToken, Refused(request, e));
        }
    }

    public async Task<IReadOnlyList<InstanceStatus>> DescribeAsync(CancellationToken cancellationToken)
    {
        var statuses = new List<InstanceStatus>();
        string? next = null;
        do
        {
            var page = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest
            {
                Filters = [new Filter($"tag:{Ec2Tags.ManagedBy}", [options.ManagedBy])],
                MaxResults = options.DescribePageSize,
                NextToken = next,
            }, cancellationToken).ConfigureAwait(false);
            statuses.AddRange((page.Reservations ?? []).SelectMany(r => r.Instances ?? []).Select(Ec2InstanceStatuses.From).OfType<InstanceStatus>());
            next = page.NextToken;
        }
        while (!string.IsNullOrEmpty(next));
        return [.. statuses, .. RecentRefusals()];
    }

    public async Task TerminateAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (instanceId.StartsWith(RefusedPrefix, StringComparison.Ordinal))
        {
            return; // Nothing was made.
        }
        try
        {
            await ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [instanceId] }, cancellationToken).ConfigureAwait(false);
        }
        catch (AmazonEC2Exception e) when (Ec2ErrorCodes.IsUnknownInstance(e.ErrorCode))
        {
            // Unknown or malformed id: nothing of ours is running under it (the contract: not an error).
        }
    }

    private List<InstanceStatus> RecentRefusals()
    {
        var horizon = time.GetUtcNow() - RefusalMemory;
        foreach (var old in _refused.Where(r => r.Value.EndedAt < horizon))
        {
            _refused.TryRemove(old);
        }
        return [.. _refused.Values];
    }

    /// <summary>The RunInstances call for one attempt: its type, the planned zone's subnet, the template, its tags.</summary>
    internal RunInstancesRequest RunRequest(LaunchRequest request)
    {
        var byZone = _subnetsByZone ?? throw new InvalidOperationException("the AWS backend has not learnt its subnets' zones yet (StartAsync)");
        var subnet = Ec2Subnets.ForZone(byZone, request.Zone, Region, RegionalSubnet(byZone));
        var tags = new List<Tag>
        {
            new(Ec2Tags.Job, request.JobId),
            new(Ec2Tags.Attempt, request.Attempt.ToString(CultureInfo.InvariantCulture)),
            new(Ec2Tags.Team, request.Team),
            new(Ec2Tags.ManagedBy, options.ManagedBy),
        };
        return new RunInstancesRequest
        {
            MinCount = 1,
            MaxCount = 1,
            ClientToken = Ec2ClientTokens.For(request.ClientToken),
            InstanceType = Amazon.EC2.InstanceType.FindValue(request.InstanceType),
            SubnetId = subnet,
            LaunchTemplate = new LaunchTemplateSpecification { LaunchTemplateId = options.LaunchTemplateId },
            InstanceMarketOptions = request.Market == Market.Spot ? SpotOneTimeTerminate() : null,
            TagSpecifications =
            [
                new TagSpecification { ResourceType = ResourceType.Instance, Tags = tags },
                new TagSpecification { ResourceType = ResourceType.Volume, Tags = [.. tags] },
            ],
        };
    }

    /// <summary>The region launches go to: the options', else the one the SDK resolved for the client.</summary>
    private string? Region => options.Region ?? ec2.Config.RegionEndpoint?.SystemName ?? ec2.Config.AuthenticationRegion;

    /// <summary>Where a placement in the region itself goes: the first subnet listed (<see cref="Ec2Subnets.ForZone"/> says why).</summary>
    private string? RegionalSubnet(IReadOnlyDictionary<string, string> byZone) =>
        options.Subnets.Count > 0 ? options.Subnets[0] : byZone.OrderBy(z => z.Key, StringComparer.Ordinal).Select(z => z.Value).FirstOrDefault();

    /// <summary>A one-time spot request that ends with the instance: an interruption is a terminate, never a stop.</summary>
    private static InstanceMarketOptionsRequest SpotOneTimeTerminate() => new()
    {
        MarketType = MarketType.Spot,
        SpotOptions = new SpotMarketOptions
        {
            SpotInstanceType = SpotInstanceType.OneTime,
            InstanceInterruptionBehavior = InstanceInterruptionBehavior.Terminate,
        },
    };

    /// <summary>
    /// No instance was made: the launch ends at once, interrupted before it ran, with nothing to pay. The id names the
    /// token so a log line finds it; DescribeInstances will not list it (EC2 kept nothing).
    /// </summary>
    private const string RefusedPrefix = "refused:";

    private InstanceStatus Refused(LaunchRequest request, AmazonEC2Exception error)
    {
        var now = time.GetUtcNow();
        return new InstanceStatus(RefusedPrefix + request.ClientToken, request.ClientToken, request.Team, request.JobId, request.Attempt,
            request.Market, request.InstanceType, request.Zone, InstanceState.Interrupted, now, RunningSince: null, EndedAt: now,
            InterruptionNoticeAt: null, PricePerHourUsd: 0, CostSoFarUsd: 0, SavedProgressHours: 0,
            $"no spot capacity: {error.ErrorCode}: {error.Message}");
    }
}
