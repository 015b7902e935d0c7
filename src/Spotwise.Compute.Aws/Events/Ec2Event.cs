using System.Globalization;
using System.Text.Json;

namespace Spotwise.Compute.Aws.Events;

/// <summary>The EC2 events Spotwise reads from the interruption queue.</summary>
public enum Ec2EventKind
{
    /// <summary>"EC2 Spot Instance Interruption Warning": EC2 takes the instance back in two minutes.</summary>
    InterruptionWarning,

    /// <summary>"EC2 Instance Rebalance Recommendation": the instance is at elevated risk of interruption.</summary>
    RebalanceRecommendation,

    /// <summary>"EC2 Instance State-change Notification": pending, running, shutting-down, terminated, ...</summary>
    StateChange,
}

/// <summary>
/// One EC2 event as EventBridge delivers it: its kind, the instance, the event's time, and for a warning the
/// <c>instance-action</c> (terminate, stop, hibernate), for a state change the new state.
/// </summary>
public sealed record Ec2Event(Ec2EventKind Kind, string InstanceId, DateTimeOffset Time, string? Detail);

/// <summary>
/// What reading one queue message gave: an event, a well-formed event of a kind Spotwise does not read (someone routed
/// more into the queue), or a message that cannot be read at all, with why.
/// </summary>
public sealed record Ec2EventReading(Ec2Event? Event, string? NotRead, string? Malformed)
{
    public static Ec2EventReading Of(Ec2Event e) => new(e, null, null);

    public static Ec2EventReading Other(string why) => new(null, why, null);

    public static Ec2EventReading Bad(string why) => new(null, null, why);
}

/// <summary>
/// Reads the EventBridge envelope of the EC2 events
/// (https://docs.aws.amazon.com/eventbridge/latest/ref/overiew-event-structure.html): <c>detail-type</c>, <c>time</c>
/// and <c>detail</c>, with the detail fields each event documents
/// (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/spot-instance-termination-notices.html,
/// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/rebalance-recommendations.html,
/// https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/monitoring-instance-state-changes.html). An EventBridge rule with
/// an SQS target delivers the event itself as the message body.
/// </summary>
public static class Ec2Events
{
    public const string InterruptionWarning = "EC2 Spot Instance Interruption Warning";
    public const string RebalanceRecommendation = "EC2 Instance Rebalance Recommendation";
    public const string StateChange = "EC2 Instance State-change Notification";

    public static Ec2EventReading Read(string? body)
    {
        try
        {
            using var document = JsonDocument.Parse(body ?? "");
            return Read(document.RootElement);
        }
        catch (JsonException e)
        {
            return Ec2EventReading.Bad($"not JSON: {e.Message}");
        }
    }

    private static Ec2EventReading Read(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return Ec2EventReading.Bad($"the message is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an event object");
        }
        if (Text(root, "detail-type") is not { } detailType)
        {
            return Ec2EventReading.Bad("no 'detail-type' string: not an EventBridge event");
        }
        Ec2EventKind? kind = detailType switch
        {
            InterruptionWarning => Ec2EventKind.InterruptionWarning,
            RebalanceRecommendation => Ec2EventKind.RebalanceRecommendation,
            StateChange => Ec2EventKind.StateChange,
            _ => null,
        };
        if (kind is not { } k)
        {
            return Ec2EventReading.Other($"detail-type '{detailType}' is not one Spotwise reads");
        }
        if (!DateTimeOffset.TryParse(Text(root, "time"), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
        {
            return Ec2EventReading.Bad($"'{detailType}' without a readable 'time' ('{Text(root, "time")}')");
        }
        if (!root.TryGetProperty("detail", out var detail) || detail.ValueKind != JsonValueKind.Object
            || Text(detail, "instance-id") is not { Length: > 0 } instanceId)
        {
            return Ec2EventReading.Bad($"'{detailType}' without 'detail.instance-id'");
        }
        var field = k switch
        {
            Ec2EventKind.InterruptionWarning => "instance-action",
            Ec2EventKind.StateChange => "state",
            _ => null,
        };
        var value = field is null ? null : Text(detail, field);
        if (field is not null && value is null)
        {
            return Ec2EventReading.Bad($"'{detailType}' for {instanceId} without 'detail.{field}'");
        }
        return Ec2EventReading.Of(new Ec2Event(k, instanceId, time, value));
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
