using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Spotwise.Core.Serialization;

/// <summary>
/// Reads a jobs file: a JSON array of jobs or <c>{"jobs": [...]}</c>. Every problem is reported, each naming the job
/// and the field, so a user fixes them all in one pass. See README "Input format".
/// </summary>
public static class JobsFile
{
    public static ParseResult<ImmutableArray<Job>> Parse(string json, DateTimeOffset now, Catalog? catalog = null)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json, new JsonDocumentOptions { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip });
        }
        catch (JsonException e)
        {
            return Fail(new InputError("jobs file", "", $"malformed JSON at line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}: {FirstSentence(e.Message)}"));
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("jobs", out var inner))
            {
                root = inner;
            }
            if (root.ValueKind != JsonValueKind.Array)
            {
                return Fail(new InputError("jobs file", "", "expected a JSON array of jobs or an object with a \"jobs\" array"));
            }
            return ParseArray(root, now, catalog);
        }
    }

    /// <summary>Reads one job object (the HTTP API takes single jobs too).</summary>
    public static ParseResult<Job> ParseOne(JsonElement element, int index, DateTimeOffset now, Catalog? catalog = null)
    {
        var errors = new List<InputError>();
        var job = new JobReader(element, index, now, catalog, errors).Read();
        return new ParseResult<Job>(errors.Count == 0 ? job : null, errors);
    }

    private static ParseResult<ImmutableArray<Job>> ParseArray(JsonElement array, DateTimeOffset now, Catalog? catalog)
    {
        var errors = new List<InputError>();
        var jobs = new List<Job>();
        var idsOfJobsWithErrors = new List<string>();
        var index = 0;
        foreach (var element in array.EnumerateArray())
        {
            index++;
            var reader = new JobReader(element, index, now, catalog, errors);
            var job = reader.Read();
            if (job is not null)
            {
                jobs.Add(job);
            }
            else if (reader.Id is { } id)
            {
                idsOfJobsWithErrors.Add(id);
            }
        }
        if (index == 0)
        {
            errors.Add(new InputError("jobs file", "", "holds no jobs"));
        }
        errors.AddRange(QueueChecks.Check(jobs, idsOfJobsWithErrors));
        return errors.Count > 0 ? new(default, errors) : new([.. jobs], errors);
    }

    private static ParseResult<ImmutableArray<Job>> Fail(InputError e) => new(default, [e]);

    private static string FirstSentence(string message)
    {
        var dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..dot] : message;
    }
}

/// <summary>Checks that need the whole queue: unique ids, dependencies that exist and form no cycle.</summary>
public static class QueueChecks
{
    /// <param name="jobs">The jobs that were read.</param>
    /// <param name="idsOfJobsWithErrors">
    /// Ids of jobs of the same queue that could not be read: they are in the queue, so depending on one is no error
    /// of its own and sharing its id is.
    /// </param>
    public static IEnumerable<InputError> Check(IReadOnlyList<Job> jobs, IReadOnlyList<string>? idsOfJobsWithErrors = null)
    {
        var errors = new List<InputError>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var id in jobs.Select(j => j.Id).Concat(idsOfJobsWithErrors ?? []))
        {
            if (!ids.Add(id))
            {
                errors.Add(new InputError($"job '{id}'", "jobId", $"'{id}' is used by more than one job"));
            }
        }
        foreach (var job in jobs)
        {
            foreach (var dep in job.DependsOn)
            {
                if (dep == job.Id)
                {
                    errors.Add(new InputError($"job '{job.Id}'", "dependsOn", "a job cannot depend on itself"));
                }
                else if (!ids.Contains(dep))
                {
                    errors.Add(new InputError($"job '{job.Id}'", "dependsOn", $"'{dep}' is not a job in this queue"));
                }
            }
        }
        if (errors.Count == 0 && FindCycle(jobs) is { } cycle)
        {
            errors.Add(new InputError($"job '{cycle[0]}'", "dependsOn", $"dependencies form a cycle: {string.Join(" -> ", cycle)}"));
        }
        return errors;
    }

    private static List<string>? FindCycle(IReadOnlyList<Job> jobs)
    {
        var byId = jobs.GroupBy(j => j.Id, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 = on the path, 2 = done
        var path = new List<string>();
        List<string>? Visit(string id)
        {
            state[id] = 1;
            path.Add(id);
            foreach (var dep in byId[id].DependsOn)
            {
                var s = state.GetValueOrDefault(dep);
                if (s == 1)
                {
                    return [.. path.Skip(path.IndexOf(dep)), dep];
                }
                if (s == 0 && byId.ContainsKey(dep) && Visit(dep) is { } found)
                {
                    return found;
                }
            }
            path.RemoveAt(path.Count - 1);
            state[id] = 2;
            return null;
        }
        foreach (var job in jobs)
        {
            if (state.GetValueOrDefault(job.Id) == 0 && Visit(job.Id) is { } cycle)
            {
                return cycle;
            }
        }
        return null;
    }
}

/// <summary>Reads one job object, collecting every problem it finds.</summary>
internal sealed class JobReader(JsonElement e, int index, DateTimeOffset now, Catalog? catalog, List<InputError> errors)
{
    private string _where = $"job #{index}";

    /// <summary>The job's id once read, even when other fields have errors.</summary>
    public string? Id { get; private set; }

    public Job? Read()
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            Error("", $"expected a JSON object, found {e.ValueKind.ToString().ToLowerInvariant()}");
            return null;
        }
        var before = errors.Count;
        var id = ReadId();
        var priority = ReadInt("priority", Job.DefaultPriority, Job.MinPriority, Job.MaxPriority);
        var earliest = ReadTime("earliestStart");
        var deadline = ReadTime("deadline");
        var duration = ReadNumber("estimatedDurationHours", required: true, min: 0, exclusiveMin: true);
        var resources = ReadResources();
        var inputGb = ReadNumber("inputDataSizeGB", required: false, min: 0, exclusiveMin: false);
        var checkpointable = ReadBool("checkpointable") ?? false;
        var interval = ReadNumber("checkpointIntervalMinutes", required: false, min: 0, exclusiveMin: true);
        var overhead = ReadNumber("restartOverheadMinutes", required: false, min: 0, exclusiveMin: false);
        var dependsOn = ReadStrings("dependsOn");
        var team = ReadString("team");
        var command = ReadString("command");
        if (earliest is not null && deadline is not null && deadline <= earliest)
        {
            Error("deadline", $"{Fmt(deadline.Value)} is not after earliestStart {Fmt(earliest.Value)}");
        }
        if (errors.Count > before || id is null || duration is null || resources is null)
        {
            return null;
        }
        return new Job
        {
            Id = id,
            Priority = priority,
            EarliestStart = earliest,
            Deadline = deadline,
            DurationHours = duration.Value,
            Resources = resources,
            InputDataSizeGB = inputGb,
            Checkpointable = checkpointable,
            CheckpointIntervalHours = interval / 60,
            RestartOverheadHours = overhead is { } o ? o / 60 : Job.DefaultRestartOverheadHours,
            DependsOn = dependsOn,
            Team = team,
            Command = command,
        };
    }

    private string? ReadId()
    {
        if (!e.TryGetProperty("jobId", out var v) || v.ValueKind == JsonValueKind.Null)
        {
            Error("jobId", "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(v.GetString()))
        {
            Error("jobId", $"must be a non-empty string, found {Show(v)}");
            return null;
        }
        var id = v.GetString()!;
        _where = $"job '{id}'";
        Id = id;
        return id;
    }

    private ResourceRequest? ReadResources()
    {
        if (e.TryGetProperty("resourceRequirements", out var r) && r.ValueKind != JsonValueKind.Null)
        {
            return r.ValueKind == JsonValueKind.Object
                ? ReadResourceObject(r)
                : Fail<ResourceRequest>("resourceRequirements", $"must be an object like {{\"type\": \"gpu_large\"}}, found {Show(r)}");
        }
        if (e.TryGetProperty("requiredResourceType", out var flat) && flat.ValueKind != JsonValueKind.Null)
        {
            return flat.ValueKind == JsonValueKind.String
                ? ReadClass("requiredResourceType", flat.GetString()!)
                : Fail<ResourceRequest>("requiredResourceType", $"must be a class name, found {Show(flat)}");
        }
        Error("resourceRequirements", $"is required: a class ({string.Join(", ", ResourceClasses.Presets.Keys.Order(StringComparer.Ordinal))}), explicit needs, or instanceTypes");
        return null;
    }

    private ResourceRequest? ReadResourceObject(JsonElement r)
    {
        const string field = "resourceRequirements";
        var architecture = ReadArchitecture(r, field);
        if (r.TryGetProperty("type", out var type))
        {
            var preset = type.ValueKind == JsonValueKind.String
                ? ReadClass($"{field}.type", type.GetString()!)
                : Fail<ResourceRequest>($"{field}.type", $"must be a class name, found {Show(type)}");
            return preset is null ? null : preset with { Architecture = architecture };
        }
        if (r.TryGetProperty("instanceTypes", out var list))
        {
            var names = new JobReader(r, index, now, catalog, errors) { _where = _where }.ReadStrings("instanceTypes", field + ".");
            if (names.IsEmpty)
            {
                return Fail<ResourceRequest>($"{field}.instanceTypes", "must name at least one instance type");
            }
            var unknown = catalog is null ? [] : names.Where(n => catalog.Find(n) is null).ToList();
            return unknown.Count > 0
                ? Fail<ResourceRequest>($"{field}.instanceTypes", $"{string.Join(", ", unknown.Select(u => $"'{u}'"))} not in the catalog")
                : ResourceRequest.ForInstanceTypes(names);
        }
        var sub = new JobReader(r, index, now, catalog, errors) { _where = _where };
        var vcpus = sub.ReadInt("vcpus", 1, 1, 100_000, field + ".");
        var memory = sub.ReadNumber("memoryGiB", required: false, min: 0, exclusiveMin: false, prefix: field + ".") ?? 0;
        var gpus = sub.ReadInt("gpus", 0, 0, 1_000, field + ".");
        var model = sub.ReadString("gpuModel", field + ".");
        if (model is not null && catalog is not null && !catalog.Entries.Any(c => string.Equals(c.Type.GpuModel, model, StringComparison.OrdinalIgnoreCase)))
        {
            var known = catalog.Entries.Select(c => c.Type.GpuModel).OfType<string>().Distinct().Order(StringComparer.Ordinal);
            Error($"{field}.gpuModel", $"'{model}' is not a GPU model of the catalog ({string.Join(", ", known)})");
        }
        return new ResourceRequest
        {
            Architecture = architecture,
            MinVcpus = vcpus,
            MinMemoryGiB = memory,
            MinGpus = model is not null ? Math.Max(gpus, 1) : gpus,
            GpuModels = model is null ? [] : [model],
        };
    }

    private string ReadArchitecture(JsonElement r, string field)
    {
        var sub = new JobReader(r, index, now, catalog, errors) { _where = _where };
        var arch = sub.ReadString("architecture", field + ".");
        if (arch is null || Architectures.Names.Contains(arch))
        {
            return arch ?? Architectures.X86;
        }
        Error($"{field}.architecture", $"'{arch}' is not an architecture; choose one of {string.Join(", ", Architectures.Names)}");
        return Architectures.X86;
    }

    private ResourceRequest? ReadClass(string field, string name)
    {
        if (ResourceClasses.TryGet(name, out var preset))
        {
            return preset;
        }
        return Fail<ResourceRequest>(field,
            $"'{name}' is not a resource class; known: {string.Join(", ", ResourceClasses.Presets.Keys.Order(StringComparer.Ordinal))}");
    }

    private DateTimeOffset? ReadTime(string field)
    {
        if (!e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (v.ValueKind != JsonValueKind.String)
        {
            return Fail<DateTimeOffset?>(field, $"must be a time string, found {Show(v)}");
        }
        if (TimeText.TryParse(v.GetString()!, now, out var t, out var why))
        {
            return t;
        }
        Error(field, why!);
        return null;
    }

    private int ReadInt(string field, int fallback, int min, int max, string prefix = "")
    {
        if (!e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return fallback;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetInt32(out var n) || n < min || n > max)
        {
            Error(prefix + field, $"must be a whole number from {min} to {max}, found {Show(v)}");
            return fallback;
        }
        return n;
    }

    private double? ReadNumber(string field, bool required, double min, bool exclusiveMin, string prefix = "")
    {
        if (!e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            if (required)
            {
                Error(prefix + field, "is required");
            }
            return null;
        }
        if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var x) || !double.IsFinite(x))
        {
            return Fail<double?>(prefix + field, $"must be a number, found {Show(v)}");
        }
        if (exclusiveMin ? x <= min : x < min)
        {
            return Fail<double?>(prefix + field, $"must be {(exclusiveMin ? "greater than" : "at least")} {min.ToString(CultureInfo.InvariantCulture)}, found {Show(v)}");
        }
        return x;
    }

    private bool? ReadBool(string field)
    {
        if (!e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean()
            : Fail<bool?>(field, $"must be true or false, found {Show(v)}");
    }

    private string? ReadString(string field, string prefix = "")
    {
        if (!e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind == JsonValueKind.String ? v.GetString() : Fail<string>(prefix + field, $"must be a string, found {Show(v)}");
    }

    private ImmutableArray<string> ReadStrings(string field, string prefix = "")
    {
        if (!e.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
        {
            Error(prefix + field, $"must be an array of strings, found {Show(v)}");
            return [];
        }
        return [.. v.EnumerateArray().Select(x => x.GetString()!)];
    }

    private T? Fail<T>(string field, string message)
    {
        Error(field, message);
        return default;
    }

    private void Error(string field, string message) => errors.Add(new InputError(_where, field, message));

    private static string Show(JsonElement v)
    {
        var raw = v.GetRawText();
        return raw.Length > 60 ? raw[..57] + "..." : raw;
    }

    private static string Fmt(DateTimeOffset t) => t.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
}
