using System.Collections.Immutable;
using System.Text;

namespace Spotwise.Server.Tests.Intake;

/// <summary>How the jobs sit in a request body: one object, a JSON array, or <c>{"jobs": [...]}</c>.</summary>
public enum BodyShape
{
    OneObject,
    Array,
    Wrapped,
}

/// <summary>One member of a JSON object as written on the wire: the quoted name and the raw value text.</summary>
public sealed record Member(string RawName, string Json)
{
    public static Member Of(string name, string json) => new(JsonText.Quote(name), json);

    public bool Is(string name) => RawName == JsonText.Quote(name);
}

/// <summary>What an accepted job must read back as; times are minutes after the server's clock.</summary>
public sealed record ExpectedJob(string Id, double DurationHours, int? Priority, int? EarliestMinutes, int? DeadlineMinutes);

/// <summary>A drafted job: its members in wire order and what it must read back as if accepted.</summary>
public sealed record JobDraft(ImmutableList<Member> Members, ExpectedJob Expected)
{
    public string Id => Expected.Id;

    public bool Has(string name) => Members.Any(m => m.Is(name));

    /// <summary>Replaces the member (in place) or appends it.</summary>
    public JobDraft With(string name, string json)
    {
        var i = Members.FindIndex(m => m.Is(name));
        return this with { Members = i >= 0 ? Members.SetItem(i, Member.Of(name, json)) : Members.Add(Member.Of(name, json)) };
    }

    public JobDraft Without(string name) => this with { Members = Members.RemoveAll(m => m.Is(name)) };

    public JobDraft Renamed(string from, string to) => this with { Members = [.. Members.Select(m => m.Is(from) ? Member.Of(to, m.Json) : m)] };

    public string Render() => "{" + string.Join(",", Members.Select(m => m.RawName + ":" + m.Json)) + "}";
}

/// <summary>What the server must answer to a body.</summary>
public enum Verdict
{
    /// <summary>Every job is created: 201 for one object, 200 with every outcome <c>created</c> for a batch.</summary>
    Accepted,

    /// <summary>A 400 ValidationProblem with at least one error key under one of the expected paths.</summary>
    Refused,

    /// <summary>The contract does not say; any 2xx or 400 is fine, and what is stored must hold every bound.</summary>
    Either,
}

/// <summary>
/// A request body as drafted: the team's key, the shape, the jobs, and the edits a mutation makes to the text. Ids are
/// written with the <see cref="IdPrefix"/> placeholder, replaced when sent so each body's ids are new.
/// </summary>
public sealed record BodyDraft(string Key, string Team, BodyShape Shape, ImmutableList<JobDraft> Jobs)
{
    /// <summary>Stands for a fixed-width per-request counter (<see cref="PrefixWidth"/> characters) in every id.</summary>
    public const string IdPrefix = "@P@";

    public const int PrefixWidth = 7;

    /// <summary>Stands for raw bytes that are spliced into the UTF-8 body after encoding (<see cref="SplicedBytes"/>).</summary>
    public const string SpliceMarker = "@BAD@";

    public Verdict Verdict { get; init; } = Verdict.Accepted;

    public int ExpectedStatus { get; init; } = 200;

    /// <summary>Error paths the refusal must name at least one of (a path also covers its sub-paths); empty = any.</summary>
    public ImmutableArray<string> ExpectedKeys { get; init; } = [];

    /// <summary>A text one of the messages under an expected key must hold (a suggestion, a quoted value).</summary>
    public string? MessageContains { get; init; }

    public string Description { get; init; } = "valid";

    public string ContentType { get; init; } = "application/json";

    public int EditJob { get; init; }

    public Func<string, string>? ObjectEdit { get; init; }

    public Func<string, string>? BodyEdit { get; init; }

    /// <summary>The whole body, when a mutation replaces it.</summary>
    public string? WholeBody { get; init; }

    public byte[] SplicedBytes { get; init; } = [];

    /// <summary>The error path of a job's field: <c>jobs[i].field</c> in a batch, <c>field</c> for one object.</summary>
    public string PathOf(int job, string field) => Shape == BodyShape.OneObject ? field : $"jobs[{job}].{field}";

    /// <summary>The error path covering everything in a job: <c>jobs[i]</c>, or any key for one object.</summary>
    public string PathOfJob(int job) => Shape == BodyShape.OneObject ? "" : $"jobs[{job}]";

    public BodyDraft Refused(string description, params string[] keys) => this with
    {
        Verdict = Verdict.Refused,
        ExpectedStatus = 400,
        ExpectedKeys = [.. keys],
        Description = description,
    };

    public BodyDraft Edit(int job, Func<JobDraft, JobDraft> edit) => this with { Jobs = Jobs.SetItem(job, edit(Jobs[job])) };

    public int Target(int index) => index % Jobs.Count;

    public string RenderText(string prefix)
    {
        string text;
        if (WholeBody is not null)
        {
            text = WholeBody;
        }
        else
        {
            var objects = Jobs.Select(j => j.Render()).ToArray();
            if (ObjectEdit is not null)
            {
                objects[EditJob] = ObjectEdit(objects[EditJob]);
            }
            text = Shape switch
            {
                BodyShape.OneObject => objects[0],
                BodyShape.Array => "[" + string.Join(",", objects) + "]",
                _ => "{\"jobs\":[" + string.Join(",", objects) + "]}",
            };
            text = BodyEdit?.Invoke(text) ?? text;
        }
        return text.Replace(IdPrefix, prefix, StringComparison.Ordinal);
    }

    /// <summary>The bytes sent: the text as UTF-8, with <see cref="SplicedBytes"/> where the marker stands.</summary>
    public byte[] Render(string prefix)
    {
        var bytes = Encoding.UTF8.GetBytes(RenderText(prefix));
        var marker = Encoding.UTF8.GetBytes(SpliceMarker);
        var at = bytes.AsSpan().IndexOf(marker);
        return at < 0 ? bytes : [.. bytes[..at], .. SplicedBytes, .. bytes[(at + marker.Length)..]];
    }

    public static ExpectedJob Resolve(ExpectedJob job, string prefix) => job with { Id = job.Id.Replace(IdPrefix, prefix, StringComparison.Ordinal) };

    public override string ToString() => $"{Description} [{Shape}, {Jobs.Count} job(s), key {Key}]: {Truncate(RenderText("0000000"))}";

    private static string Truncate(string text) => text.Length > 600 ? text[..600] + $"... ({text.Length} chars)" : text;
}

/// <summary>JSON text pieces the drafts are written with.</summary>
public static class JsonText
{
    /// <summary>A JSON string literal; non-ASCII is written as itself, controls and quotes escaped.</summary>
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2).Append('"');
        foreach (var c in value)
        {
            switch (c)
            {
                case '"':
                    sb.Append("\\\"");
                    break;
                case '\\':
                    sb.Append("\\\\");
                    break;
                case < ' ':
                    sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    break;
                default:
                    sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    public static string Number(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);

    public static string Strings(IEnumerable<string> values) => "[" + string.Join(",", values.Select(Quote)) + "]";
}
