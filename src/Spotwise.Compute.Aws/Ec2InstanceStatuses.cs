using System.Globalization;
using System.Text.RegularExpressions;
using Amazon.EC2.Model;
using Spotwise.Core;
using Spotwise.Runtime;
using InstanceState = Spotwise.Runtime.InstanceState;
using InstanceStatus = Spotwise.Runtime.InstanceStatus;

namespace Spotwise.Compute.Aws;

/// <summary>
/// An EC2 instance as the runtime sees it (<see cref="InstanceStatus"/>). EC2 says what state the machine is in and why
/// it ended (its state reason); whether the job's work succeeded comes from the agent on it (its exit-code tag).
/// </summary>
internal static partial class Ec2InstanceStatuses
{
    /// <summary>The state reason EC2 gives an instance it took back (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StateReason.html).</summary>
    public const string SpotTermination = "Server.SpotInstanceTermination";

    /// <summary>The instance shut itself down: the agent does so when the job's command has exited.</summary>
    public const string InstanceInitiatedShutdown = "Client.InstanceInitiatedShutdown";

    /// <summary>Terminated through the API (by us, or by someone with the permission).</summary>
    public const string UserInitiatedShutdown = "Client.UserInitiatedShutdown";

    /// <summary>Null for an instance without Spotwise's tags (launched by hand into the same account: never ours).</summary>
    public static InstanceStatus? From(Instance instance)
    {
        var tags = (instance.Tags ?? []).Where(t => t.Key is not null).ToDictionary(t => t.Key, t => t.Value ?? "", StringComparer.Ordinal);
        if (!tags.TryGetValue(Ec2Tags.Team, out var team) || !tags.TryGetValue(Ec2Tags.Job, out var jobId)
            || !int.TryParse(tags.GetValueOrDefault(Ec2Tags.Attempt), NumberStyles.None, CultureInfo.InvariantCulture, out var attempt))
        {
            return null;
        }

        var launchedAt = ToOffset(instance.LaunchTime);
        var (state, error) = StateOf(instance, tags);
        var refused = state == InstanceState.Interrupted && instance.StateReason?.Code == "Server.InsufficientInstanceCapacity";
        // EC2 gives no moment of "running"; the launch time is the nearest it says (boot is a minute or two).
        DateTimeOffset? runningSince = state == InstanceState.Pending || refused ? null : launchedAt;
        var ended = state is InstanceState.Succeeded or InstanceState.Failed or InstanceState.Interrupted or InstanceState.Terminated;
        DateTimeOffset? endedAt = ended ? TransitionTime(instance.StateTransitionReason) ?? launchedAt : null;
        var market = instance.InstanceLifecycle?.Value == "spot" ? Market.Spot : Market.OnDemand;

        // Price and progress are not the cloud's to say: the runtime accrues cost from its price feed, and work saved
        // will come from the agent's checkpoint heartbeats.
        // The attempt's token as the reconciler made it (EC2 holds a digest of a long one: Ec2ClientTokens).
        var clientToken = ClientTokens.For(new JobKey(team, jobId), attempt);
        return new InstanceStatus(instance.InstanceId, clientToken, team, jobId, attempt, market,
            instance.InstanceType?.Value ?? "", instance.Placement?.AvailabilityZone ?? "", state, launchedAt, runningSince, endedAt,
            InterruptionNoticeAt: null, PricePerHourUsd: 0, CostSoFarUsd: 0, SavedProgressHours: 0, error);
    }

    private static (InstanceState State, string? Error) StateOf(Instance instance, Dictionary<string, string> tags)
    {
        var reason = instance.StateReason;
        return instance.State?.Name?.Value switch
        {
            "pending" => (InstanceState.Pending, null),
            "running" => (InstanceState.Running, null),
            // Spotwise launches with "terminate" on interruption and never stops an instance: a stop came from outside
            // and the job's work is not running.
            "stopping" or "stopped" => (InstanceState.Failed, $"instance {instance.InstanceId} was stopped outside Spotwise ({reason?.Message})"),
            "shutting-down" or "terminated" => Ended(reason, tags),
            var other => (InstanceState.Failed, $"instance {instance.InstanceId} is in an unknown state '{other}'"),
        };
    }

    private static (InstanceState State, string? Error) Ended(StateReason? reason, Dictionary<string, string> tags) => reason?.Code switch
    {
        SpotTermination => (InstanceState.Interrupted, "spot instance taken back by EC2"),
        "Server.InsufficientInstanceCapacity" => (InstanceState.Interrupted, $"no spot capacity: {reason.Message}"),
        UserInitiatedShutdown or null => (InstanceState.Terminated, null),
        InstanceInitiatedShutdown => ExitCodeOf(tags),
        _ => (InstanceState.Failed, $"{reason.Code}: {reason.Message}"),
    };

    /// <summary>The agent tags the exit code before it shuts the instance down; a shutdown without one counts as done.</summary>
    private static (InstanceState State, string? Error) ExitCodeOf(Dictionary<string, string> tags) =>
        tags.TryGetValue(Ec2Tags.ExitCode, out var code) && code != "0"
            ? (InstanceState.Failed, $"the job's command exited with code {code}")
            : (InstanceState.Succeeded, null);

    private static DateTimeOffset ToOffset(DateTime? time) =>
        time is { } t
            ? new DateTimeOffset(t.Kind == DateTimeKind.Local ? t.ToUniversalTime() : DateTime.SpecifyKind(t, DateTimeKind.Utc))
            : DateTimeOffset.MinValue;

    /// <summary>EC2 says when an instance ended only inside its transition reason: "User initiated (2026-12-01 12:00:00 GMT)".</summary>
    private static DateTimeOffset? TransitionTime(string? reason)
    {
        var match = reason is null ? null : TransitionTimePattern().Match(reason);
        return match is { Success: true } && DateTimeOffset.TryParseExact(match.Groups[1].Value, "yyyy-MM-dd HH:mm:ss",
            CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at)
            ? at
            : null;
    }

    [GeneratedRegex(@"\((\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}) GMT\)")]
    private static partial Regex TransitionTimePattern();
}
