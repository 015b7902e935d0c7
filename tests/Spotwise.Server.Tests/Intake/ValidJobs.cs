using System.Collections.Immutable;
using System.Globalization;
using CsCheck;
using Spotwise.Core;

namespace Spotwise.Server.Tests.Intake;

/// <summary>
/// The grammar of valid request bodies: every field, every resource form (a class with or without an architecture, explicit
/// needs cut from a real catalog type, instance type lists, the flat class name), relative and absolute times, dependencies
/// within the body (in any order), 1..20 jobs, either team's key. Every body it writes must be accepted.
/// </summary>
public static class ValidJobs
{
    public const int MinutesPerDay = 24 * 60;

    /// <summary>Times stay inside a year (the intake refuses anything past 366 days).</summary>
    public const int HorizonMinutes = 365 * MinutesPerDay;

    public const string IdChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-";

    public static Catalog Catalog { get; } = ShippedCatalog.Load();

    public static readonly (string Key, string Team)[] Keys = [("k1", "team-a"), ("k2", "team-b")];

    /// <summary>The fields a job object may have, as the wire spells them.</summary>
    public static readonly string[] Fields =
    [
        "jobId", "priority", "earliestStart", "deadline", "estimatedDurationHours", "resourceRequirements", "requiredResourceType",
        "inputDataSizeGB", "checkpointable", "checkpointIntervalMinutes", "restartOverheadMinutes", "dependsOn", "team", "command",
    ];

    /// <summary>The members of an explicit resource request.</summary>
    public static readonly string[] ResourceFields = ["type", "instanceTypes", "vcpus", "memoryGiB", "gpus", "gpuModel", "architecture"];

    private static readonly string[] CommandWords = ["python", "train.py", "--epochs", "3", "&&", "echo", "done", "|", "tee", "log.txt", "é", "数据", "😀", "'quoted'", "\"dq\"", "\\\\", "$HOME", "a=b"];

    /// <summary>One job's choices, before ids and dependencies are known.</summary>
    private sealed record Spec(
        string IdTail, bool LongestId, double DurationHours, string DurationText, int? Priority,
        int? EarliestMinutes, int EarliestFormat, int? SlackMinutes, int DeadlineFormat,
        (string Name, string Json) Resources, string? InputGb, bool? Checkpointable, string? Interval, string? Overhead,
        bool WithTeam, string? Command, int DependencyMask, int Order, bool EscapeIdChar);

    private static readonly Gen<string> IdTail = Gen.Char[IdChars].Array[0, 16].Select(c => new string(c));

    /// <summary>Quarter hours render exactly in binary, so a deadline with no slack is exactly the duration.</summary>
    private static readonly Gen<(double Hours, string Text)> Duration = Gen.Frequency(
        (6, Gen.Int[1, 48 * 4].Select(QuarterHours)),
        (2, Gen.Int[1, 8760 * 4].Select(QuarterHours)),
        (1, Gen.Const(QuarterHours(8760 * 4))),
        (1, Gen.OneOfConst((0.001, "0.001"), (1.7, "1.7"), (2.5, "25e-1"), (2.5, "2.50"), (3, "3.0"), (0.1, "1E-1"))));

    private static (double, string) QuarterHours(int quarters)
    {
        var hours = quarters / 4.0;
        return (hours, quarters % 3 == 0 ? $"{quarters * 25}e-2" : JsonText.Number(hours));
    }

    private static readonly Gen<int?> Earliest = Gen.Frequency(
        (3, Gen.Const((int?)null)),
        (3, Gen.Int[0, 3 * MinutesPerDay].Select(m => (int?)m)),
        (1, Gen.Int[0, 300 * MinutesPerDay].Select(m => (int?)m)));

    private static readonly Gen<int?> Slack = Gen.Frequency(
        (3, Gen.Const((int?)null)),
        (1, Gen.Const((int?)0)),
        (4, Gen.Int[1, 2 * MinutesPerDay].Select(m => (int?)m)),
        (1, Gen.Int[1, 60 * MinutesPerDay].Select(m => (int?)m)));

    private static readonly string[] ClassNames = [.. ResourceClasses.Presets.Keys.Order(StringComparer.Ordinal)];

    /// <summary>Class and architecture pairs some catalog type satisfies (gpu_large has no arm64 type).</summary>
    private static readonly (string Class, string? Architecture)[] SatisfiableClasses =
    [
        .. ClassNames.SelectMany(c => new string?[] { null, Architectures.X86, Architectures.Arm, Architectures.Any }.Select(a => (c, a)))
            .Where(x => Catalog.Entries.Any(e => (ResourceClasses.Presets[x.c] with { Architecture = x.a ?? Architectures.X86 }).IsSatisfiedBy(e.Type))),
    ];

    private static readonly Gen<(string, string)> ClassResource = Gen.OneOfConst(SatisfiableClasses).Select(x => ("resourceRequirements",
        x.Architecture is null ? $"{{\"type\":{JsonText.Quote(x.Class)}}}" : $"{{\"type\":{JsonText.Quote(x.Class)},\"architecture\":{JsonText.Quote(x.Architecture)}}}"));

    private static readonly Gen<(string, string)> FlatClass = Gen.OneOfConst(ClassNames).Select(c => ("requiredResourceType", JsonText.Quote(c)));

    private static readonly Gen<(string, string)> InstanceTypes = Gen.Int[0, Catalog.Entries.Length - 1].Array[1, 3]
        .Select(ix => ("resourceRequirements", $"{{\"instanceTypes\":{JsonText.Strings(ix.Select(i => Catalog.Entries[i].Type.Name).Distinct())}}}"));

    /// <summary>Needs no larger than one real type's, so that type satisfies them.</summary>
    private static readonly Gen<(string, string)> ExplicitNeeds = Gen.Select(
        Gen.Int[0, Catalog.Entries.Length - 1], Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.Int[0, 1000], Gen.Int[0, 31],
        (entry, v, m, g, flags) =>
        {
            var type = Catalog.Entries[entry].Type;
            var members = new List<string>();
            if ((flags & 1) != 0)
            {
                members.Add($"\"vcpus\":{1 + (v % type.Vcpus)}");
            }
            if ((flags & 2) != 0)
            {
                members.Add($"\"memoryGiB\":{JsonText.Number(Math.Floor(type.MemoryGiB * m / 1000.0 * 2) / 2)}");
            }
            if (type.Gpus > 0 && (flags & 4) != 0)
            {
                members.Add($"\"gpus\":{g % (type.Gpus + 1)}");
            }
            if (type.GpuModel is { } model && (flags & 8) != 0)
            {
                members.Add($"\"gpuModel\":{JsonText.Quote(model)}");
            }
            if (type.Architecture == Architectures.Arm || (flags & 16) != 0)
            {
                members.Add($"\"architecture\":{JsonText.Quote((flags & 16) != 0 ? Architectures.Any : type.Architecture)}");
            }
            // Needs that say nothing ({}) are left to Mutations.Open: the contract does not say what they mean.
            return ("resourceRequirements", "{" + string.Join(",", members.Count > 0 ? members : [$"\"vcpus\":{1 + (v % type.Vcpus)}"]) + "}");
        });

    private static readonly Gen<(string, string)> Resources = Gen.Frequency((5, ClassResource), (1, FlatClass), (2, InstanceTypes), (3, ExplicitNeeds));

    private static readonly Gen<string?> InputGb = Gen.Frequency(
        (4, Gen.Const((string?)null)),
        (3, Gen.Int[0, 100_000].Select(n => (string?)JsonText.Number(n / 10.0))),
        (1, Gen.OneOfConst<string?>("0", "1e6", "1000000", "999999.99")));

    private static readonly Gen<string?> Interval = Gen.Frequency(
        (3, Gen.Const((string?)null)),
        (3, Gen.Int[1, 10080].Select(n => (string?)n.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.OneOfConst<string?>("0.5", "10080", "1e-3")));

    private static readonly Gen<string?> Overhead = Gen.Frequency(
        (3, Gen.Const((string?)null)),
        (3, Gen.Int[0, 1440].Select(n => (string?)n.ToString(CultureInfo.InvariantCulture))),
        (1, Gen.OneOfConst<string?>("0", "1440", "0.25", "14.4e1")));

    private static readonly Gen<string?> Command = Gen.Frequency(
        (3, Gen.Const((string?)null)),
        (12, Gen.OneOfConst(CommandWords).Array[1, 12].Select(w => (string?)string.Join(' ', w))),
        (1, Gen.Int[1, 60_000].Select(n => (string?)new string('x', n))));

    private static readonly Gen<Spec> OneSpec = Gen.Select(
        Gen.Select(IdTail, Gen.Int[0, 15].Select(n => n == 0), Duration, Gen.Int[1, 10].Nullable(0.4)),
        Gen.Select(Earliest, Gen.Int[0, 5], Slack, Gen.Int[0, 5]),
        Gen.Select(Resources, InputGb, Gen.Bool.Nullable(0.5), Interval, Overhead),
        Gen.Select(Gen.Bool, Command, Gen.Select(Gen.Int[0, 255], Gen.Int[0, 255], (a, b) => a & b), Gen.Int[0, 3], Gen.Int[0, 7]),
        (a, b, c, d) => new Spec(a.Item1, a.Item2, a.Item3.Hours, a.Item3.Text, a.Item4,
            b.Item1, b.Item2, b.Item3, b.Item4,
            c.Item1, c.Item2, c.Item3, c.Item4, c.Item5,
            d.Item1, d.Item2, d.Item3, d.Item4, d.Item5 == 0));

    /// <summary>1..20 valid jobs for one key, in one of the three body shapes (one object holds one job).</summary>
    /// <summary>1..20 jobs, mostly few: big batches cost the suite time, small ones find the same faults.</summary>
    private static readonly Gen<Spec[]> Specs = Gen.Frequency((3, Gen.Int[1, 3]), (2, Gen.Int[4, 10]), (1, Gen.Int[11, 20])).SelectMany(n => OneSpec.Array[n]);

    public static Gen<BodyDraft> Body { get; } = Gen.Select(
        Gen.Int[0, 1], Specs, Gen.Int[0, 2], Gen.Int[0, int.MaxValue],
        (keyIndex, specs, shapeIndex, shuffle) =>
        {
            var shape = specs.Length == 1 && shapeIndex == 0 ? BodyShape.OneObject : shapeIndex == 2 ? BodyShape.Wrapped : BodyShape.Array;
            var (key, team) = Keys[keyIndex];
            var ids = specs.Select((s, i) => JobId(s, i)).ToArray();
            var jobs = specs.Select((s, i) => Draft(s, ids[i], team, [.. Enumerable.Range(0, i).Where(j => (s.DependencyMask & (1 << (j % 8))) != 0 && j >= i - 8).Select(j => ids[j])])).ToList();
            // Dependencies point at earlier jobs; shuffling puts some prerequisites after their dependants, which is valid.
            var random = new Random(shuffle);
            var ordered = shuffle % 2 == 0 ? jobs : [.. jobs.OrderBy(_ => random.Next())];
            return new BodyDraft(key, team, shape, [.. ordered]) { ExpectedStatus = shape == BodyShape.OneObject ? 201 : 200 };
        });

    /// <summary>Fixed-width prefix, the job's index (ids are unique in the body), a tail; sometimes exactly 128 characters.</summary>
    private static string JobId(Spec s, int index)
    {
        var id = $"{BodyDraft.IdPrefix}-{index}-{s.IdTail}";
        var length = id.Length - BodyDraft.IdPrefix.Length + BodyDraft.PrefixWidth;
        return s.LongestId && length < 128 ? id + new string('z', 128 - length) : id;
    }

    private static JobDraft Draft(Spec s, string id, string team, ImmutableArray<string> dependsOn)
    {
        var ready = s.EarliestMinutes ?? 0;
        var durationMinutes = (int)Math.Ceiling(s.DurationHours * 60);
        // Whole quarter hours fit exactly; other durations get a minute to spare so rounding cannot make them too tight.
        var slack = s.SlackMinutes is { } sm ? sm + (s.DurationHours * 4 % 1 == 0 ? 0 : 1) : (int?)null;
        int? deadline = slack is { } x && ready + durationMinutes + x <= HorizonMinutes ? ready + durationMinutes + x : null;
        var members = new List<Member> { Member.Of("jobId", s.EscapeIdChar ? EscapeLast(id) : JsonText.Quote(id)) };
        Add(members, "priority", s.Priority?.ToString(CultureInfo.InvariantCulture));
        Add(members, "earliestStart", s.EarliestMinutes is { } e ? JsonText.Quote(Time(e, s.EarliestFormat)) : null);
        Add(members, "deadline", deadline is { } d ? JsonText.Quote(Time(d, s.DeadlineFormat)) : null);
        Add(members, "estimatedDurationHours", s.DurationText);
        members.Add(Member.Of(s.Resources.Name, s.Resources.Json));
        Add(members, "inputDataSizeGB", s.InputGb);
        Add(members, "checkpointable", s.Checkpointable is { } c ? (c ? "true" : "false") : null);
        // An interval only where it means something; an interval without checkpointing is left to Mutations.Open.
        Add(members, "checkpointIntervalMinutes", s.Checkpointable == true ? s.Interval : null);
        Add(members, "restartOverheadMinutes", s.Overhead);
        Add(members, "dependsOn", dependsOn.IsEmpty && s.DependencyMask % 3 != 0 ? null : JsonText.Strings(dependsOn));
        Add(members, "team", s.WithTeam ? JsonText.Quote(team) : null);
        Add(members, "command", s.Command is { } cmd ? JsonText.Quote(cmd) : null);
        var random = new Random(s.Order);
        var ordered = s.Order == 0 ? members : [.. members.OrderBy(_ => random.Next())];
        return new JobDraft([.. ordered], new ExpectedJob(id, s.DurationHours, s.Priority, s.EarliestMinutes, deadline));
    }

    /// <summary>The id with its last character as a \u escape: the same string, another spelling.</summary>
    private static string EscapeLast(string id) => JsonText.Quote(id[..^1])[..^1] + $"\\u{(int)id[^1]:x4}\"";

    private static void Add(List<Member> members, string name, string? json)
    {
        if (json is not null)
        {
            members.Add(Member.Of(name, json));
        }
    }

    /// <summary>A moment <paramref name="minutes"/> after the server's clock, in one of the accepted spellings.</summary>
    public static string Time(int minutes, int format)
    {
        var at = SpotwiseServerFactory.Start.AddMinutes(minutes);
        return format switch
        {
            0 => $"+{minutes}m",
            1 when minutes % 60 == 0 => $"+{minutes / 60}h",
            2 when minutes % MinutesPerDay == 0 => $"+{minutes / MinutesPerDay}d",
            3 => at.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            4 => at.ToOffset(TimeSpan.FromMinutes(330)).ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
            5 => at.ToOffset(TimeSpan.FromHours(-7)).ToString("yyyy-MM-dd'T'HH:mm:ss.fffzzz", CultureInfo.InvariantCulture),
            _ => $"+{minutes}m",
        };
    }
}
