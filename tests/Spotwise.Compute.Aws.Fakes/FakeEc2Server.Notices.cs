namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// Spot interruptions with their two-minute warning, as EC2 gives them
/// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html): the warning goes to
/// EventBridge, here straight to the SQS queue a rule would target, and the instance is taken back
/// (Server.SpotInstanceTermination) two minutes later on the test's clock.
/// </summary>
public sealed partial class FakeEc2Server
{
    /// <summary>How long after its warning a spot instance is taken back.</summary>
    public static readonly TimeSpan InterruptionNoticeLead = TimeSpan.FromMinutes(2);

    private (FakeSqsServer Sqs, string QueueUrl)? _eventTarget;

    /// <summary>Where the EventBridge rule sends this account's EC2 events.</summary>
    public void SendEventsTo(FakeSqsServer sqs, string queueUrl) => _eventTarget = (sqs, queueUrl);

    /// <summary>Warns now (to the event target, if any) and takes the spot instance back two minutes later.</summary>
    public void InterruptWithNotice(string instanceId)
    {
        DateTimeOffset now;
        lock (_lock)
        {
            now = _time.GetUtcNow();
            _instances.Single(i => i.Id == instanceId).Interrupt(now + InterruptionNoticeLead);
        }
        if (_eventTarget is { } target)
        {
            target.Sqs.Send(target.QueueUrl, Ec2EventMessages.InterruptionWarning(instanceId, now));
        }
    }
}
