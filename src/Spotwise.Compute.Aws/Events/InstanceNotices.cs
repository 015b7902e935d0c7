using System.Collections.Concurrent;

namespace Spotwise.Compute.Aws.Events;

/// <summary>What the interruption queue said of one instance: when it was warned, when rebalancing was recommended, its last state.</summary>
public sealed record InstanceNotice(string InstanceId)
{
    /// <summary>The interruption warning's event time: EC2 takes the instance back two minutes later.</summary>
    public DateTimeOffset? InterruptionNoticeAt { get; init; }

    /// <summary>What EC2 will do at the interruption: terminate (Spotwise launches one-time spot with terminate), stop, hibernate.</summary>
    public string? InstanceAction { get; init; }

    public DateTimeOffset? RebalanceRecommendedAt { get; init; }

    public string? LastState { get; init; }

    public DateTimeOffset? LastStateAt { get; init; }

    /// <summary>When the queue last said anything of the instance (for forgetting).</summary>
    public DateTimeOffset HeardAt { get; init; }
}

/// <summary>
/// What the interruption queue has said of this installation's instances, by instance id, in memory: the consumer
/// writes, <see cref="AwsEc2Compute.DescribeAsync"/> reads. It also holds which instances are ours (the backend tells
/// it every id it launches or lists), so the consumer can drop events of other instances in the account. Thread-safe.
/// A restart forgets it; a warning still in the queue (deleted only once recorded) is read again, and the agent on the
/// instance reports the same warning from the instance metadata.
/// </summary>
public sealed class InstanceNotices
{
    /// <summary>How long an instance nothing was heard of is remembered (EC2 lists an ended instance for about an hour).</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(6);

    private readonly ConcurrentDictionary<string, InstanceNotice> _notices = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _ours = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _listed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes once the backend has listed its instances: until then an event for an instance launched before a restart
    /// would be taken for another's, so the consumer reads nothing before.
    /// </summary>
    public Task Listed => _listed.Task;

    /// <summary>The backend launched <paramref name="instanceId"/>.</summary>
    public void Launched(string instanceId, DateTimeOffset at) => _ours[instanceId] = at;

    /// <summary>The backend listed these instances (every page of a DescribeInstances): all of them are ours.</summary>
    public void Seen(IEnumerable<string> instanceIds, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(instanceIds);
        foreach (var id in instanceIds)
        {
            _ours[id] = at;
        }
        Forget(at - Retention);
        _listed.TrySetResult();
    }

    public bool IsOurs(string instanceId) => _ours.ContainsKey(instanceId);

    public InstanceNotice? Find(string instanceId) => _notices.GetValueOrDefault(instanceId);

    /// <summary>
    /// Records what an event says. A warning keeps its first time (EventBridge delivers at least once); a state keeps the
    /// latest by event time (deliveries are not ordered).
    /// </summary>
    public InstanceNotice Record(Ec2Event e, DateTimeOffset heardAt)
    {
        ArgumentNullException.ThrowIfNull(e);
        return _notices.AddOrUpdate(e.InstanceId, id => Apply(new InstanceNotice(id), e, heardAt), (_, known) => Apply(known, e, heardAt));
    }

    private static InstanceNotice Apply(InstanceNotice known, Ec2Event e, DateTimeOffset heardAt) => e.Kind switch
    {
        Ec2EventKind.InterruptionWarning => known with
        {
            InterruptionNoticeAt = Earliest(known.InterruptionNoticeAt, e.Time),
            InstanceAction = known.InstanceAction ?? e.Detail,
            HeardAt = heardAt,
        },
        Ec2EventKind.RebalanceRecommendation => known with { RebalanceRecommendedAt = Earliest(known.RebalanceRecommendedAt, e.Time), HeardAt = heardAt },
        _ when known.LastStateAt > e.Time => known with { HeardAt = heardAt },
        _ => known with { LastState = e.Detail, LastStateAt = e.Time, HeardAt = heardAt },
    };

    private static DateTimeOffset Earliest(DateTimeOffset? known, DateTimeOffset time) => known is { } k && k < time ? k : time;

    private void Forget(DateTimeOffset before)
    {
        foreach (var old in _ours.Where(o => o.Value < before))
        {
            _ours.TryRemove(old);
        }
        foreach (var old in _notices.Where(n => n.Value.HeardAt < before))
        {
            _notices.TryRemove(old);
        }
    }
}
