using System.Text.Json;
using Spotwise.Core;
using Spotwise.Core.Serialization;

namespace Spotwise.Server;

/// <summary>One job read from a request body, with the element's minified JSON (for idempotency).</summary>
public sealed record JobElement(Job Job, string CanonicalBody);

/// <summary>
/// A request body holding one job object or a JSON array of them. Every problem is collected, keyed by
/// <c>jobs[i].field</c> in a batch or <c>field</c> for a single job, so a client fixes them all in one pass.
/// </summary>
public sealed record JobInput(bool IsBatch, IReadOnlyList<JobElement> Jobs, IDictionary<string, string[]> Errors)
{
    public const int MaxBatch = 1_000;
    public const long MaxBodyBytes = 4 * 1024 * 1024;

    public bool Ok => Errors.Count == 0;

    /// <summary>Reads the body; null when it is larger than <see cref="MaxBodyBytes"/>.</summary>
    public static async Task<JobInput?> ReadAsync(HttpRequest request, DateTimeOffset now, Catalog catalog, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBodyBytes)
        {
            return null;
        }
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes)
            {
                return null;
            }
            buffer.Write(chunk, 0, read);
        }
        return Parse(buffer.ToArray(), now, catalog);
    }

    public static JobInput Parse(ReadOnlyMemory<byte> body, DateTimeOffset now, Catalog catalog)
    {
        var errors = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException e)
        {
            return Fail("body", $"malformed JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}");
        }
        using (doc)
        {
            var root = doc.RootElement;
            // A jobs file ({"jobs": [...]}, what `plan` reads) is a batch too.
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("jobs", out var wrapped) && wrapped.ValueKind == JsonValueKind.Array)
            {
                root = wrapped;
            }
            if (root.ValueKind == JsonValueKind.Object)
            {
                var one = ParseElement(root, 1, "", now, catalog, errors);
                return Done(false, one is null ? [] : [one], errors);
            }
            if (root.ValueKind != JsonValueKind.Array)
            {
                return Fail("body", "expected one job object, a JSON array of jobs, or {\"jobs\": [...]}");
            }
            var count = root.GetArrayLength();
            if (count == 0)
            {
                return Fail("body", "the array holds no jobs");
            }
            if (count > MaxBatch)
            {
                return Fail("body", $"the array holds {count} jobs; at most {MaxBatch} per request");
            }
            var jobs = new List<JobElement>(count);
            var i = 0;
            foreach (var element in root.EnumerateArray())
            {
                if (ParseElement(element, i + 1, $"jobs[{i}].", now, catalog, errors) is { } job)
                {
                    jobs.Add(job);
                }
                i++;
            }
            foreach (var dup in jobs.GroupBy(j => j.Job.Id, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                Add(errors, "jobId", $"job '{dup.Key}': the id is used by {dup.Count()} jobs of this batch");
            }
            return Done(true, jobs, errors);
        }
    }

    private static JobElement? ParseElement(JsonElement element, int index, string prefix, DateTimeOffset now, Catalog catalog, Dictionary<string, List<string>> errors)
    {
        var result = JobsFile.ParseOne(element, index, now, catalog);
        foreach (var e in result.Errors)
        {
            Add(errors, string.IsNullOrEmpty(e.Field) ? prefix.TrimEnd('.') is { Length: > 0 } p ? p : "body" : prefix + e.Field, e.ToString());
        }
        return result.Ok ? new JobElement(result.Value!, JsonSerializer.Serialize(element)) : null;
    }

    private static void Add(Dictionary<string, List<string>> errors, string key, string message)
    {
        if (!errors.TryGetValue(key, out var list))
        {
            errors[key] = list = [];
        }
        list.Add(message);
    }

    private static JobInput Done(bool batch, IReadOnlyList<JobElement> jobs, Dictionary<string, List<string>> errors) =>
        new(batch, errors.Count == 0 ? jobs : [], errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));

    private static JobInput Fail(string key, string message) =>
        new(false, [], new Dictionary<string, string[]>(StringComparer.Ordinal) { [key] = [message] });
}
