using System.Globalization;

namespace Spotwise.Bench.Workloads;

/// <summary>One pod of the Alibaba GPU trace that really ran: what it asked for, when it arrived, how long it ran.</summary>
public sealed record AlibabaTask(
    string Name,
    int CpuMilli,
    int MemoryMib,
    int NumGpu,
    int GpuMilli,
    string Qos,
    double CreationSeconds,
    double RunSeconds);

/// <summary>
/// The usable tasks of the Alibaba cluster-trace-gpu-v2023 pod list (Weng et al., "Beware of Fragmentation", USENIX ATC
/// 2023), ordered by creation time, and how many rows were left out and why.
/// </summary>
public sealed record AlibabaTrace(
    IReadOnlyList<AlibabaTask> Tasks,
    int Rows,
    int NeverScheduled,
    int NoPositiveRunTime,
    int Censored,
    double SpanSeconds)
{
    private static readonly string[] Columns =
        ["name", "cpu_milli", "memory_mib", "num_gpu", "gpu_milli", "qos", "creation_time", "deletion_time", "scheduled_time"];

    public static AlibabaTrace Read(string path)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, path);
    }

    /// <summary>
    /// Keeps the pods with a real run time: scheduled and deleted, deleted after being scheduled, and not still running
    /// when the trace ends (deletion_time equal to the trace's last deletion_time: their run time is cut off, not real).
    /// </summary>
    public static AlibabaTrace Parse(TextReader reader, string source)
    {
        var pods = ReadPods(reader, source);
        if (pods.Count == 0)
        {
            throw new FormatException($"{source}: the trace holds no pods");
        }
        var traceEnd = pods.Max(p => p.Deletion ?? double.MinValue);
        var notScheduled = pods.Count(p => p.Scheduled is null || p.Deletion is null);
        var scheduled = pods.Where(p => p.Scheduled is not null && p.Deletion is not null).ToList();
        var noRunTime = scheduled.Count(p => p.Deletion <= p.Scheduled);
        var censored = scheduled.Count(p => p.Deletion > p.Scheduled && p.Deletion == traceEnd);
        var tasks = scheduled
            .Where(p => p.Deletion > p.Scheduled && p.Deletion != traceEnd)
            .Select(p => p.Task with { RunSeconds = p.Deletion!.Value - p.Scheduled!.Value })
            .OrderBy(t => t.CreationSeconds) // stable: ties keep the file's order
            .ToList();
        // The trace observes [first creation, last deletion]; tiled copies repeat that whole window.
        var span = traceEnd - pods.Min(p => p.Task.CreationSeconds);
        return new AlibabaTrace(tasks, pods.Count, notScheduled, noRunTime, censored, span);
    }

    private sealed record Pod(AlibabaTask Task, double? Scheduled, double? Deletion);

    private static List<Pod> ReadPods(TextReader reader, string source)
    {
        var header = reader.ReadLine() ?? throw new FormatException($"{source}: the trace is empty");
        var names = header.Split(',').Select(c => c.Trim()).ToList();
        var missing = Columns.Where(c => !names.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new FormatException($"{source}: the header lacks {string.Join(", ", missing)}");
        }
        var col = Columns.ToDictionary(c => c, names.IndexOf, StringComparer.Ordinal);
        var pods = new List<Pod>();
        var line = 1;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (!string.IsNullOrWhiteSpace(text))
            {
                pods.Add(ReadPod(text.Split(','), col, $"{source}:{line}", names.Count));
            }
        }
        return pods;
    }

    private static Pod ReadPod(string[] f, Dictionary<string, int> col, string where, int width)
    {
        if (f.Length < width)
        {
            throw new FormatException($"{where}: expected {width} fields, found {f.Length}");
        }
        int Int(string c) => int.TryParse(f[col[c]], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"{where}: {c} '{f[col[c]]}' is not a whole number");
        double? Time(string c) => f[col[c]].Trim() is { Length: > 0 } s
            ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"{where}: {c} '{s}' is not a number")
            : null;
        var creation = Time("creation_time") ?? throw new FormatException($"{where}: creation_time is empty");
        var task = new AlibabaTask(f[col["name"]].Trim(), Int("cpu_milli"), Int("memory_mib"), Int("num_gpu"), Int("gpu_milli"),
            f[col["qos"]].Trim(), creation, 0);
        return new Pod(task, Time("scheduled_time"), Time("deletion_time"));
    }
}
