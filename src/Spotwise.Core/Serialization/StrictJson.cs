using System.Text;
using System.Text.Json;

namespace Spotwise.Core.Serialization;

/// <summary>
/// The gate every jobs document passes before anything reads it: strict RFC 8259 JSON (no comments, no trailing commas),
/// UTF-8 only (no invalid bytes, no lone surrogate escapes such as <c>"\ud800"</c>), no duplicate keys, bounded depth.
/// One walk with <see cref="Utf8JsonReader"/> keeps the path to every token, so a refusal names the field where the bad
/// byte sits (<c>jobs[3].jobId</c>), and after it every string can be read without throwing.
/// </summary>
public static class StrictJson
{
    /// <summary>A job is three levels deep at most (<c>{"jobs": [{"resourceRequirements": {"instanceTypes": [..]}}]}</c>).</summary>
    public const int MaxDepth = 16;

    private static readonly JsonReaderOptions ReaderOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = MaxDepth,
    };

    private static readonly JsonDocumentOptions DocumentOptions = new()
    {
        AllowTrailingCommas = false,
        CommentHandling = JsonCommentHandling.Disallow,
        MaxDepth = MaxDepth,
    };

    /// <summary>Parses <paramref name="utf8"/> strictly; null with the problem (its path and why) when it is not strict JSON.</summary>
    public static JsonDocument? Parse(ReadOnlyMemory<byte> utf8, out JsonPathError? error)
    {
        // RFC 8259 §8.1: a parser MAY ignore a byte order mark; editors on Windows write one.
        var bom = Encoding.UTF8.Preamble;
        if (utf8.Span.StartsWith(bom))
        {
            utf8 = utf8[bom.Length..];
        }
        error = Walk(utf8.Span);
        return error is null ? JsonDocument.Parse(utf8, DocumentOptions) : null;
    }

    /// <summary>Parses text (already UTF-16) strictly; see <see cref="Parse(ReadOnlyMemory{byte}, out JsonPathError?)"/>.</summary>
    public static JsonDocument? Parse(string text, out JsonPathError? error)
    {
        byte[] bytes;
        try
        {
            bytes = new UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(text);
        }
        catch (EncoderFallbackException)
        {
            error = new JsonPathError([], "the text holds a lone surrogate: it is not valid Unicode");
            return null;
        }
        return Parse(bytes, out error);
    }

    private static JsonPathError? Walk(ReadOnlySpan<byte> utf8)
    {
        var reader = new Utf8JsonReader(utf8, ReaderOptions);
        var path = new List<Frame>();
        try
        {
            while (reader.Read())
            {
                if (Step(ref reader, path) is { } problem)
                {
                    return new JsonPathError(Segments(path), problem);
                }
            }
            return null;
        }
        catch (JsonException e)
        {
            // Broken syntax belongs to the document, not to the field the reader happened to be in (a trailing comma
            // after the last job is no fault of that job); where it broke is said in the message.
            var near = Segments(path) is { Count: > 0 } segments ? $" (after {Render(segments)})" : "";
            return new JsonPathError([], $"malformed JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}{near}: {FirstSentence(e.Message)}");
        }
    }

    /// <summary>Follows one token; the problem with it, if any.</summary>
    private static string? Step(ref Utf8JsonReader reader, List<Frame> path)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.StartObject or JsonTokenType.StartArray:
                Advance(path);
                path.Add(new Frame(reader.TokenType == JsonTokenType.StartObject));
                return null;
            case JsonTokenType.EndObject or JsonTokenType.EndArray:
                path.RemoveAt(path.Count - 1);
                return null;
            case JsonTokenType.PropertyName:
                var frame = path[^1];
                if (!TryRead(ref reader, out var name))
                {
                    frame.Name = null;
                    return "a field name is not valid UTF-8 (invalid bytes or a lone surrogate escape)";
                }
                frame.Name = name;
                return frame.Names!.Add(name) ? null : $"the field '{Shorten(name)}' appears twice in one object";
            case JsonTokenType.String:
                Advance(path);
                return TryRead(ref reader, out _) ? null : "the string is not valid UTF-8 (invalid bytes, or a lone surrogate escape such as \\ud800)";
            default:
                Advance(path);
                return null;
        }
    }

    /// <summary>A value starts: in an array it is the next element; in an object it is the value of the field just named.</summary>
    private static void Advance(List<Frame> path)
    {
        if (path.Count == 0)
        {
            return;
        }
        var frame = path[^1];
        if (!frame.IsObject)
        {
            frame.Index++;
        }
    }

    private static bool TryRead(ref Utf8JsonReader reader, out string value)
    {
        try
        {
            value = reader.GetString()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = "";
            return false;
        }
    }

    private static List<JsonPathSegment> Segments(List<Frame> path)
    {
        var segments = new List<JsonPathSegment>(path.Count);
        foreach (var frame in path)
        {
            if (frame.IsObject && frame.Name is { } name)
            {
                segments.Add(new JsonPathSegment(name, null));
            }
            else if (!frame.IsObject && frame.Index >= 0)
            {
                segments.Add(new JsonPathSegment(null, frame.Index));
            }
        }
        return segments;
    }

    private static string Render(List<JsonPathSegment> segments) =>
        string.Concat(segments.Select(s => s.Index is { } i ? $"[{i}]" : "." + Shorten(s.Name!))).TrimStart('.');

    private static string FirstSentence(string message)
    {
        var dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..dot] : message;
    }

    internal static string Shorten(string text) => text.Length > 60 ? text[..57] + "..." : text;

    /// <summary>Where the reader is: in an object, the field last named; in an array, the element's index.</summary>
    private sealed class Frame(bool isObject)
    {
        public bool IsObject { get; } = isObject;

        public HashSet<string>? Names { get; } = isObject ? new(StringComparer.Ordinal) : null;

        public string? Name { get; set; }

        public int Index { get; set; } = -1;
    }
}

/// <summary>One step of a path into a JSON document: a field name or an array index.</summary>
public sealed record JsonPathSegment(string? Name, int? Index);

/// <summary>Why a document was refused, and where in it.</summary>
public sealed record JsonPathError(IReadOnlyList<JsonPathSegment> Path, string Message);
