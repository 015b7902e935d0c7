using Spotwise.Core;

namespace Spotwise.Bench.Workloads;

/// <summary>
/// Turns the Alibaba GPU trace into Spotwise job queues of any size, deterministically for a seed. The trace has no
/// deadlines, priorities or checkpoints; every rule that adds them is here and in docs/workloads.md, with its reason.
/// </summary>
public static class AlibabaWorkload
{
    /// <summary>Shorter tasks (37% of the trace, many failed) are noise next to instance launch times of minutes.</summary>
    public static readonly TimeSpan MinDuration = TimeSpan.FromMinutes(5);

    /// <summary>Longer tasks are services, not batch jobs; 48 h keeps them in a plannable horizon.</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromHours(48);

    /// <summary>Job fraction f: deadline = start + run time / f, so slack is 5% to 100% of the run time.</summary>
    public const double MinJobFraction = 0.5;

    public const double MaxJobFraction = 0.95;

    /// <summary>GPU tasks longer than this are taken as training runs that checkpoint, as ML training does.</summary>
    public static readonly TimeSpan CheckpointableAfter = TimeSpan.FromHours(1);

    public const double CheckpointIntervalHours = 0.5;

    private static readonly string[] Teams = ["team-a", "team-b", "team-c", "team-d", "team-e"];

    /// <summary>
    /// Generates <paramref name="jobs"/> jobs from <paramref name="trace"/>. Arrivals keep the trace's spacing divided
    /// by <paramref name="compression"/> (2 = twice as dense); run times are never compressed.
    /// </summary>
    public static IReadOnlyList<Job> Generate(AlibabaTrace trace, int jobs, int seed, DateTimeOffset now, double compression = 1.0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(jobs, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(compression);
        if (trace.Tasks.Count == 0)
        {
            throw new ArgumentException("the trace has no usable tasks", nameof(trace));
        }
        var random = new Random(seed);
        var window = TraceWindow.Take(trace, jobs, random);
        var first = window[0].CreationSeconds;
        // Whole seconds, as the trace has them: files stay readable and no precision is invented.
        return [.. window.Select(p => ToJob(p, now.AddSeconds(Math.Round((p.CreationSeconds - first) / compression)), random))];
    }

    private static Job ToJob(WindowTask p, DateTimeOffset earliestStart, Random random)
    {
        var task = p.Task;
        var duration = Clamp(TimeSpan.FromSeconds(task.RunSeconds));
        var resources = Request(task);
        var fraction = MinJobFraction + random.NextDouble() * (MaxJobFraction - MinJobFraction);
        var checkpointable = resources.MinGpus > 0 && duration > CheckpointableAfter;
        return new Job
        {
            Id = p.JobId,
            Priority = Priority(task.Qos, random),
            EarliestStart = earliestStart,
            Deadline = earliestStart.AddSeconds(Math.Ceiling(duration.TotalSeconds / fraction)), // up: never less slack than f gives
            DurationHours = duration.TotalHours,
            Resources = resources,
            Checkpointable = checkpointable,
            CheckpointIntervalHours = checkpointable ? CheckpointIntervalHours : null,
            Team = Team(task.Name),
        };
    }

    public static TimeSpan Clamp(TimeSpan runTime) =>
        runTime < MinDuration ? MinDuration : runTime > MaxDuration ? MaxDuration : runTime;

    /// <summary>
    /// What the pod asked for, as explicit needs of any GPU model: the trace's gpu_spec is empty, so any model will do.
    /// A GPU-sharing pod (gpu_milli &gt; 0) gets a whole GPU: clouds do not rent fractions of one.
    /// </summary>
    public static ResourceRequest Request(AlibabaTask task) => new()
    {
        MinVcpus = Math.Max(1, (int)Math.Ceiling(task.CpuMilli / 1000.0)),
        MinMemoryGiB = Math.Ceiling(task.MemoryMib / 512.0) / 2, // GiB rounded up to the half
        MinGpus = task.NumGpu > 0 ? task.NumGpu : task.GpuMilli > 0 ? 1 : 0,
    };

    /// <summary>
    /// Kubernetes QoS ranks how much the cluster protected the pod: Guaranteed 9, LS 7, Burstable 5, BE 3, then a
    /// seed-driven jitter of -1, 0 or +1 so queues are not four flat tiers; always within 1..10.
    /// </summary>
    public static int Priority(string qos, Random random)
    {
        var tier = qos switch
        {
            "Guaranteed" => 9,
            "LS" => 7,
            "Burstable" => 5,
            "BE" => 3,
            _ => Job.DefaultPriority,
        };
        return Math.Clamp(tier + random.Next(-1, 2), Job.MinPriority, Job.MaxPriority);
    }

    /// <summary>
    /// The trace names no owners; a stable hash of the pod name (FNV-1a, not string.GetHashCode, which changes per
    /// process) spreads pods over five teams, and a pod's tiled copies stay in its team.
    /// </summary>
    public static string Team(string podName)
    {
        var hash = 2166136261u;
        foreach (var c in podName)
        {
            hash = unchecked((hash ^ c) * 16777619u);
        }
        return Teams[hash % (uint)Teams.Length];
    }
}
