using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using Amazon.EC2;
using Amazon.EC2.Model;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Compute.Aws.Events;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Attempts;
using Spotwise.Runtime.Backends;
using InstanceState = Spotwise.Runtime.InstanceState;
using InstanceStatus = Spotwise.Runtime.InstanceStatus;

namespace Spotwise.Compute.Aws;

/// <summary>
/// EC2 as a backend: a launch is one RunInstances with the attempt's client token (EC2 makes a retried token the same
/// instance), or for a placement in the region itself with <see cref="Ec2LaunchApi.CreateFleet"/>, one instant fleet
/// over the region's subnets (<see cref="Ec2Fleets"/>), the instances are whatever DescribeInstances finds under this installation's managed-by tag, and a
/// terminate is TerminateInstances. A pool without capacity answers the launch as an instance that ended at once,
/// refused, the way <c>SimulatedCloud</c> reports "no spot capacity", so the reconciler backs the pool off and re-plans;
/// a quota reached is refused the same way, naming the quota, and the runtime learns it. Every call is retried on
/// throttling and reports what keeps it from acting to <see cref="BackendHealth"/> (<see cref="Ec2Calls"/>).
/// With <see cref="AwsComputeOptions.AgentCallbackUrl"/> set, each instance runs the job's command under the agent
/// (<see cref="Ec2UserData"/>), signed with its attempt's secret (<c>secrets</c>), and what the agents report
/// (<c>reports</c>) completes what EC2 says (<see cref="AgentWatch"/>).
/// </summary>
/// <remarks>
/// With <c>notices</c> (the interruption queue's record), Describe reports each instance's interruption
/// warning as <see cref="InstanceStatus.InterruptionNoticeAt"/>, and every id launched or listed is marked as ours for
/// the queue's consumer.
/// </remarks>
public sealed partial class AwsEc2Compute : ICompute
{
    private readonly AwsComputeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Ec2Regions _regions;
    private readonly InstanceNotices? _notices;
    private readonly AttemptSecrets? _secrets;
    private readonly AgentWatch? _agents;
    private long _mismatches;

    /// <summary>The backend on a client already made, for one region (tests: the loopback endpoint).</summary>
    public AwsEc2Compute(IAmazonEC2 ec2, AwsComputeOptions options, TimeProvider time, ILogger? logger = null, BackendHealth? health = null,
        InstanceNotices? notices = null, AttemptReports? reports = null, AttemptSecrets? secrets = null)
        : this(() => ec2, options, time, logger, health, notices: notices, reports: reports, secrets: secrets)
    {
    }

    /// <summary>The backend of one region on a client made at its first call (the constructor below).</summary>
    public AwsEc2Compute(Func<IAmazonEC2> createClient, AwsComputeOptions options, TimeProvider time, ILogger? logger = null,
        BackendHealth? health = null, IMeterFactory? meters = null, Random? random = null, InstanceNotices? notices = null,
        AttemptReports? reports = null, AttemptSecrets? secrets = null)
        : this(_ => createClient(), options, time, logger, health, meters, random, notices, reports, secrets)
    {
    }

    /// <summary>
    /// The backend on a client per region (<see cref="AwsComputeOptions.LaunchRegions"/>), each made at its first call
    /// (<paramref name="clientFor"/>: the SDK resolves credentials then; without any, the backend's health says so and the
    /// call is tried again next time).
    /// </summary>
    /// <param name="clientFor">Makes a region's EC2 client (<see cref="AwsComputeRegistration.CreateClient(AwsComputeOptions, string?)"/>).</param>
    /// <param name="options">Region, template, subnets, retries.</param>
    /// <param name="time">The service's clock: retries wait on it.</param>
    /// <param name="logger">Where retries, mismatches and missing permissions are logged.</param>
    /// <param name="health">The service's backend health: missing permissions and credentials are written there.</param>
    /// <param name="meters">The service's meter factory: the mismatch count goes to <c>/metrics</c>.</param>
    /// <param name="random">The jitter's randomness (tests fix it).</param>
    /// <param name="notices">The interruption queue's record: warnings become <see cref="InstanceStatus.InterruptionNoticeAt"/>.</param>
    /// <param name="reports">What the agents said (the service's endpoint writes it); needed with an agent callback URL.</param>
    /// <param name="secrets">The attempts' secrets, passed to each agent in its user data; needed with an agent callback URL.</param>
    public AwsEc2Compute(Func<string?, IAmazonEC2> clientFor, AwsComputeOptions options, TimeProvider time, ILogger? logger = null,
        BackendHealth? health = null, IMeterFactory? meters = null, Random? random = null, InstanceNotices? notices = null,
        AttemptReports? reports = null, AttemptSecrets? secrets = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        _notices = notices;
        _secrets = secrets;
        if (options.LaunchApi == Ec2LaunchApi.CreateFleet && options.AgentCallbackUrl is not null)
        {
            throw new ArgumentException(Ec2LaunchApis.AgentConflict, nameof(options));
        }
        _agents = options.AgentCallbackUrl is null ? null
            : reports is null || secrets is null
                ? throw new ArgumentException("AgentCallbackUrl is set, so the backend needs the service's AttemptReports and AttemptSecrets", nameof(reports))
                : new AgentWatch(reports, options.HeartbeatTimeout, options.LaunchAllowance);
        _options = options;
        _subnetsByZone = options.Subnets.Count == 0 ? options.SubnetsByZone : null;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
        var jitter = random ?? Random.Shared;
        _regions = new Ec2Regions(options.LaunchRegions, region => new Ec2Calls(() => clientFor(region), options.Retry, time, _logger, health, jitter));
        meters?.Create(RuntimeCounters.MeterName).CreateObservableCounter("spotwise.aws.idempotent_parameter_mismatches", () => Mismatches,
            "{mismatch}", "EC2 launches refused with IdempotentParameterMismatch since start: a client token reused for another request (a bug).");
    }

    /// <summary>Launches EC2 refused with IdempotentParameterMismatch since start: each one is a bug.</summary>
    public long Mismatches => Interlocked.Read(ref _mismatches);

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
    private IReadOnlyDictionary<string, string>? _subnetsByZone;

    /// <summary>Each learnt subnet zone's region (several regions); a zone not here is the home region's.</summary>
    private Dictionary<string, string> _regionOfZone = new(StringComparer.Ordinal);

    /// <summary>
    /// Learns the zone of each subnet in <see cref="AwsComputeOptions.Subnets"/> (DescribeSubnets), once. The service calls
    /// it at start, so a subnet that does not exist stops the start (<see cref="AwsConfigurationException"/>, naming it);
    /// a launch calls it too. Nothing to do when the options carry the map. With several regions each is asked which of
    /// the subnets it holds (<see cref="Ec2Subnets.ZonesInRegionAsync"/>).
    /// </summary>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_subnetsByZone is not null)
        {
            return;
        }
        if (_regions.Count == 1)
        {
            _subnetsByZone = await _regions.In(_regions.Home).SendAsync("DescribeSubnets", (ec2, ct) => Ec2Subnets.LearnAsync(ec2, _options.Subnets, ct),
                cancellationToken).ConfigureAwait(false);
            return;
        }
        var zoneOf = new Dictionary<string, string>(StringComparer.Ordinal);
        var regionOfZone = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (region, calls) in _regions.All)
        {
            var held = await calls.SendAsync("DescribeSubnets", (ec2, ct) => Ec2Subnets.ZonesInRegionAsync(ec2, _options.Subnets, ct), cancellationToken)
                .ConfigureAwait(false);
            foreach (var (subnet, zone) in held)
            {
                zoneOf[subnet] = zone;
                regionOfZone[zone] = region!;
            }
        }
        var byZone = Ec2Subnets.ByZone(_options.Subnets, zoneOf, $" in {string.Join(", ", _regions.Names)}");
        _regionOfZone = regionOfZone;
        _subnetsByZone = byZone;
    }

    /// <summary>
    /// The region a placement's zone is in: a subnet's zone is in the region that listed the subnet; a region is its own
    /// zone (on-demand and regional spot placements); anything else is the home region's (its launch is refused naming the zone).
    /// </summary>
    private string? RegionOf(string zone) =>
        _regionOfZone.TryGetValue(zone, out var region) ? region
        : _regions.Names.Contains(zone, StringComparer.Ordinal) ? zone
        : _regions.Home;

    public async Task<InstanceStatus> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var launch = LaunchCall(request);
        var region = RegionOf(request.Zone);
        var calls = _regions.In(region);
        if (_refused.TryGetValue(request.ClientToken, out var refused))
        {
            return refused;
        }
        try
        {
            var instance = await calls.SendAsync(launch.Action, launch.SendAsync, cancellationToken).ConfigureAwait(false);
            _regions.Remember(instance.InstanceId, region);
            _notices?.Launched(instance.InstanceId, _time.GetUtcNow());
            return Ec2InstanceStatuses.From(instance)
                ?? throw new InvalidOperationException($"instance {instance.InstanceId} came back without Spotwise's tags");
        }
        catch (AmazonEC2Exception e) when (e.ErrorCode is not null && Ec2ErrorCodes.Capacity.Contains(e.ErrorCode))
        {
            return _refused.GetOrAdd(request.ClientToken, Refused(request, e, RefusalKind.Capacity, "no spot capacity"));
        }
        catch (AmazonEC2Exception e) when (e.ErrorCode is not null && Ec2ErrorCodes.Quota.Contains(e.ErrorCode))
        {
            return _refused.GetOrAdd(request.ClientToken, Refused(request, e, RefusalKind.Quota, "quota reached"));
        }
        catch (AmazonEC2Exception e) when (e.ErrorCode == Ec2ErrorCodes.IdempotentParameterMismatch)
        {
            // A bug: this token was sent before with another request. The job waits (the loop goes on); a human looks.
            Interlocked.Increment(ref _mismatches);
            var theirs = await HeldUnderAsync(calls, launch.Ec2Token, cancellationToken).ConfigureAwait(false);
            LogMismatch(e, request.ClientToken, launch.Ec2Token, launch.Description, theirs);
            throw;
        }
    }

    /// <summary>
    /// One launch as EC2 is asked for it: the call's name (for retries, logs and the permission it needs), the client
    /// token sent, the request in one line (for a mismatch's log) and the call returning the instance made.
    /// </summary>
    private sealed record Ec2Launch(string Action, string Ec2Token, string Description, Func<IAmazonEC2, CancellationToken, Task<Instance>> SendAsync);

    /// <summary>
    /// RunInstances into the placement's subnet; with <see cref="Ec2LaunchApi.CreateFleet"/>, a placement whose zone is the
    /// region is one instant fleet over every subnet of the region (<see cref="Ec2Fleets"/>).
    /// </summary>
    private Ec2Launch LaunchCall(LaunchRequest request)
    {
        if (_options.LaunchApi == Ec2LaunchApi.CreateFleet && FleetSubnets(request) is { Count: > 0 } subnets)
        {
            var fleet = Ec2Fleets.Request(request, _options.LaunchTemplateId, subnets, Tags(request));
            var zoneOf = _subnetsByZone!.ToDictionary(z => z.Value, z => z.Key, StringComparer.Ordinal);
            return new Ec2Launch("CreateFleet", fleet.ClientToken, Ec2Requests.Describe(fleet),
                async (ec2, ct) => Ec2Fleets.Launched(await ec2.CreateFleetAsync(fleet, ct).ConfigureAwait(false), fleet, zoneOf, _time.GetUtcNow()));
        }
        var run = RunRequest(request);
        return new Ec2Launch("RunInstances", run.ClientToken, Ec2Requests.Describe(run), async (ec2, ct) =>
            (await ec2.RunInstancesAsync(run, ct).ConfigureAwait(false)).Reservation?.Instances?.FirstOrDefault()
            ?? throw new InvalidOperationException($"RunInstances for client token '{request.ClientToken}' returned no instance"));
    }

    /// <summary>The subnets an instant fleet tries for a placement whose zone is the region, in the order listed; none for a zone's placement.</summary>
    private List<string> FleetSubnets(LaunchRequest request)
    {
        var byZone = _subnetsByZone ?? throw new InvalidOperationException("the AWS backend has not learnt its subnets' zones yet (StartAsync)");
        var region = RegionOf(request.Zone);
        return byZone.ContainsKey(request.Zone) || !string.Equals(request.Zone, region, StringComparison.Ordinal) ? [] : RegionalSubnets(byZone, region);
    }

    /// <summary>What EC2 holds under a client token, for the mismatch's log line; "unknown" when it cannot say.</summary>
    private static async Task<string> HeldUnderAsync(Ec2Calls calls, string ec2Token, CancellationToken cancellationToken)
    {
        try
        {
            var found = await calls.SendAsync("DescribeInstances", (ec2, ct) => ec2.DescribeInstancesAsync(new DescribeInstancesRequest
            {
                Filters = [new Filter("client-token", [ec2Token])],
            }, ct), cancellationToken).ConfigureAwait(false);
            var instance = (found.Reservations ?? []).SelectMany(r => r.Instances ?? []).FirstOrDefault();
            return instance is null ? "unknown (no instance listed under the token)" : Ec2Requests.Describe(instance);
        }
        catch (Exception e) when (e is AmazonEC2Exception or BackendUnavailableException)
        {
            return $"unknown ({e.Message})";
        }
    }

    public async Task<IReadOnlyList<InstanceStatus>> DescribeAsync(CancellationToken cancellationToken)
    {
        var statuses = new List<InstanceStatus>();
        foreach (var (region, calls) in _regions.All)
        {
            var found = await DescribeInAsync(calls, cancellationToken).ConfigureAwait(false);
            foreach (var status in found)
            {
                _regions.Remember(status.InstanceId, region);
            }
            statuses.AddRange(found);
        }
        _notices?.Seen(statuses.Select(s => s.InstanceId), _time.GetUtcNow());
        var noticed = statuses.Select(WithNotice).ToList();
        var judged = _agents is null ? noticed : await JudgedAsync(_agents, noticed, cancellationToken).ConfigureAwait(false);
        return [.. judged, .. RecentRefusals()];
    }

    /// <summary>One region's instances of this installation, paged.</summary>
    private async Task<List<InstanceStatus>> DescribeInAsync(Ec2Calls calls, CancellationToken cancellationToken)
    {
        var statuses = new List<InstanceStatus>();
        string? next = null;
        do
        {
            var request = new DescribeInstancesRequest
            {
                Filters = [new Filter($"tag:{Ec2Tags.ManagedBy}", [_options.ManagedBy])],
                MaxResults = _options.DescribePageSize,
                NextToken = next,
            };
            var page = await calls.SendAsync("DescribeInstances", (ec2, ct) => ec2.DescribeInstancesAsync(request, ct), cancellationToken).ConfigureAwait(false);
            statuses.AddRange((page.Reservations ?? []).SelectMany(r => r.Instances ?? []).Select(Ec2InstanceStatuses.From).OfType<InstanceStatus>());
            next = page.NextToken;
        }
        while (!string.IsNullOrEmpty(next));
        return statuses;
    }

    /// <summary>The statuses as the agents' reports complete them; an instance whose agent fell silent is terminated.</summary>
    private async Task<List<InstanceStatus>> JudgedAsync(AgentWatch agents, List<InstanceStatus> statuses, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var verdicts = statuses.Select(s => agents.Judge(s, now)).ToList();
        foreach (var ended in verdicts.Where(v => v.Terminate))
        {
            await TerminateAsync(ended.Status.InstanceId, cancellationToken).ConfigureAwait(false);
        }
        return [.. verdicts.Select(v => v.Status)];
    }

    /// <summary>The interruption warning the queue recorded for the instance, if any.</summary>
    private InstanceStatus WithNotice(InstanceStatus status) =>
        _notices?.Find(status.InstanceId)?.InterruptionNoticeAt is { } at ? status with { InterruptionNoticeAt = at } : status;

    public async Task TerminateAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (instanceId.StartsWith(RefusedPrefix, StringComparison.Ordinal))
        {
            return; // Nothing was made.
        }
        foreach (var calls in _regions.Holding(instanceId))
        {
            try
            {
                await calls.SendAsync("TerminateInstances",
                    (ec2, ct) => ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [instanceId] }, ct), cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (AmazonEC2Exception e) when (Ec2ErrorCodes.IsUnknownInstance(e.ErrorCode))
            {
                // Unknown or malformed id in this region: nothing of ours is running under it here (the contract: not an error).
            }
        }
    }

    private List<InstanceStatus> RecentRefusals()
    {
        var horizon = _time.GetUtcNow() - RefusalMemory;
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
        var region = RegionOf(request.Zone);
        var subnet = Ec2Subnets.ForZone(byZone, request.Zone, region, RegionalSubnets(byZone, region).FirstOrDefault());
        var tags = Tags(request);
        return new RunInstancesRequest
        {
            MinCount = 1,
            MaxCount = 1,
            ClientToken = Ec2ClientTokens.For(request.ClientToken),
            InstanceType = Amazon.EC2.InstanceType.FindValue(request.InstanceType),
            SubnetId = subnet,
            LaunchTemplate = Ec2LaunchTemplates.For(_options.LaunchTemplateId),
            // The agent ends an attempt with `shutdown -h now`: that must end the instance (and its bill), not stop it.
            InstanceInitiatedShutdownBehavior = ShutdownBehavior.Terminate,
            UserData = _options.AgentCallbackUrl is { } callback ? Ec2UserData.Build(request, callback, _secrets!.For(request.ClientToken)) : null,
            InstanceMarketOptions = request.Market == Market.Spot ? SpotOneTimeTerminate() : null,
            TagSpecifications =
            [
                new TagSpecification { ResourceType = ResourceType.Instance, Tags = tags },
                new TagSpecification { ResourceType = ResourceType.Volume, Tags = [.. tags] },
            ],
        };
    }

    /// <summary>Spotwise's tags, on the instance and its volumes: whose attempt it is, and which installation's.</summary>
    private List<Tag> Tags(LaunchRequest request) =>
    [
        new(Ec2Tags.Job, request.JobId),
        new(Ec2Tags.Attempt, request.Attempt.ToString(CultureInfo.InvariantCulture)),
        new(Ec2Tags.Team, request.Team),
        new(Ec2Tags.ManagedBy, _options.ManagedBy),
    ];

    /// <summary>
    /// The subnets of <paramref name="region"/> in the order listed: RunInstances takes the first for a placement in the
    /// region itself (<see cref="Ec2Subnets.ForZone"/> says why), an instant fleet tries them all. One region: every subnet.
    /// </summary>
    private List<string> RegionalSubnets(IReadOnlyDictionary<string, string> byZone, string? region)
    {
        var listed = _options.Subnets.Count > 0 ? _options.Subnets : [.. byZone.OrderBy(z => z.Key, StringComparer.Ordinal).Select(z => z.Value)];
        return [.. listed.Where(subnet => string.Equals(RegionOf(ZoneOf(byZone, subnet)), region, StringComparison.Ordinal))];
    }

    private static string ZoneOf(IReadOnlyDictionary<string, string> byZone, string subnet) => byZone.First(z => z.Value == subnet).Key;

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

    private InstanceStatus Refused(LaunchRequest request, AmazonEC2Exception error, RefusalKind kind, string what)
    {
        var now = _time.GetUtcNow();
        return new InstanceStatus(RefusedPrefix + request.ClientToken, request.ClientToken, request.Team, request.JobId, request.Attempt,
            request.Market, request.InstanceType, request.Zone, InstanceState.Interrupted, now, RunningSince: null, EndedAt: now,
            InterruptionNoticeAt: null, PricePerHourUsd: 0, CostSoFarUsd: 0, SavedProgressHours: 0,
            $"{what}: {error.ErrorCode}: {error.Message}")
        {
            Refusal = new LaunchRefusal(kind, error.ErrorCode),
        };
    }

    [LoggerMessage(Level = LogLevel.Critical, Message = "BUG: EC2 refused client token {ClientToken} (sent as {Ec2Token}) with IdempotentParameterMismatch: " +
        "the token was used before for another request. The job waits; cancel it or find who reused the token. This request: {Ours}. EC2 holds: {Theirs}")]
    private partial void LogMismatch(Exception exception, string clientToken, string ec2Token, string ours, string theirs);
}
