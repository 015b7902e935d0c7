using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Spotwise.Core.Serialization;
using Spotwise.Runtime.Attempts;

namespace Spotwise.Server;

/// <summary>
/// An agent's event body, read as strictly as a job: strict JSON (<see cref="StrictJson"/>), known fields only, each
/// checked; every problem keyed by its field, as ValidationProblem's map.
/// <c>{"event": "started|heartbeat|notice|exited", "at"?, "progressHours"?, "exitCode"?, "instanceId"?}</c>.
/// </summary>
public static partial class AttemptEventInput
{
    private static readonly string[] Fields = ["event", "at", "progressHours", "exitCode", "instanceId"];

    private static readonly Dictionary<string, AttemptEventKind> Kinds = new(StringComparer.Ordinal)
    {
        ["started"] = AttemptEventKind.Started,
        ["heartbeat"] = AttemptEventKind.Heartbeat,
        ["notice"] = AttemptEventKind.Notice,
        ["exited"] = AttemptEventKind.Exited,
    };

    /// <summary>The event received at <paramref name="now"/>, or the problems, by field (the whole body: <c>$</c>).</summary>
    public static (AttemptEvent? Event, Dictionary<string, string[]> Errors) Read(byte[] body, DateTimeOffset now)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        using var document = StrictJson.Parse(body, out var syntax);
        if (document is null || document.RootElement.ValueKind != JsonValueKind.Object)
        {
            errors[JobsFile.WholeDocument] = [syntax?.Message ?? "the body must be a JSON object: {\"event\": \"started|heartbeat|notice|exited\", ...}"];
            return (null, errors);
        }
        var root = document.RootElement;
        foreach (var unknown in root.EnumerateObject().Select(p => p.Name).Where(n => !Fields.Contains(n, StringComparer.Ordinal)))
        {
            errors[unknown] = [$"unknown field; an event has {string.Join(", ", Fields)}"];
        }
        var kind = Kind(root, errors);
        var e = new AttemptEvent(kind ?? AttemptEventKind.Heartbeat, now,
            At(root, errors), ProgressHours(root, errors), ExitCode(root, kind, errors), InstanceId(root, errors));
        return errors.Count == 0 ? (e, errors) : (null, errors);
    }

    private static AttemptEventKind? Kind(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty("event", out var value))
        {
            errors["event"] = ["is required: started, heartbeat, notice or exited"];
            return null;
        }
        if (value.ValueKind == JsonValueKind.String && Kinds.TryGetValue(value.GetString()!, out var kind))
        {
            return kind;
        }
        errors["event"] = [$"{Shown(value)} is not an event; use started, heartbeat, notice or exited"];
        return null;
    }

    private static DateTimeOffset? At(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty("at", out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.String && value.GetString() is { } text && WithOffset().IsMatch(text)
            && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
        {
            return at;
        }
        errors["at"] = [$"{Shown(value)} is not an ISO 8601 time with an offset (2026-12-01T12:00:00Z)"];
        return null;
    }

    private static double? ProgressHours(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty("progressHours", out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var hours) && double.IsFinite(hours) && hours is >= 0 and <= JobBounds.MaxDurationHours)
        {
            return hours;
        }
        errors["progressHours"] = [FormattableString.Invariant($"{Shown(value)} is not a number of hours in [0, {JobBounds.MaxDurationHours}]")];
        return null;
    }

    private static int? ExitCode(JsonElement root, AttemptEventKind? kind, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty("exitCode", out var value))
        {
            if (kind == AttemptEventKind.Exited)
            {
                errors["exitCode"] = ["is required with event exited: the command's exit code, 0 to 255"];
            }
            return null;
        }
        if (kind is not (AttemptEventKind.Exited or null))
        {
            errors["exitCode"] = ["belongs to event exited only"];
            return null;
        }
        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var code) && code is >= 0 and <= 255)
        {
            return code;
        }
        errors["exitCode"] = [$"{Shown(value)} is not an exit code; use an integer 0 to 255"];
        return null;
    }

    private static string? InstanceId(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (!root.TryGetProperty("instanceId", out var value))
        {
            return null;
        }
        if (value.ValueKind == JsonValueKind.String && value.GetString() is { } id && InstanceIdPattern().IsMatch(id))
        {
            return id;
        }
        errors["instanceId"] = [$"{Shown(value)} is not an EC2 instance id (i- and 8 or 17 hex digits)"];
        return null;
    }

    /// <summary>A value as the message shows it: short, and never more than the first 64 characters of what was sent.</summary>
    private static string Shown(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.Length > 64 ? raw[..64] + "..." : raw;
    }

    [GeneratedRegex("^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$")]
    private static partial Regex InstanceIdPattern();

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?(Z|[+-][0-9]{2}:[0-9]{2})$")]
    private static partial Regex WithOffset();
}
