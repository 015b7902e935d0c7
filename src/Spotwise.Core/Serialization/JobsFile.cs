using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Spotwise.Core.Serialization;

/// <summary>What a reader of jobs allows beyond the rules every jobs document obeys.</summary>
public sealed record JobsReadOptions
{
    /// <summary>A jobs file (<c>plan</c>, <c>simulate --jobs</c>): any number of jobs; dependencies inside the file.</summary>
    public static JobsReadOptions File { get; } = new();

    /// <summary>The most jobs one document may hold; null for no limit.</summary>
    public int? MaxJobs { get; init; }

    /// <summary>
    /// Whether a dependency may name a job outside the document (one already stored). The reader then leaves such ids
    /// for the caller to check against its store; otherwise they are errors.
    /// </summary>
    public bool DependenciesMayBeStored { get; init; }
}

/// <summary>One job read from a document: its position (null for a lone job object), the job, and its minified JSON.</summary>
public sealed record ReadJob(int? Index, Job Job, string CanonicalBody)
{
    /// <summary>Where its fields are named in errors: <c>jobs[3].</c>, or nothing for a lone job object.</summary>
    public string PathPrefix => JobPaths.Prefix(Index);
}

/// <summary>A jobs document read: a batch (an array, or <c>{"jobs": [...]}</c>) or one job object, or its problems.</summary>
public sealed record JobsDocument(bool IsBatch, ImmutableArray<ReadJob> Jobs, IReadOnlyList<InputError> Errors)
{
    public bool Ok => Errors.Count == 0;
}

/// <summary>
/// Reads jobs documents: a JSON array of jobs, <c>{"jobs": [...]}</c>, or one job object. Strict: RFC 8259 JSON in UTF-8
/// (<see cref="StrictJson"/>), no unknown or duplicate fields, every field within its bounds (<see cref="JobBounds"/>).
/// Every problem is reported, each naming the job and the field (and the API path <c>jobs[i].field</c>), so a user fixes
/// them all in one pass. See README "Input format".
/// </summary>
public static class JobsFile
{
    public const string WholeDocument = "body";

    /// <summary>The fields a job object may have; the intake refuses any other (the OpenAPI document's job schema follows it).</summary>
    public static IReadOnlyList<string> JobFields => JobReader.JobFieldNames;

    /// <summary>The fields of a job's <c>resourceRequirements</c>.</summary>
    public static IReadOnlyList<string> ResourceFields => JobReader.ResourceFieldNames;

    /// <summary>Reads a jobs file's text; the jobs, or every problem.</summary>
    public static ParseResult<ImmutableArray<Job>> Parse(string json, DateTimeOffset now, Catalog? catalog = null)
    {
        using var doc = StrictJson.Parse(json, out var error);
        return Result(doc is null ? Refused(error!) : Read(doc, now, catalog, JobsReadOptions.File));
    }

    /// <summary>Reads a jobs document's bytes (what the HTTP API receives).</summary>
    public static JobsDocument Read(ReadOnlyMemory<byte> utf8, DateTimeOffset now, Catalog? catalog, JobsReadOptions options)
    {
        using var doc = StrictJson.Parse(utf8, out var error);
        return doc is null ? Refused(error!) : Read(doc, now, catalog, options);
    }

    /// <summary>Reads one job object (tests, and callers holding an element already).</summary>
    public static ParseResult<Job> ParseOne(JsonElement element, int index, DateTimeOffset now, Catalog? catalog = null)
    {
        var errors = new List<InputError>();
        var job = new JobReader(element, index, null, now, catalog, errors, new ResourceChecks(catalog)).Read();
        return new ParseResult<Job>(errors.Count == 0 ? job : null, errors);
    }

    private static ParseResult<ImmutableArray<Job>> Result(JobsDocument read) =>
        read.Ok ? new([.. read.Jobs.Select(j => j.Job)], []) : new(default, read.Errors);

    private static JobsDocument Read(JsonDocument doc, DateTimeOffset now, Catalog? catalog, JobsReadOptions options)
    {
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("jobs", out var inner))
        {
            var extra = root.EnumerateObject().Where(p => p.Name != "jobs").Select(p => p.Name).ToList();
            if (extra.Count > 0)
            {
                return Fail(new InputError("jobs file", "", $"next to \"jobs\" the document may hold nothing else; found '{StrictJson.Shorten(extra[0])}'") { Path = WholeDocument });
            }
            return inner.ValueKind == JsonValueKind.Array
                ? ReadArray(inner, now, catalog, options)
                : Fail(new InputError("jobs file", "jobs", $"must be an array of jobs, found {inner.ValueKind.ToString().ToLowerInvariant()}") { Path = "jobs" });
        }
        return root.ValueKind switch
        {
            JsonValueKind.Array => ReadArray(root, now, catalog, options),
            JsonValueKind.Object => ReadSingle(root, now, catalog, options),
            _ => Fail(new InputError("jobs file", "", "expected a JSON array of jobs, an object with a \"jobs\" array, or one job object") { Path = WholeDocument }),
        };
    }

    private static JobsDocument ReadSingle(JsonElement element, DateTimeOffset now, Catalog? catalog, JobsReadOptions options)
    {
        var errors = new List<InputError>();
        var job = new JobReader(element, 1, null, now, catalog, errors, new ResourceChecks(catalog)).Read();
        if (job is null)
        {
            return new(false, [], errors);
        }
        ReadJob[] jobs = [new ReadJob(null, job, JsonSerializer.Serialize(element))];
        errors.AddRange(QueueChecks.Check(jobs, [], options.DependenciesMayBeStored));
        return errors.Count > 0 ? new(false, [], errors) : new(false, [.. jobs], errors);
    }

    private static JobsDocument ReadArray(JsonElement array, DateTimeOffset now, Catalog? catalog, JobsReadOptions options)
    {
        var count = array.GetArrayLength();
        if (count == 0)
        {
            return Fail(new InputError("jobs file", "", "holds no jobs") { Path = WholeDocument });
        }
        if (options.MaxJobs is { } max && count > max)
        {
            return Fail(new InputError("jobs file", "", $"holds {count} jobs; at most {max} per request") { Path = WholeDocument });
        }
        var errors = new List<InputError>();
        var jobs = new List<ReadJob>(count);
        var unread = new List<(int Index, string Id)>();
        var resources = new ResourceChecks(catalog);
        var index = 0;
        foreach (var element in array.EnumerateArray())
        {
            var reader = new JobReader(element, index + 1, index, now, catalog, errors, resources);
            if (reader.Read() is { } job)
            {
                jobs.Add(new ReadJob(index, job, JsonSerializer.Serialize(element)));
            }
            else if (reader.Id is { } id)
            {
                unread.Add((index, id));
            }
            index++;
        }
        errors.AddRange(QueueChecks.Check(jobs, unread, options.DependenciesMayBeStored));
        return errors.Count > 0 ? new(true, [], errors) : new(true, [.. jobs], errors);
    }

    private static JobsDocument Refused(JsonPathError error)
    {
        var (index, field) = JobPaths.Locate(error.Path);
        var where = index is { } i ? $"job #{i + 1}" : field.Length > 0 ? "job" : "jobs file";
        return Fail(new InputError(where, field, error.Message) { Path = JobPaths.Of(index, field) });
    }

    private static JobsDocument Fail(InputError e) => new(false, [], [e]);
}

/// <summary>How errors name a job's fields: <c>jobs[i].field</c> in a batch, <c>field</c> for a lone job, <c>body</c> for the document.</summary>
public static class JobPaths
{
    public static string Prefix(int? index) => index is { } i ? $"jobs[{i.ToString(CultureInfo.InvariantCulture)}]." : "";

    public static string Of(int? index, string field) =>
        field.Length > 0 ? Prefix(index) + field : index is { } i ? $"jobs[{i.ToString(CultureInfo.InvariantCulture)}]" : JobsFile.WholeDocument;

    /// <summary>The job and field a path into a jobs document points at (array indices inside a job name their field).</summary>
    public static (int? Index, string Field) Locate(IReadOnlyList<JsonPathSegment> path)
    {
        var rest = path.AsEnumerable();
        int? index = null;
        if (path.Count > 0 && path[0].Index is { } top)
        {
            index = top;
            rest = path.Skip(1);
        }
        else if (path.Count > 1 && path[0].Name == "jobs" && path[1].Index is { } wrapped)
        {
            index = wrapped;
            rest = path.Skip(2);
        }
        var names = rest.Where(s => s.Name is not null).Select(s => s.Name!).ToList();
        return (index, names.All(IsPlainName) ? string.Join(".", names) : "");
    }

    /// <summary>A field name fit to stand in a path (what a client may have meant to send).</summary>
    public static bool IsPlainName(string name) =>
        name.Length is > 0 and <= 64 && char.IsAsciiLetter(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}

/// <summary>
/// Checks that need the whole document: unique ids, dependencies that exist and form no cycle (found by the planners'
/// own <see cref="DependencyGraph"/>, without recursion: a 10,000-deep chain is an ordinary document).
/// </summary>
public static class QueueChecks
{
    /// <param name="jobs">The jobs that were read.</param>
    /// <param name="unread">
    /// Ids (and positions) of jobs of the same document that could not be read: they are in the queue, so depending on
    /// one is no error of its own and sharing its id is.
    /// </param>
    /// <param name="dependenciesMayBeStored">Ids outside the document are left for the caller to find in its store.</param>
    public static IEnumerable<InputError> Check(IReadOnlyList<ReadJob> jobs, IReadOnlyList<(int Index, string Id)> unread, bool dependenciesMayBeStored)
    {
        var errors = new List<InputError>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (index, id) in jobs.Select(j => (j.Index, j.Job.Id)).Concat(unread.Select(u => ((int?)u.Index, u.Id))))
        {
            if (!ids.Add(id))
            {
                errors.Add(new InputError($"job '{id}'", "jobId", $"'{id}' is used by more than one job") { Path = JobPaths.Of(index, "jobId") });
            }
        }
        foreach (var read in jobs)
        {
            var job = read.Job;
            foreach (var dep in job.DependsOn)
            {
                if (dep == job.Id)
                {
                    errors.Add(DependencyError(read, "a job cannot depend on itself"));
                }
                else if (!ids.Contains(dep) && !dependenciesMayBeStored)
                {
                    errors.Add(DependencyError(read, $"'{dep}' is not a job in this queue"));
                }
            }
        }
        if (errors.Count == 0)
        {
            errors.AddRange(CycleErrors(jobs));
        }
        return errors;
    }

    private static InputError DependencyError(ReadJob read, string message) =>
        new($"job '{read.Job.Id}'", "dependsOn", message) { Path = read.PathPrefix + "dependsOn" };

    /// <summary>
    /// Jobs on a cycle, or waiting on one, each with the cycle (<see cref="DependencyGraph"/>, the planners' own walk).
    /// Prerequisites outside the read jobs (stored ones, or jobs with errors of their own) cannot close a cycle here.
    /// </summary>
    private static IEnumerable<InputError> CycleErrors(IReadOnlyList<ReadJob> jobs)
    {
        var ids = jobs.Select(j => j.Job.Id).ToHashSet(StringComparer.Ordinal);
        var inside = jobs.Select(j => j.Job.WithPrerequisitesAmong(ids)).ToList();
        var graph = DependencyGraph.Of(inside);
        return jobs.Select((read, i) => graph.WhyBlocked(i) is { } why ? DependencyError(read, why) : null).OfType<InputError>();
    }
}

/// <summary>Whether any catalog type satisfies a request, asked once per distinct request of a document.</summary>
internal sealed class ResourceChecks(Catalog? catalog)
{
    private readonly Dictionary<string, bool> _satisfiable = new(StringComparer.Ordinal);

    public bool Satisfiable(ResourceRequest request)
    {
        if (catalog is null)
        {
            return true;
        }
        var key = string.Join("|", request.ClassName, request.MinVcpus, request.MinMemoryGiB.ToString("R", CultureInfo.InvariantCulture), request.MinGpus,
            string.Join(",", request.GpuModels), request.Architecture, string.Join(",", request.InstanceTypes));
        if (!_satisfiable.TryGetValue(key, out var ok))
        {
            _satisfiable[key] = ok = catalog.Entries.Any(e => request.IsSatisfiedBy(e.Type));
        }
        return ok;
    }
}
