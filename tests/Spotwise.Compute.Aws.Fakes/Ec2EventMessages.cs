using System.Globalization;
using System.Text.Json.Nodes;

namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// EC2 events as EventBridge delivers them to an SQS target (the event itself is the message body), field for field as
/// the EC2 User Guide shows them:
/// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html (interruption warning),
/// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/rebalance-recommendations.html (rebalance recommendation),
/// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html (state change).
/// </summary>
public static class Ec2EventMessages
{
    public const string Region = "us-east-1";

    /// <summary>"EC2 Spot Instance Interruption Warning" with <c>instance-action</c> terminate (or stop, hibernate).</summary>
    public static string InterruptionWarning(string instanceId, DateTimeOffset time, string action = "terminate") =>
        Event("EC2 Spot Instance Interruption Warning", instanceId, time, new JsonObject { ["instance-id"] = instanceId, ["instance-action"] = action });

    public static string RebalanceRecommendation(string instanceId, DateTimeOffset time) =>
        Event("EC2 Instance Rebalance Recommendation", instanceId, time, new JsonObject { ["instance-id"] = instanceId });

    public static string StateChange(string instanceId, DateTimeOffset time, string state) =>
        Event("EC2 Instance State-change Notification", instanceId, time, new JsonObject { ["instance-id"] = instanceId, ["state"] = state });

    private static string Event(string detailType, string instanceId, DateTimeOffset time, JsonObject detail) => new JsonObject
    {
        ["version"] = "0",
        ["id"] = Guid.NewGuid().ToString(),
        ["detail-type"] = detailType,
        ["source"] = "aws.ec2",
        ["account"] = FakeSqsServer.AccountId,
        ["time"] = time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
        ["region"] = Region,
        ["resources"] = new JsonArray($"arn:aws:ec2:{Region}:{FakeSqsServer.AccountId}:instance/{instanceId}"),
        ["detail"] = detail,
    }.ToJsonString();
}
