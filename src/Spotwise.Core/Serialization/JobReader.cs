using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Spotwise.Core.Serialization;

/// <summary>
/// Reads one job object, collecting every problem it finds, each named by job, field and API path. Strings can be read
/// without throwing: <see cref="StrictJson"/> has checked the document first.
/// </summary>
internal sealed class JobReader(JsonElement e, int number, int? index, DateTimeOffset now, Catalog? catalog, List<InputError> errors, ResourceChecks resources)
{
    /// <summary>Every field a job object may have (anything else is refused with a suggestion).</summary>
    public static readonly IReadOnlyList<string> JobFieldNames = [
        "jobId", "priority", "earliestStart", "deadline", "estimatedDurationHours", "resourceRequirements", "requiredResourceType",
        "inputDataSizeGB", "dataRegion", "checkpointable", "checkpointIntervalMinutes", "restartOverheadMinutes", "dependsOn", "team", "command", "image", "windows"];

    /// <summary>Every field of <c>resourceRequirements</c>.</summary>
    public static readonly IReadOnlyList<string> ResourceFieldNames = ["type", "instanceTypes", "vcpus", "memoryGiB", "gpus", "gpuModel", "architecture"];

    private static readonly FieldSet JobFields = new([.. JobFieldNames]);

    private static readonly FieldSet ResourceFields = new([.. ResourceFieldNames]);

    private static readonly string[] RequestForms = ["type", "instanceTypes"];

    private static readonly string[] ExplicitNeeds = ["vcpus", "memoryGiB", "gpus", "gpuModel"];

    private const string Resources = "resourceRequirements";

    private string _where = $"job #{number}";

    /// <summary>Each time as written, so a refusal quotes what the user sent ("+80m"), not only what it meant.</summary>
    private readonly Dictionary<string, string> _timeTexts = new(StringComparer.Ordinal);

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
        RefuseUnknown(e, JobFields, "");
        var priority = ReadInt(e, "priority", Job.DefaultPriority, Job.MinPriority, Job.MaxPriority);
        var earliest = ReadTime("earliestStart");
        var deadline = ReadTime("deadline");
        var duration = ReadNumber(e, "estimatedDurationHours", required: true, min: 0, exclusiveMin: true, max: JobBounds.MaxDurationHours);
        var request = ReadResources();
        var inputGb = ReadNumber(e, "inputDataSizeGB", required: false, min: 0, exclusiveMin: false, max: JobBounds.MaxInputDataSizeGB);
        var dataRegion = ReadDataRegion();
        var checkpointable = ReadBool("checkpointable") ?? false;
        var interval = ReadNumber(e, "checkpointIntervalMinutes", required: false, min: 0, exclusiveMin: true, max: JobBounds.MaxCheckpointIntervalMinutes);
        var overhead = ReadNumber(e, "restartOverheadMinutes", required: false, min: 0, exclusiveMin: false, max: JobBounds.MaxRestartOverheadMinutes);
        var dependsOn = ReadNames(e, "dependsOn", "");
        var team = ReadName("team");
        var command = ReadCommand();
        var image = ReadImage();
        var windows = ReadWindows();
        CheckTimes(earliest, deadline, duration);
        if (errors.Count > before || id is null || duration is null || request is null)
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
            Resources = request,
            InputDataSizeGB = inputGb,
            DataRegion = dataRegion,
            Checkpointable = checkpointable,
            CheckpointIntervalHours = interval / 60,
            RestartOverheadHours = overhead is { } o ? o / 60 : Job.DefaultRestartOverheadHours,
            DependsOn = dependsOn,
            Team = team,
            Command = command,
            Image = image,
            Windows = windows,
        };
    }

    /// <summary>Scheduling windows (<see cref="ScheduleWindows"/>): each text is checked here, so the planner never meets a bad one.</summary>
    private ImmutableArray<string> ReadWindows()
    {
        var before = errors.Count;
        var texts = ReadStrings(e, "windows", "");
        if (errors.Count > before)
        {
            return [];
        }
        foreach (var error in ScheduleWindows.Parse(texts).Errors)
        {
            Error(error.Field, error.Message);
        }
        return texts;
    }

    private string? ReadId()
    {
        if (!e.TryGetProperty("jobId", out var v) || v.ValueKind == JsonValueKind.Null)
        {
            Error("jobId", "is required");
            return null;
        }
        if (v.ValueKind != JsonValueKind.String)
        {
            return Fail<string>("jobId", $"must be a string, found {Show(v)}");
        }
        var id = v.GetString()!;
        if (JobBounds.NameProblem(id) is { } why)
        {
            return Fail<string>("jobId", $"{why}: {Show(v)}");
        }
        _where = $"job '{id}'";
        Id = id;
        return id;
    }

    private string? ReadName(string field)
    {
        var name = ReadString(e, field, "");
        if (name is not null && JobBounds.NameProblem(name) is { } why)
        {
            return Fail<string>(field, $"{why}: {Quote(name)}");
        }
        return name;
    }

    /// <summary>
    /// Where the job's input lives: a region the catalog sells in or the transfer table prices (without a catalog, any
    /// well-formed name). Null is the catalog's home region.
    /// </summary>
    private string? ReadDataRegion()
    {
        var region = ReadName("dataRegion");
        if (region is null || catalog is null)
        {
            return region;
        }
        var known = catalog.Regions.Union(catalog.Transfer.Regions, StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return known.Contains(region, StringComparer.Ordinal) ? region
            : Fail<string>("dataRegion", $"{Quote(region)} is not a region of the catalog or the transfer table ({string.Join(", ", known)})");
    }

    private string? ReadCommand()
    {
        var command = ReadString(e, "command", "");
        if (command is null)
        {
            return null;
        }
        var bytes = Encoding.UTF8.GetByteCount(command);
        if (bytes > JobBounds.MaxCommandBytes)
        {
            return Fail<string>("command", $"is {bytes} bytes long; at most {JobBounds.MaxCommandBytes} (64 KiB)");
        }
        return command.Contains('\0', StringComparison.Ordinal) ? Fail<string>("command", "holds a NUL character (\\u0000), which no shell can run") : command;
    }

    /// <summary>A container image reference (<c>python:3.12-slim</c>, <c>registry.example.com/team/train@sha256:...</c>): one word, bounded.</summary>
    private string? ReadImage()
    {
        var image = ReadString(e, "image", "");
        if (image is null)
        {
            return null;
        }
        if (image.Length is 0 or > JobBounds.MaxImageLength)
        {
            return Fail<string>("image", $"is {image.Length} characters long; a container image reference is 1 to {JobBounds.MaxImageLength}: {Quote(image)}");
        }
        return image.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            ? Fail<string>("image", $"holds a space or a control character; a container image reference is one word: {Quote(image)}")
            : image;
    }

    /// <summary>Refuses fields the format does not have: a misspelled deadline must not silently mean "no deadline".</summary>
    private void RefuseUnknown(JsonElement obj, FieldSet known, string prefix)
    {
        foreach (var property in obj.EnumerateObject())
        {
            if (!known.Contains(property.Name))
            {
                var field = JobPaths.IsPlainName(property.Name) ? prefix + property.Name : prefix.TrimEnd('.');
                Error(field, $"'{StrictJson.Shorten(property.Name)}' is not a field of a job{known.Hint(property.Name)}");
            }
        }
    }

    private ResourceRequest? ReadResources()
    {
        var hasObject = e.TryGetProperty(Resources, out var r) && r.ValueKind != JsonValueKind.Null;
        var hasFlat = e.TryGetProperty("requiredResourceType", out var flat) && flat.ValueKind != JsonValueKind.Null;
        if (hasObject && r.ValueKind != JsonValueKind.Object)
        {
            return Fail<ResourceRequest>(Resources, $"must be an object like {{\"type\": \"gpu_large\"}}, found {Show(r)}");
        }
        if (hasObject && hasFlat)
        {
            return Fail<ResourceRequest>(Resources, $"give either {Resources} or requiredResourceType, not both");
        }
        ResourceRequest? request;
        if (hasObject)
        {
            request = r.ValueKind == JsonValueKind.Object
                ? ReadResourceObject(r)
                : Fail<ResourceRequest>(Resources, $"must be an object like {{\"type\": \"gpu_large\"}}, found {Show(r)}");
        }
        else if (hasFlat)
        {
            request = flat.ValueKind == JsonValueKind.String
                ? ReadClass("requiredResourceType", flat.GetString()!)
                : Fail<ResourceRequest>("requiredResourceType", $"must be a class name, found {Show(flat)}");
        }
        else
        {
            return Fail<ResourceRequest>(Resources,
                $"is required: a class ({string.Join(", ", ResourceClasses.Presets.Keys.Order(StringComparer.Ordinal))}), explicit needs, or instanceTypes");
        }
        if (request is not null && !resources.Satisfiable(request))
        {
            return Fail<ResourceRequest>(hasObject ? Resources : "requiredResourceType", $"no instance type of the catalog satisfies {request.Describe()}");
        }
        return request;
    }

    private ResourceRequest? ReadResourceObject(JsonElement r)
    {
        const string prefix = Resources + ".";
        RefuseUnknown(r, ResourceFields, prefix);
        var architecture = ReadArchitecture(r);
        // A null field is an absent one, as on the job itself: generated clients write every optional field.
        var forms = RequestForms.Where(f => Has(r, f)).ToList();
        var needs = ExplicitNeeds.Where(f => Has(r, f)).ToList();
        if (forms.Count + (needs.Count > 0 ? 1 : 0) > 1)
        {
            return Fail<ResourceRequest>(Resources, $"give one of type, instanceTypes or explicit needs; found {string.Join(", ", forms.Concat(needs))}");
        }
        if (Has(r, "type") && r.GetProperty("type") is var type)
        {
            var preset = type.ValueKind == JsonValueKind.String
                ? ReadClass(prefix + "type", type.GetString()!)
                : Fail<ResourceRequest>(prefix + "type", $"must be a class name, found {Show(type)}");
            return preset is null ? null : preset with { Architecture = architecture };
        }
        if (Has(r, "instanceTypes"))
        {
            return ReadInstanceTypes(r, prefix);
        }
        var vcpus = ReadInt(r, "vcpus", 1, 1, JobBounds.MaxVcpus, prefix);
        var memory = ReadNumber(r, "memoryGiB", required: false, min: 0, exclusiveMin: false, max: JobBounds.MaxMemoryGiB, prefix) ?? 0;
        var gpus = ReadInt(r, "gpus", 0, 0, JobBounds.MaxGpus, prefix);
        var model = ReadString(r, "gpuModel", prefix);
        if (model is not null && catalog is not null && !catalog.Entries.Any(c => string.Equals(c.Type.GpuModel, model, StringComparison.OrdinalIgnoreCase)))
        {
            var known = catalog.Entries.Select(c => c.Type.GpuModel).OfType<string>().Distinct().Order(StringComparer.Ordinal);
            return Fail<ResourceRequest>(prefix + "gpuModel", $"{Quote(model)} is not a GPU model of the catalog ({string.Join(", ", known)})");
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

    private static bool Has(JsonElement obj, string field) => obj.TryGetProperty(field, out var v) && v.ValueKind != JsonValueKind.Null;

    private ResourceRequest? ReadInstanceTypes(JsonElement r, string prefix)
    {
        var before = errors.Count;
        var names = ReadStrings(r, "instanceTypes", prefix);
        if (errors.Count > before)
        {
            return null;
        }
        if (names.IsEmpty)
        {
            return Fail<ResourceRequest>(prefix + "instanceTypes", "must name at least one instance type");
        }
        var unknown = catalog is null ? [] : names.Where(n => catalog.Find(n) is null).ToList();
        return unknown.Count > 0
            ? Fail<ResourceRequest>(prefix + "instanceTypes", $"{string.Join(", ", unknown.Take(5).Select(Quote))} not in the catalog")
            : ResourceRequest.ForInstanceTypes(names);
    }

    private string ReadArchitecture(JsonElement r)
    {
        var arch = ReadString(r, "architecture", Resources + ".");
        if (arch is null || Architectures.Names.Contains(arch))
        {
            return arch ?? Architectures.X86;
        }
        Error(Resources + ".architecture", $"{Quote(arch)} is not an architecture; choose one of {string.Join(", ", Architectures.Names)}");
        return Architectures.X86;
    }

    private ResourceRequest? ReadClass(string field, string name)
    {
        if (ResourceClasses.TryGet(name, out var preset))
        {
            return preset;
        }
        return Fail<ResourceRequest>(field,
            $"{Quote(name)} is not a resource class; known: {string.Join(", ", ResourceClasses.Presets.Keys.Order(StringComparer.Ordinal))}");
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
        var text = v.GetString()!;
        if (!TimeText.TryParse(text, now, out var t, out var why))
        {
            return Fail<DateTimeOffset?>(field, why!);
        }
        _timeTexts[field] = text;
        if (t > now + JobBounds.Horizon || t < now - JobBounds.Horizon)
        {
            return Fail<DateTimeOffset?>(field, $"{Shown(field, t)} is more than {JobBounds.Horizon.TotalDays:0} days from now ({Fmt(now)})");
        }
        return t;
    }

    /// <summary>The times must leave room for the work: a job that cannot finish by its deadline is refused at the door.</summary>
    private void CheckTimes(DateTimeOffset? earliest, DateTimeOffset? deadline, double? duration)
    {
        if (deadline is not { } d)
        {
            return;
        }
        if (earliest is { } s && d <= s)
        {
            Error("deadline", $"{Shown("deadline", d)} is not after earliestStart {Shown("earliestStart", s)}");
        }
        else if (d <= now)
        {
            Error("deadline", $"{Shown("deadline", d)} has already passed (now is {Fmt(now)})");
        }
        else if (duration is { } hours)
        {
            var start = earliest is { } e2 && e2 > now ? e2 : now;
            var room = (d - start).TotalHours;
            if (room < hours)
            {
                Error("deadline", FormattableString.Invariant(
                    $"{Shown("deadline", d)} leaves {room:0.##} h after the earliest start {Fmt(start)}, less than the job's estimatedDurationHours {hours:0.##}"));
            }
        }
    }

    private int ReadInt(JsonElement obj, string field, int fallback, int min, int max, string prefix = "")
    {
        if (!obj.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
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

    private double? ReadNumber(JsonElement obj, string field, bool required, double min, bool exclusiveMin, double max, string prefix = "")
    {
        if (!obj.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
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
            return Fail<double?>(prefix + field, $"must be {(exclusiveMin ? "greater than" : "at least")} {Num(min)}, found {Show(v)}");
        }
        return x > max ? Fail<double?>(prefix + field, $"must be at most {Num(max)}, found {Show(v)}") : x;
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

    private string? ReadString(JsonElement obj, string field, string prefix)
    {
        if (!obj.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return v.ValueKind == JsonValueKind.String ? v.GetString() : Fail<string>(prefix + field, $"must be a string, found {Show(v)}");
    }

    private ImmutableArray<string> ReadStrings(JsonElement obj, string field, string prefix)
    {
        if (!obj.TryGetProperty(field, out var v) || v.ValueKind == JsonValueKind.Null)
        {
            return [];
        }
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(x => x.ValueKind != JsonValueKind.String))
        {
            Error(prefix + field, $"must be an array of strings, found {Show(v)}");
            return [];
        }
        if (v.GetArrayLength() > JobBounds.MaxListLength)
        {
            Error(prefix + field, $"lists {v.GetArrayLength()} entries; at most {JobBounds.MaxListLength}");
            return [];
        }
        return [.. v.EnumerateArray().Select(x => x.GetString()!)];
    }

    /// <summary>A list of job ids (dependsOn): each a valid name, none twice.</summary>
    private ImmutableArray<string> ReadNames(JsonElement obj, string field, string prefix)
    {
        var names = ReadStrings(obj, field, prefix);
        foreach (var name in names)
        {
            if (JobBounds.NameProblem(name) is { } why)
            {
                Error(prefix + field, $"{Quote(name)}: {why}");
                return [];
            }
        }
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
        {
            Error(prefix + field, $"names a job more than once: {string.Join(", ", names.GroupBy(n => n, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => Quote(g.Key)))}");
            return [];
        }
        return names;
    }

    private T? Fail<T>(string field, string message)
    {
        Error(field, message);
        return default;
    }

    private void Error(string field, string message) => errors.Add(new InputError(_where, field, message) { Path = JobPaths.Of(index, field) });

    private static string Show(JsonElement v) => StrictJson.Shorten(v.GetRawText());

    /// <summary>A string value as a message shows it: JSON-escaped (control characters stay visible), quoted, cut short.</summary>
    private static string Quote(string text) =>
        "'" + StrictJson.Shorten(JsonEncodedText.Encode(text, System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping).ToString()) + "'";

    private static string Num(double x) => x.ToString(CultureInfo.InvariantCulture);

    /// <summary>A time as it resolved, and a relative one as the user wrote it too: <c>'+80m' (2026-11-24T13:20:00+00:00)</c>.</summary>
    private string Shown(string field, DateTimeOffset t) =>
        _timeTexts.TryGetValue(field, out var text) && text.Trim() is ['+' or '-', ..] ? $"{Quote(text.Trim())} ({Fmt(t)})" : Fmt(t);

    private static string Fmt(DateTimeOffset t) => t.ToString("yyyy-MM-ddTHH:mm:sszzz", CultureInfo.InvariantCulture);
}

/// <summary>The fields an object may hold, and what a client that sent another one probably meant.</summary>
internal sealed class FieldSet(params string[] names)
{
    private readonly HashSet<string> _names = new(names, StringComparer.Ordinal);

    public bool Contains(string name) => _names.Contains(name);

    /// <summary>"; did you mean 'deadline'?" for a near miss, a camelCase hint for snake_case, else nothing.</summary>
    public string Hint(string name)
    {
        if (name.Contains('_', StringComparison.Ordinal))
        {
            var camel = CamelCase(name);
            var known = _names.FirstOrDefault(n => string.Equals(n, camel, StringComparison.OrdinalIgnoreCase));
            return known is not null
                ? $"; fields are camelCase: did you mean '{known}'?"
                : "; fields are camelCase (jobId, estimatedDurationHours, ...), not snake_case";
        }
        var best = _names.Select(n => (Name: n, Distance: Distance(name.ToLowerInvariant(), n.ToLowerInvariant())))
            .OrderBy(x => x.Distance).ThenBy(x => x.Name, StringComparer.Ordinal).First();
        return best.Distance <= Math.Max(1, Math.Min(3, best.Name.Length / 3)) ? $"; did you mean '{best.Name}'?" : "";
    }

    private static string CamelCase(string snake)
    {
        var parts = snake.Split('_', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 0 ? snake : parts[0] + string.Concat(parts.Skip(1).Select(p => char.ToUpperInvariant(p[0]) + p[1..]));
    }

    /// <summary>Levenshtein distance, two rows; names are short.</summary>
    private static int Distance(string a, string b)
    {
        if (a.Length > 64)
        {
            return int.MaxValue;
        }
        var previous = Enumerable.Range(0, b.Length + 1).ToArray();
        var current = new int[b.Length + 1];
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
