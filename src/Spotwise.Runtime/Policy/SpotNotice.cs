namespace Spotwise.Runtime.Policy;

/// <summary>
/// A spot instance under an interruption notice (<see cref="InstanceStatus.InterruptionNoticeAt"/>): EC2 warns two minutes
/// before it takes the capacity back (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html),
/// and the simulated cloud does the same. The runtime treats such an attempt as ending: the policy's next move is made
/// now, while the instance keeps its last minutes to checkpoint, and the cloud reclaims it.
/// </summary>
public static class SpotNotice
{
    /// <summary>How long after its notice a spot instance is taken back (EC2's two-minute warning).</summary>
    public static readonly TimeSpan Lead = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long past <see cref="Lead"/> the runtime waits for the cloud before it terminates a noticed instance of an
    /// earlier attempt itself: EC2 says "approximately" two minutes, and an instance left up only costs money.
    /// </summary>
    public static readonly TimeSpan Grace = TimeSpan.FromMinutes(1);

    /// <summary>Whether <paramref name="instance"/> is a live spot instance that has been told it will be taken back.</summary>
    public static bool IsUnder(InstanceStatus instance, DateTimeOffset now) =>
        !instance.IsEnded && instance.Market == Core.Market.Spot && instance.InterruptionNoticeAt <= now;

    /// <summary>The moment the cloud takes a noticed instance back.</summary>
    public static DateTimeOffset ReclaimAt(InstanceStatus instance) =>
        (instance.InterruptionNoticeAt ?? throw new ArgumentException($"instance {instance.InstanceId} has no notice", nameof(instance))) + Lead;

    /// <summary>Whether the cloud is late taking a noticed instance back (past the lead and the grace).</summary>
    public static bool IsOverdue(InstanceStatus instance, DateTimeOffset now) =>
        instance.InterruptionNoticeAt is { } at && at + Lead + Grace <= now;
}
