using System.Globalization;

namespace Spotwise.Bench.Workloads;

/// <summary>A trace task placed in a generated queue: which copy of the trace it is from, and its id there.</summary>
public sealed record WindowTask(AlibabaTask Task, int Copy, double CreationSeconds, string JobId);

/// <summary>
/// Picks the tasks of a queue: N consecutive tasks (by creation time) from a seed-chosen position, so a queue keeps the
/// real burstiness of arrivals. Past the trace's end the trace is tiled: copy 0 is the trace itself, copy k &gt;= 1 is a
/// resample with replacement of it (so copies differ) with creation times shifted by k x the trace's span.
/// </summary>
public static class TraceWindow
{
    public static IReadOnlyList<WindowTask> Take(AlibabaTrace trace, int count, Random random)
    {
        var usable = trace.Tasks.Count;
        // A window that fits stays inside the real trace; a longer one starts anywhere and runs into the copies.
        var start = count <= usable ? random.Next(usable - count + 1) : random.Next(usable);
        var copies = new Dictionary<int, IReadOnlyList<AlibabaTask>> { [0] = trace.Tasks };
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        var window = new List<WindowTask>(count);
        for (var position = start; position < start + count; position++)
        {
            var copy = position / usable;
            if (!copies.TryGetValue(copy, out var tasks))
            {
                tasks = copies[copy] = Resample(trace.Tasks, random);
            }
            var task = tasks[position % usable];
            window.Add(new WindowTask(task, copy, task.CreationSeconds + copy * trace.SpanSeconds, JobId(task.Name, copy, seen)));
        }
        return window;
    }

    /// <summary>A bootstrap copy: as many draws as tasks, with replacement, back in creation order.</summary>
    private static List<AlibabaTask> Resample(IReadOnlyList<AlibabaTask> tasks, Random random) =>
        [.. Enumerable.Range(0, tasks.Count).Select(_ => tasks[random.Next(tasks.Count)]).OrderBy(t => t.CreationSeconds)];

    /// <summary>"ali-" + pod name, "-kN" for copy N, and "-2", "-3", ... when a resample drew the pod again.</summary>
    private static string JobId(string podName, int copy, Dictionary<string, int> seen)
    {
        var id = copy == 0 ? $"ali-{podName}" : string.Create(CultureInfo.InvariantCulture, $"ali-{podName}-k{copy}");
        var n = seen[id] = seen.GetValueOrDefault(id) + 1;
        return n == 1 ? id : string.Create(CultureInfo.InvariantCulture, $"{id}-{n}");
    }
}
