using System.Text;
using CsCheck;

namespace Spotwise.Server.Tests.Intake;

/// <summary>
/// Ways to spoil a valid body, each saying what the server must answer: the JSON text (trailing commas, comments, deep
/// nesting, duplicate keys, non-JSON numbers), the encoding (invalid UTF-8 bytes, lone surrogate escapes, UTF-16),
/// values (wrong types, out-of-bound and NaN-like numbers, long and control-character strings, unsatisfiable resources),
/// names (unknown, misspelled, snake_case) and relations (bad and far times, past or tight deadlines, self-dependencies,
/// cycles, unknown prerequisites, another team). The target job is an index taken modulo the body's job count.
/// </summary>
public static class Mutations
{
    private const string Letters = "abcdefghijklmnopqrstuvwxyz";

    private static readonly string[] NumericFields = ["estimatedDurationHours", "priority", "restartOverheadMinutes", "checkpointIntervalMinutes", "inputDataSizeGB"];

    private static readonly string[] StringFields = ["jobId", "team", "command", "deadline", "earliestStart"];

    /// <summary>Bodies spoiled as JSON text or as bytes.</summary>
    public static Gen<BodyDraft> Malformed => Spoil(Gen.Frequency(
        (3, TrailingComma),
        (3, Comment),
        (2, DeepNesting),
        (4, InvalidUtf8),
        (4, LoneSurrogate),
        (3, DuplicateKey),
        (2, NonJsonNumber),
        (2, WholeBody)));

    /// <summary>Bodies with a value of the wrong type or out of bounds, or a required field missing.</summary>
    public static Gen<BodyDraft> Values => Spoil(Gen.Frequency(
        (4, WrongType),
        (5, OutOfBounds),
        (4, BadIdentifier),
        (1, LongCommand),
        (3, Unsatisfiable),
        (2, Missing)));

    /// <summary>Bodies with a field the intake does not know: made up, misplaced, misspelled, snake_case.</summary>
    public static Gen<BodyDraft> Names => Spoil(Gen.Frequency(
        (3, UnknownField),
        (4, Misspelled),
        (2, SnakeCase),
        (1, MisspelledResourceField)));

    /// <summary>Bodies with bad times or dependencies, or another team's name.</summary>
    public static Gen<BodyDraft> Relations => Spoil(Gen.Frequency(
        (5, BadTime),
        (3, PastOrTightDeadline),
        (2, SelfDependency),
        (3, Cycle),
        (2, UnknownDependency),
        (1, DuplicateId),
        (2, WrongTeam)));

    /// <summary>Bodies the contract leaves open (nulls, control characters in a command, a BOM): no 5xx, and bounds hold.</summary>
    public static Gen<BodyDraft> Open => Spoil(OpenCases);

    /// <summary>All of it, valid bodies included.</summary>
    public static Gen<BodyDraft> Any => Gen.Frequency(
        (3, ValidJobs.Body), (2, Malformed), (2, Values), (1, Names), (2, Relations), (1, Open));

    private static Gen<BodyDraft> Spoil(Gen<Func<BodyDraft, BodyDraft>> mutation) => Gen.Select(ValidJobs.Body, mutation, (body, m) => m(body));

    private static string Raw(string value) => JsonText.Quote(value);

    // ---- JSON text ----

    private static Gen<Func<BodyDraft, BodyDraft>> TrailingComma => Gen.Select(Gen.Int[0, 4], Gen.Int[0, 19], (where, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        return (where, b.Shape) switch
        {
            (1, not BodyShape.OneObject) => b.Refused("trailing comma in the array", "body") with { BodyEdit = text => text[..text.LastIndexOf(']')] + "," + text[text.LastIndexOf(']')..] },
            (4, BodyShape.Wrapped) => b.Refused("trailing comma in the wrapper", "body") with { BodyEdit = text => text[..^1] + ",}" },
            (2, _) => b.Edit(t, j => j.With("dependsOn", (j.Members.FirstOrDefault(m => m.Is("dependsOn"))?.Json ?? "[\"x\"]")[..^1] + ",]"))
                .Refused("trailing comma in dependsOn", "body", b.PathOf(t, "dependsOn")),
            (3, _) when b.Jobs[t].Has("resourceRequirements") => b.Edit(t, j => j.With("resourceRequirements", j.Members.First(m => m.Is("resourceRequirements")).Json[..^1] + ",}"))
                .Refused("trailing comma in resourceRequirements", "body", b.PathOf(t, "resourceRequirements")),
            _ => b.Refused("trailing comma in a job object", "body", b.PathOfJob(t)) with { EditJob = t, ObjectEdit = o => o[..^1] + ",}" },
        };
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> Comment => Gen.Select(Gen.OneOfConst("/* c */", "// c\n", "/**/", "# c\n"), Gen.Int[0, 3], Gen.Int[0, 19], (comment, where, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var description = $"comment {comment.Trim()} ";
        return where switch
        {
            0 => b.Refused(description + "before the body", "body") with { BodyEdit = text => comment + text },
            1 => b.Refused(description + "after the body", "body") with { BodyEdit = text => text + comment },
            2 => b.Refused(description + "inside a job", "body", b.PathOfJob(t)) with { EditJob = t, ObjectEdit = o => "{" + comment + o[1..] },
            _ => b.Edit(t, j => j.With("estimatedDurationHours", comment + "1"))
                .Refused(description + "before a value", "body", b.PathOf(t, "estimatedDurationHours")),
        };
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> DeepNesting => Gen.Select(Gen.OneOfConst(65, 129, 1_000, 10_000, 100_000), Gen.Int[0, 3], Gen.Bool, Gen.Int[0, 19], (depth, where, objects, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var nested = objects
            ? new StringBuilder(depth * 6).Insert(0, "{\"a\":", depth).Append('1').Append('}', depth).ToString()
            : new string('[', depth) + new string(']', depth);
        var description = $"{depth}-deep {(objects ? "objects" : "arrays")} ";
        return where switch
        {
            0 => b.Refused(description + "as the body", "body", "jobs[0]") with { WholeBody = "[" + nested + "]" },
            1 => b.Edit(t, j => j.With("resourceRequirements", "{\"type\":" + nested + "}").Without("requiredResourceType"))
                .Refused(description + "in resourceRequirements.type", "body", b.PathOf(t, "resourceRequirements")),
            2 => b.Edit(t, j => j.With("nested", nested)).Refused(description + "in an unknown field", "body", b.PathOf(t, "nested")),
            _ => b.Edit(t, j => j.With("dependsOn", "[" + nested + "]")).Refused(description + "in dependsOn", "body", b.PathOf(t, "dependsOn")),
        };
    }));

    /// <summary>Byte sequences that are not UTF-8: stray, overlong, surrogate, past U+10FFFF, truncated.</summary>
    private static readonly byte[][] BadBytes =
    [
        [0xFF], [0xFE], [0xC0, 0x80], [0xC1, 0xBF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0x80], [0xF5, 0x80, 0x80, 0x80],
        [0xF4, 0x90, 0x80, 0x80], [0xE0, 0x80, 0x80], [0xF0, 0x9F, 0x98],
    ];

    private static Gen<Func<BodyDraft, BodyDraft>> InvalidUtf8 => Gen.Select(Gen.Int[0, BadBytes.Length - 1], Gen.Int[0, 6], Gen.Int[0, 19], (which, fieldName, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var bytes = BadBytes[which];
        var description = $"invalid UTF-8 {Convert.ToHexString(bytes)} in ";
        var spliced = fieldName switch
        {
            0 => b.Edit(t, j => j.With("jobId", Raw(j.Id + BodyDraft.SpliceMarker))).Refused(description + "jobId", b.PathOf(t, "jobId")),
            1 => b.Edit(t, j => j.With("team", Raw("team" + BodyDraft.SpliceMarker))).Refused(description + "team", b.PathOf(t, "team")),
            2 => b.Edit(t, j => j.With("command", Raw("echo " + BodyDraft.SpliceMarker))).Refused(description + "command", b.PathOf(t, "command")),
            3 => b.Edit(t, j => j.With("deadline", Raw("+9" + BodyDraft.SpliceMarker + "h"))).Refused(description + "deadline", b.PathOf(t, "deadline")),
            4 => b.Edit(t, j => j.With("dependsOn", $"[{Raw("x" + BodyDraft.SpliceMarker)}]")).Refused(description + "dependsOn", b.PathOf(t, "dependsOn")),
            5 => b.Edit(t, j => j.Without("requiredResourceType").With("resourceRequirements", $"{{\"type\":{Raw("cpu_small" + BodyDraft.SpliceMarker)}}}"))
                .Refused(description + "resourceRequirements.type", b.PathOf(t, "resourceRequirements")),
            _ => b.Refused(description + "between tokens", "body", b.PathOfJob(t)) with { EditJob = t, ObjectEdit = o => "{" + BodyDraft.SpliceMarker + o[1..] },
        };
        return spliced with { SplicedBytes = bytes };
    }));

    private static readonly string[] Surrogates = ["\\ud800", "\\udfff", "\\udbff\\u0041", "\\ud800\\ud800", "\\udc00\\ud800", "a\\uDFFFb"];

    private static Gen<Func<BodyDraft, BodyDraft>> LoneSurrogate => Gen.Select(Gen.OneOfConst(Surrogates), Gen.Int[0, 7], Gen.Int[0, 19], (escape, fieldName, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var description = $"lone surrogate {escape} in ";
        // Written as escapes: the JSON text is valid UTF-8, the string it spells is not valid Unicode.
        string Spelled(string before) => "\"" + before + escape + "\"";
        return fieldName switch
        {
            0 => b.Edit(t, j => j.With("jobId", Spelled(j.Id))).Refused(description + "jobId", b.PathOf(t, "jobId")),
            1 => b.Edit(t, j => j.With("team", Spelled("team"))).Refused(description + "team", b.PathOf(t, "team")),
            2 => b.Edit(t, j => j.With("command", Spelled("echo "))).Refused(description + "command", b.PathOf(t, "command")),
            3 => b.Edit(t, j => j.With("deadline", Spelled("+9h"))).Refused(description + "deadline", b.PathOf(t, "deadline")),
            4 => b.Edit(t, j => j.With("earliestStart", Spelled("+1h"))).Refused(description + "earliestStart", b.PathOf(t, "earliestStart")),
            5 => b.Edit(t, j => j.With("dependsOn", "[" + Spelled("x") + "]")).Refused(description + "dependsOn", b.PathOf(t, "dependsOn")),
            6 => b.Edit(t, j => j.Without("requiredResourceType").With("resourceRequirements", "{\"type\":" + Spelled("cpu_small") + "}"))
                .Refused(description + "resourceRequirements.type", b.PathOf(t, "resourceRequirements")),
            _ => b.Edit(t, j => j.Without("requiredResourceType").With("resourceRequirements", "{\"instanceTypes\":[" + Spelled("m5.large") + "]}"))
                .Refused(description + "resourceRequirements.instanceTypes", b.PathOf(t, "resourceRequirements")),
        };
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> DuplicateKey => Gen.Select(Gen.Int[0, 31], Gen.Int[0, 2], Gen.Int[0, 19], (member, spelling, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        if (b.Shape == BodyShape.Wrapped && spelling == 2)
        {
            return b.Refused("duplicate key jobs in the wrapper", "body", "jobs") with { BodyEdit = text => text[..^1] + ",\"jobs\":[]}" };
        }
        var job = b.Jobs[t];
        var original = job.Members[member % job.Members.Count];
        var name = System.Text.Json.JsonSerializer.Deserialize<string>(original.RawName)!;
        // The same name spelled with an escape is the same key (RFC 8259 compares the strings, not their spellings).
        var rawName = spelling == 1 ? $"\"\\u{(int)name[0]:x4}{name[1..]}\"" : original.RawName;
        return b.Edit(t, j => j with { Members = j.Members.Add(new Member(rawName, original.Json)) })
            .Refused($"duplicate key {rawName}", b.PathOf(t, name), "body");
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> NonJsonNumber => Gen.Select(
        Gen.OneOfConst("NaN", "Infinity", "-Infinity", "01", "+1", ".5", "1.", "0x10", "1e", "--1", "1_000", "١"), Gen.OneOfConst(NumericFields), Gen.Int[0, 19],
        (token, fieldName, index) => (Func<BodyDraft, BodyDraft>)(b =>
        {
            var t = b.Target(index);
            return b.Edit(t, j => j.With(fieldName, token)).Refused($"non-JSON number {token} in {fieldName}", "body", b.PathOf(t, fieldName));
        }));

    private static readonly (string Text, string[] Keys)[] WholeBodies =
    [
        ("", ["body"]), (" ", ["body"]), ("null", ["body"]), ("42", ["body"]), ("\"x\"", ["body"]), ("true", ["body"]),
        ("[]", ["body"]), ("{\"jobs\":[]}", ["body"]), ("{\"jobs\":null}", ["body", "jobs"]), ("{\"jobs\":{}}", ["body", "jobs"]),
        ("{\"jobs\":\"x\"}", ["body", "jobs"]), ("[1,\"x\"]", ["body", "jobs[0]"]), ("[[]]", ["body", "jobs[0]"]), ("[null]", ["body", "jobs[0]"]),
        ("{}", ["body", "jobId"]), ("[{}]", ["body", "jobs[0]"]), ("{\"jobs\":[{}]}", ["body", "jobs[0]"]), ("\uFEFF", ["body"]),
        ("{\"jobId\":", ["body"]), ("[{\"jobId\":\"a\"", ["body", "jobs[0]"]), ("}", ["body"]), ("\"\\ud800\"", ["body"]),
    ];

    private static Gen<Func<BodyDraft, BodyDraft>> WholeBody => Gen.Frequency(
        (12, Gen.OneOfConst(WholeBodies)
            .Select(x => (Func<BodyDraft, BodyDraft>)(b => b.Refused($"whole body {x.Item1}", x.Item2) with { WholeBody = x.Item1 }))),
        (1, Gen.Const((Func<BodyDraft, BodyDraft>)(b => b.Refused("1,001 jobs", "body") with
        {
            WholeBody = "[" + string.Join(",", Enumerable.Range(0, 1_001).Select(i => $"{{\"jobId\":\"{BodyDraft.IdPrefix}-{i}\",\"estimatedDurationHours\":1,\"resourceRequirements\":{{\"type\":\"cpu_small\"}}}}")) + "]",
        }))),
        (1, Gen.Const((Func<BodyDraft, BodyDraft>)(b => b.Refused("the body in UTF-16", "body") with
        {
            WholeBody = BodyDraft.SpliceMarker,
            SplicedBytes = Encoding.Unicode.GetBytes(b.RenderText("utf16xx")),
        }))));

    // ---- values ----

    private static readonly (string Field, string[] Values)[] WrongTypes =
    [
        .. NumericFields.Select(f => (f, new[] { "\"5\"", "true", "false", "{}", "[]", "[1]", "\"NaN\"", "\"1e308\"", "\"\"" })),
        .. StringFields.Select(f => (f, new[] { "5", "true", "{}", "[\"a\"]", "1e308", "-0" })),
        ("checkpointable", ["\"true\"", "1", "0", "\"yes\"", "[]", "{}"]),
        ("dependsOn", ["\"x\"", "5", "{}", "[1]", "[null]", "[[]]", "[true]", "[{}]"]),
        ("resourceRequirements", ["\"cpu_small\"", "5", "[]", "true", "[{\"type\":\"cpu_small\"}]"]),
        ("requiredResourceType", ["5", "{}", "[\"cpu_small\"]", "true"]),
    ];

    private static Gen<Func<BodyDraft, BodyDraft>> WrongType => Gen.Select(Gen.Int[0, WrongTypes.Length - 1], Gen.Int[0, 9], Gen.Int[0, 19], (fieldName, value, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var (name, values) = WrongTypes[fieldName];
        var json = values[value % values.Length];
        var edited = name == "requiredResourceType" ? b.Edit(t, j => j.Without("resourceRequirements").With(name, json)) : b.Edit(t, j => j.With(name, json));
        return edited.Refused($"{name}: {json}", edited.PathOf(t, name));
    }));

    private static readonly (string Field, string[] Values)[] Bounds =
    [
        ("estimatedDurationHours", ["0", "-0", "-1", "8760.01", "8761", "1e15", "1e308", "-1e308", "1e400", "-1e-400", "123456789012345678901234567890"]),
        ("priority", ["0", "11", "-1", "5.5", "1e308", "2147483648", "-2147483649", "10.000001", "1e400"]),
        ("restartOverheadMinutes", ["-1", "1440.5", "1441", "1e308", "-1e-9", "1e400"]),
        ("checkpointIntervalMinutes", ["0", "-1", "10080.5", "10081", "1e308", "-0"]),
        ("inputDataSizeGB", ["-1", "1000000.5", "1e7", "1e308", "-1e-9"]),
    ];

    private static Gen<Func<BodyDraft, BodyDraft>> OutOfBounds => Gen.Select(Gen.Int[0, Bounds.Length - 1], Gen.Int[0, 10], Gen.Int[0, 19], (fieldName, value, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var (name, values) = Bounds[fieldName];
        var json = values[value % values.Length];
        return b.Edit(t, j => j.With(name, json)).Refused($"{name}: {json}", b.PathOf(t, name));
    }));

    /// <summary>Strings that are not 1..128 of [A-Za-z0-9._:-]; ids keep the body's prefix so they stay unique if wrongly accepted.</summary>
    private static readonly string[] BadNames =
    [
        "", "a b", "a/b", "a#b", "é", "\u0000", "a\u0001b", "\n", "\t", "\u007f", "x\u200b", "😀", "a\\b", "a\"b", " lead", "trail ", "ünïcode",
        "a,b", "a;b", "a*b", "<script>", "a%20b", "ａ",
    ];

    private static Gen<Func<BodyDraft, BodyDraft>> BadIdentifier => Gen.Select(Gen.Int[0, BadNames.Length + 2], Gen.Bool, Gen.Int[0, 19], (which, inTeam, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var fieldName = inTeam ? "team" : "jobId";
        var bad = which switch
        {
            _ when which < BadNames.Length => BadNames[which],
            _ when which == BadNames.Length => new string('a', 129 - (inTeam ? 0 : BodyDraft.PrefixWidth + 1)),
            _ => new string('b', 100_000),
        };
        var value = inTeam || bad.Length == 0 ? bad : $"{BodyDraft.IdPrefix}-{bad}";
        return b.Edit(t, j => j.With(fieldName, Raw(value))).Refused($"{fieldName} {Show(value)}", b.PathOf(t, fieldName));
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> LongCommand => Gen.Select(Gen.Int[65_537, 200_000], Gen.Int[0, 19], (length, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        return b.Edit(t, j => j.With("command", Raw(new string('x', length)))).Refused($"a {length}-character command", b.PathOf(t, "command"));
    }));

    private static readonly string[] UnsatisfiableResources =
    [
        "{\"type\":\"cpu_huge\"}", "{\"type\":\"\"}", "{\"type\":\"cpu-small\"}", "{\"vcpus\":100000}", "{\"vcpus\":193}", "{\"memoryGiB\":5000}",
        "{\"gpus\":17}", "{\"gpus\":1,\"gpuModel\":\"Z9000\"}", "{\"gpus\":1,\"gpuModel\":\"H100\",\"architecture\":\"arm64\"}",
        "{\"type\":\"gpu_large\",\"architecture\":\"arm64\"}", "{\"instanceTypes\":[]}", "{\"instanceTypes\":[\"nope.large\"]}",
        "{\"instanceTypes\":\"p3.2xlarge\"}", "{\"architecture\":\"sparc\",\"type\":\"cpu_small\"}", "{\"vcpus\":-1}", "{\"vcpus\":0}",
        "{\"memoryGiB\":-1}", "{\"gpus\":-1}", "{\"vcpus\":1.5}", "{\"vcpus\":\"8\"}", "{\"memoryGiB\":1e308}", "{\"vcpus\":1e308}",
        "{\"gpus\":8,\"vcpus\":192,\"memoryGiB\":2049}",
    ];

    private static Gen<Func<BodyDraft, BodyDraft>> Unsatisfiable => Gen.Select(Gen.Int[0, UnsatisfiableResources.Length], Gen.Int[0, 19], (which, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        if (which == UnsatisfiableResources.Length)
        {
            return b.Edit(t, j => j.Without("resourceRequirements").With("requiredResourceType", "\"cpu_huge\""))
                .Refused("requiredResourceType cpu_huge", b.PathOf(t, "requiredResourceType"));
        }
        var json = UnsatisfiableResources[which];
        return b.Edit(t, j => j.Without("requiredResourceType").With("resourceRequirements", json)).Refused($"resourceRequirements {json}", b.PathOf(t, "resourceRequirements"));
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> Missing => Gen.Select(Gen.Int[0, 5], Gen.Int[0, 19], (which, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        return which switch
        {
            0 => b.Edit(t, j => j.Without("jobId")).Refused("no jobId", b.PathOf(t, "jobId")),
            1 => b.Edit(t, j => j.With("jobId", "null")).Refused("jobId null", b.PathOf(t, "jobId")),
            2 => b.Edit(t, j => j.Without("estimatedDurationHours")).Refused("no estimatedDurationHours", b.PathOf(t, "estimatedDurationHours")),
            3 => b.Edit(t, j => j.With("estimatedDurationHours", "null")).Refused("estimatedDurationHours null", b.PathOf(t, "estimatedDurationHours")),
            4 => b.Edit(t, j => j.Without("resourceRequirements").Without("requiredResourceType"))
                .Refused("no resources", b.PathOf(t, "resourceRequirements"), b.PathOf(t, "requiredResourceType")),
            _ => b.Edit(t, j => j with { Members = [] }).Refused("an empty job object", b.PathOf(t, "jobId")),
        };
    }));

    // ---- names ----

    private static Gen<Func<BodyDraft, BodyDraft>> UnknownField => Gen.Select(
        Gen.Select(Gen.Char[Letters], Gen.Char["abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"].Array[2, 12], (first, rest) => first + new string(rest)),
        Gen.OneOfConst("1", "\"x\"", "null", "{}", "[]", "true"), Gen.Int[0, 3], Gen.Int[0, 19],
        (generated, value, where, index) => (Func<BodyDraft, BodyDraft>)(b =>
        {
            var t = b.Target(index);
            var name = ValidJobs.Fields.Contains(generated) || ValidJobs.ResourceFields.Contains(generated) || generated == "jobs" ? "x" + generated : generated;
            return where switch
            {
                0 => b.Edit(t, j => j.With(name, value)).Refused($"unknown field {name}", b.PathOf(t, name)),
                1 => b.Edit(t, j => j.Without("requiredResourceType").With("resourceRequirements", $"{{\"type\":\"cpu_small\",{Raw(name)}:{value}}}"))
                    .Refused($"unknown field resourceRequirements.{name}", b.PathOf(t, "resourceRequirements." + name)),
                2 when b.Shape == BodyShape.Wrapped => b.Refused($"unknown field {name} beside jobs", name, "body") with { BodyEdit = text => text[..^1] + $",{Raw(name)}:{value}}}" },
                // A field of the other level, where it means nothing.
                _ => b.Edit(t, j => j.With("vcpus", "4")).Refused("vcpus outside resourceRequirements", b.PathOf(t, "vcpus")),
            };
        }));

    private static readonly string[] TopFields = [.. ValidJobs.Fields.Where(f => f != "requiredResourceType")];

    private static Gen<Func<BodyDraft, BodyDraft>> Misspelled => Gen.Select(Gen.OneOfConst(TopFields), Gen.Int[0, 5], Gen.Int[0, 100], Gen.Char[Letters], Gen.Int[0, 19],
        (fieldName, edit, position, letter, index) => (Func<BodyDraft, BodyDraft>)(b =>
        {
            var t = b.Target(index);
            var at = position % fieldName.Length;
            var spelled = edit switch
            {
                0 => fieldName.Remove(at, 1),
                1 => fieldName[..at] + (fieldName[at] == letter ? (char)(letter == 'z' ? 'y' : letter + 1) : letter) + fieldName[(at + 1)..],
                2 => fieldName.Insert(at, letter.ToString()),
                3 => at + 1 < fieldName.Length ? fieldName[..at] + fieldName[at + 1] + fieldName[at] + fieldName[(at + 2)..] : fieldName + letter,
                4 => char.ToUpperInvariant(fieldName[0]) + fieldName[1..],
                _ => fieldName.All(char.IsLower) ? fieldName + letter : fieldName.ToLowerInvariant(),
            };
            if (spelled == fieldName || ValidJobs.Fields.Contains(spelled))
            {
                spelled = fieldName + "x";
            }
            var json = b.Jobs[t].Members.FirstOrDefault(m => m.Is(fieldName))?.Json ?? (fieldName == "dependsOn" ? "[]" : "\"+6h\"");
            var spoiled = b.Edit(t, j => j.Without(fieldName).With(spelled, json)).Refused($"{fieldName} misspelled {spelled}", b.PathOf(t, spelled));
            // A one-letter slip in a long name must come with the suggestion; swaps and other case tricks need only be refused.
            return SingleEdit(fieldName, spelled) && fieldName.Length >= 6 ? spoiled with { MessageContains = fieldName } : spoiled;
        }));

    private static bool SingleEdit(string a, string b) =>
        (a.Length == b.Length && a.Zip(b).Count(p => p.First != p.Second) == 1)
        || (Math.Abs(a.Length - b.Length) == 1 && Enumerable.Range(0, Math.Max(a.Length, b.Length)).Any(i => a.Length > b.Length ? a.Remove(i, 1) == b : i < b.Length && b.Remove(i, 1) == a));

    private static readonly (string Field, string Snake)[] SnakeNames =
    [
        ("jobId", "job_id"), ("estimatedDurationHours", "estimated_duration_hours"), ("dependsOn", "depends_on"), ("earliestStart", "earliest_start"),
        ("restartOverheadMinutes", "restart_overhead_minutes"), ("checkpointIntervalMinutes", "checkpoint_interval_minutes"),
        ("inputDataSizeGB", "input_data_size_gb"), ("resourceRequirements", "resource_requirements"),
    ];

    private static Gen<Func<BodyDraft, BodyDraft>> SnakeCase => Gen.Select(Gen.OneOfConst(SnakeNames), Gen.Int[0, 19], (names, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var json = b.Jobs[t].Members.FirstOrDefault(m => m.Is(names.Field))?.Json ?? (names.Field == "dependsOn" ? "[]" : "1");
        return b.Edit(t, j => j.Without(names.Field).With(names.Snake, json)).Refused($"snake_case {names.Snake}", b.PathOf(t, names.Snake)) with { MessageContains = names.Field };
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> MisspelledResourceField => Gen.Select(
        Gen.OneOfConst(("vcpu", "vcpus", true), ("memoryGB", "memoryGiB", true), ("gpu_model", "gpuModel", true), ("instance_types", "instanceTypes", true),
            ("tpye", "type", false), ("arch", "architecture", false), ("GPUs", "gpus", false)),
        Gen.Int[0, 19],
        (names, index) => (Func<BodyDraft, BodyDraft>)(b =>
        {
            var t = b.Target(index);
            var json = names.Item2 switch { "instanceTypes" => "[\"m5.large\"]", "type" => "\"cpu_small\"", "gpuModel" => "\"T4\"", "architecture" => "\"any\"", _ => "2" };
            var spoiled = b.Edit(t, j => j.Without("requiredResourceType").With("resourceRequirements", $"{{{Raw(names.Item1)}:{json}}}"))
                .Refused($"resourceRequirements.{names.Item1}", b.PathOf(t, "resourceRequirements." + names.Item1));
            return names.Item3 ? spoiled with { MessageContains = names.Item2 } : spoiled;
        }));

    // ---- relations ----

    private static readonly string[] BadTimes =
    [
        "+4000000d", "+99999999999999999999h", "+1e5h", "+١h", "+٣٠m", "+２h", "+2x", "+", "+h", "+-1h", "++1h", "tomorrow", "", " ",
        "2026-13-01T00:00:00Z", "2026-03-02T08:00:00", "9999-12-31T23:59:59Z", "+367d", "+8785h", "+600000m", "10000-01-01T00:00:00Z",
        "2027-03-04T08:00:00Z", "+1.5e3d", "+0x10h", "+1 h", "+ 1h", "+٣d", "+1d\u0000", "+10000000000000m", "+1e308h", "2026-03-02T08:00:00+25:00",
    ];

    private static Gen<Func<BodyDraft, BodyDraft>> BadTime => Gen.Select(Gen.OneOfConst(BadTimes), Gen.Bool, Gen.Int[0, 19], (text, inDeadline, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var fieldName = inDeadline ? "deadline" : "earliestStart";
        return b.Edit(t, j => j.With(fieldName, Raw(text))).Refused($"{fieldName} {Show(text)}", b.PathOf(t, fieldName));
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> PastOrTightDeadline => Gen.Select(
        Gen.OneOfConst("-1h", "-1m", "2020-01-01T00:00:00Z", "2026-03-02T08:00:00+14:00", "2026-03-02T07:59:59Z", "0001-01-01T00:00:00Z", "tight", "before-start"),
        Gen.Int[0, 19],
        (text, index) => (Func<BodyDraft, BodyDraft>)(b =>
        {
            var t = b.Target(index);
            var ready = b.Jobs[t].Expected.EarliestMinutes ?? 0;
            return text switch
            {
                // One minute short of the two hours the job needs after it may start.
                "tight" => b.Edit(t, j => j.With("estimatedDurationHours", "2").With("deadline", Raw($"+{ready + 119}m")))
                    .Refused("deadline a minute too tight", b.PathOf(t, "deadline")),
                "before-start" => b.Edit(t, j => j.With("earliestStart", Raw("+10h")).With("deadline", Raw("+5h")))
                    .Refused("deadline before earliestStart", b.PathOf(t, "deadline")),
                _ => b.Edit(t, j => j.With("deadline", Raw(text))).Refused($"deadline {text} is past", b.PathOf(t, "deadline")),
            };
        }));

    private static Gen<Func<BodyDraft, BodyDraft>> SelfDependency => Gen.Int[0, 19].Select(index => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        return b.Edit(t, j => j.With("dependsOn", JsonText.Strings([.. Dependencies(j), j.Id]))).Refused("self-dependency", b.PathOf(t, "dependsOn"));
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> Cycle => Gen.Select(Gen.Int[2, 6], Gen.Int[0, 19], (length, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        if (b.Jobs.Count < 2)
        {
            return b.Edit(0, j => j.With("dependsOn", JsonText.Strings([j.Id]))).Refused("self-dependency", b.PathOf(0, "dependsOn"));
        }
        var members = Enumerable.Range(0, Math.Min(length, b.Jobs.Count)).Select(k => (index + k) % b.Jobs.Count).ToArray();
        var spoiled = b;
        for (var k = 0; k < members.Length; k++)
        {
            var next = b.Jobs[members[(k + 1) % members.Length]].Id;
            spoiled = spoiled.Edit(members[k], j => j.With("dependsOn", JsonText.Strings([.. Dependencies(j), next])));
        }
        return spoiled.Refused($"a {members.Length}-job cycle", [.. members.Select(m => b.PathOf(m, "dependsOn"))]);
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> UnknownDependency => Gen.Select(Gen.OneOfConst("nope", "", "-", "x"), Gen.Int[0, 19], (tail, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var unknown = $"{BodyDraft.IdPrefix}-unknown-{tail}";
        return b.Edit(t, j => j.With("dependsOn", JsonText.Strings([.. Dependencies(j), unknown]))).Refused("an unknown prerequisite", b.PathOf(t, "dependsOn"));
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> DuplicateId => Gen.Select(Gen.Int[0, 19], Gen.Int[0, 18], (index, offset) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        if (b.Jobs.Count < 2)
        {
            return b.Edit(0, j => j.With("jobId", "\"\"")).Refused("jobId empty", b.PathOf(0, "jobId"));
        }
        var t = b.Target(index);
        var u = (t + 1 + (offset % (b.Jobs.Count - 1))) % b.Jobs.Count;
        return b.Edit(u, j => j.With("jobId", Raw(b.Jobs[t].Id))).Refused("one id for two jobs of the batch", b.PathOf(t, "jobId"), b.PathOf(u, "jobId"));
    }));

    private static Gen<Func<BodyDraft, BodyDraft>> WrongTeam => Gen.Select(Gen.Int[0, 3], Gen.Int[0, 19], (which, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var other = ValidJobs.Keys.First(k => k.Team != b.Team).Team;
        var team = which switch { 0 => other, 1 => b.Team + " ", 2 => b.Team.ToUpperInvariant(), _ => "default" };
        return b.Edit(t, j => j.With("team", Raw(team))).Refused($"team {Show(team)} with the key of {b.Team}", b.PathOf(t, "team"));
    }));

    // ---- open ----

    private static readonly string[] OptionalFields = ["priority", "earliestStart", "deadline", "inputDataSizeGB", "checkpointable", "checkpointIntervalMinutes", "restartOverheadMinutes", "dependsOn", "team", "command"];

    private static Gen<Func<BodyDraft, BodyDraft>> OpenCases => Gen.Select(Gen.Int[0, 14], Gen.OneOfConst(OptionalFields), Gen.Int[0, 19], (which, fieldName, index) => (Func<BodyDraft, BodyDraft>)(b =>
    {
        var t = b.Target(index);
        var open = b with { Verdict = Verdict.Either, ExpectedStatus = 0 };
        return which switch
        {
            0 => open.Edit(t, j => j.With(fieldName, "null")) with { Description = $"{fieldName}: null" },
            1 => open.Edit(t, j => j.With("command", Raw("a\u0000b"))) with { Description = "NUL in command" },
            2 => open.Edit(t, j => j.With("command", Raw("\u001b[31mred\u001b[0m\r\n"))) with { Description = "control characters in command" },
            3 => open.Edit(t, j => j.With("command", Raw(string.Concat(Enumerable.Repeat("😀", 20_000))))) with { Description = "80,000 UTF-8 bytes of emoji in command" },
            4 => open.Edit(t, j => j.With("priority", "5.0")) with { Description = "priority 5.0" },
            5 => open.Edit(t, j => j.With("restartOverheadMinutes", "-0")) with { Description = "restartOverheadMinutes -0" },
            6 => open with { Description = "a UTF-8 BOM", BodyEdit = text => "\uFEFF" + text },
            7 => open.Edit(t, j => j.With("command", "\"\"")) with { Description = "empty command" },
            8 => open.Edit(t, j => j.With("earliestStart", "\"-1h\"")) with { Description = "earliestStart an hour ago" },
            9 => open.Edit(t, j => j.With("priority", "1e1")) with { Description = "priority 1e1" },
            10 => open.Edit(t, j => j.With("estimatedDurationHours", "1e-400")) with { Description = "estimatedDurationHours 1e-400 (under a double's least)" },
            11 => open.Edit(t, j => j.Without("requiredResourceType").With("resourceRequirements", "{\"type\":\"CPU_SMALL\"}")) with { Description = "a class name in capitals" },
            12 => open.Edit(t, j => j.Without("requiredResourceType").With("resourceRequirements", "{}")) with { Description = "resourceRequirements {}" },
            13 => open.Edit(t, j => j.With("checkpointable", "false").With("checkpointIntervalMinutes", "30")) with { Description = "an interval without checkpointing" },
            _ => open.Edit(t, j => j.With("resourceRequirements", "{\"type\":\"cpu_small\"}").With("requiredResourceType", "\"gpu_large\"")) with { Description = "both resource forms" },
        };
    }));

    private static string[] Dependencies(JobDraft job) =>
        job.Members.FirstOrDefault(m => m.Is("dependsOn")) is { } member
            ? System.Text.Json.JsonSerializer.Deserialize<string[]>(member.Json) ?? []
            : [];

    private static string Show(string value) => value.Length > 40 ? $"{value.Length} chars" : JsonText.Quote(value);
}
