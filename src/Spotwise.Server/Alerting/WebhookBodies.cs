using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spotwise.Runtime.Alerting;

namespace Spotwise.Server.Alerting;

/// <summary>
/// An alert as a webhook receives it. Plain JSON: <c>{"kind","severity","team","jobId","message","at", ...figures}</c>,
/// the figures beside the fixed fields under their own names. Slack (an incoming webhook's format, which Mattermost and
/// Discord's Slack-compatible endpoints take too): <c>{"text", "blocks"}</c>, the text for notifications, the blocks for
/// the channel.
/// </summary>
public static class WebhookBodies
{
    public static byte[] For(string format, Alert alert) =>
        Encoding.UTF8.GetBytes((format == WebhookOptions.Slack ? Slack(alert) : Plain(alert)).ToJsonString());

    public static JsonObject Plain(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var body = new JsonObject
        {
            ["kind"] = alert.Kind,
            ["severity"] = alert.Severity,
            ["team"] = alert.Team,
            ["jobId"] = alert.JobId,
            ["message"] = alert.Message,
            ["at"] = alert.At,
        };
        foreach (var (name, value) in alert.Figures)
        {
            body[name] = JsonSerializer.SerializeToNode(value, value.GetType());
        }
        return body;
    }

    public static JsonObject Slack(Alert alert)
    {
        ArgumentNullException.ThrowIfNull(alert);
        var heading = $"{(alert.Severity == AlertSeverities.Critical ? ":red_circle:" : ":warning:")} *{Escape(Title(alert.Kind))}*"
            + (alert.Team is null ? "" : $" · team `{Escape(alert.Team)}`") + (alert.JobId is null ? "" : $" · job `{Escape(alert.JobId)}`");
        var figures = string.Join(" · ", alert.Figures.Select(f => $"{f.Key}: {Escape(Text(f.Value))}"));
        var blocks = new JsonArray
        {
            new JsonObject { ["type"] = "section", ["text"] = Mrkdwn($"{heading}\n{Escape(alert.Message)}") },
        };
        if (figures.Length > 0)
        {
            blocks.Add(new JsonObject { ["type"] = "context", ["elements"] = new JsonArray { Mrkdwn(figures) } });
        }
        return new JsonObject { ["text"] = $"[{alert.Severity}] {Title(alert.Kind)}: {alert.Message}", ["blocks"] = blocks };
    }

    private static JsonObject Mrkdwn(string text) => new() { ["type"] = "mrkdwn", ["text"] = text };

    /// <summary><c>deadlineAtRisk</c> as <c>Deadline at risk</c>.</summary>
    private static string Title(string kind)
    {
        var words = JsonNamingPolicy.SnakeCaseLower.ConvertName(kind).Replace('_', ' ');
        return char.ToUpperInvariant(words[0]) + words[1..];
    }

    private static string Text(object value) => value switch
    {
        DateTimeOffset at => at.ToString("u", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>Slack's three control characters in text (api.slack.com/reference/surfaces/formatting#escaping).</summary>
    private static string Escape(string text) => text.Replace("&", "&amp;", StringComparison.Ordinal)
        .Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal);
}
