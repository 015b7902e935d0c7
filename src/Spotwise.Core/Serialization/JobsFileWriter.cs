using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Spotwise.Core.Serialization;

/// <summary>
/// Writes jobs in the format <see cref="JobsFile.Parse"/> reads: <c>{"jobs": [...]}</c>, camelCase fields, defaults
/// left out. Reading back what this writes gives equal jobs, within the rounding written below.
/// </summary>
public static class JobsFileWriter
{
    // Rounding keeps files readable; each step is far below anything a plan can notice.
    private const int DurationHoursDecimals = 6;   // 3.6 ms
    private const int MinutesDecimals = 4;         // 6 ms
    private const int RelativeMinutesDecimals = 2; // 0.6 s

    private static readonly JsonWriterOptions Options = new()
    {
        Indented = true,
        NewLine = "\n", // the same bytes on every OS, so generated samples diff cleanly
        // The default encoder escapes '+' as \u002B, which would make "+90m" unreadable to people.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>
    /// Writes the jobs. With <paramref name="relativeTo"/>, times are written relative to it ("+1234.5m") so the file
    /// means the same queue on any day; without it, as ISO 8601 with the time's own offset.
    /// </summary>
    /// <exception cref="ArgumentException">A job asks for GPUs of several models without a class name: the format
    /// holds one <c>gpuModel</c>, and widening to any model silently would change the job.</exception>
    public static string Write(IEnumerable<Job> jobs, DateTimeOffset? relativeTo = null)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, Options))
        {
            w.WriteStartObject();
            w.WriteStartArray("jobs");
            foreach (var job in jobs)
            {
                WriteJob(w, job, relativeTo);
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    private static void WriteJob(Utf8JsonWriter w, Job job, DateTimeOffset? relativeTo)
    {
        w.WriteStartObject();
        w.WriteString("jobId", job.Id);
        w.WriteNumber("priority", job.Priority);
        WriteTime(w, "earliestStart", job.EarliestStart, relativeTo);
        WriteTime(w, "deadline", job.Deadline, relativeTo);
        w.WriteNumber("estimatedDurationHours", Math.Round(job.DurationHours, DurationHoursDecimals));
        WriteResources(w, job);
        if (job.InputDataSizeGB is { } gb)
        {
            w.WriteNumber("inputDataSizeGB", gb);
        }
        WriteIfSet(w, "dataRegion", job.DataRegion);
        WriteRecovery(w, job);
        if (!job.DependsOn.IsDefaultOrEmpty)
        {
            w.WriteStartArray("dependsOn");
            foreach (var dep in job.DependsOn)
            {
                w.WriteStringValue(dep);
            }
            w.WriteEndArray();
        }
        WriteIfSet(w, "team", job.Team);
        WriteIfSet(w, "command", job.Command);
        WriteIfSet(w, "image", job.Image);
        if (!job.Windows.IsDefaultOrEmpty)
        {
            w.WriteStartArray("windows");
            foreach (var window in job.Windows)
            {
                w.WriteStringValue(window);
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WriteRecovery(Utf8JsonWriter w, Job job)
    {
        if (job.Checkpointable)
        {
            w.WriteBoolean("checkpointable", true);
        }
        if (job.CheckpointIntervalHours is { } interval)
        {
            w.WriteNumber("checkpointIntervalMinutes", Minutes(interval));
        }
        // Compared in written precision so a value read back from a file is not rewritten as a non-default.
        if (Minutes(job.RestartOverheadHours) != Minutes(Job.DefaultRestartOverheadHours))
        {
            w.WriteNumber("restartOverheadMinutes", Minutes(job.RestartOverheadHours));
        }
    }

    private static void WriteResources(Utf8JsonWriter w, Job job)
    {
        var r = job.Resources;
        w.WriteStartObject("resourceRequirements");
        if (r.ClassName is not null)
        {
            // A class is written by name: the reader takes its needs from ResourceClasses, the one place they live.
            w.WriteString("type", r.ClassName);
        }
        else if (!r.InstanceTypes.IsDefaultOrEmpty)
        {
            w.WriteStartArray("instanceTypes");
            foreach (var name in r.InstanceTypes)
            {
                w.WriteStringValue(name);
            }
            w.WriteEndArray();
        }
        else
        {
            WriteNeeds(w, job.Id, r);
        }
        if (r.InstanceTypes.IsDefaultOrEmpty && r.Architecture != Architectures.X86)
        {
            w.WriteString("architecture", r.Architecture);
        }
        w.WriteEndObject();
    }

    private static void WriteNeeds(Utf8JsonWriter w, string jobId, ResourceRequest r)
    {
        var models = r.GpuModels.IsDefault ? [] : r.GpuModels;
        if (r.MinGpus > 0 && models.Length > 1)
        {
            throw new ArgumentException(
                $"job '{jobId}': resourceRequirements: GPUs of {models.Length} models ({string.Join(", ", models)}) cannot be written " +
                "as explicit needs, which hold one gpuModel; give the request a class name or an instance type list");
        }
        // The reader takes a missing vcpus as 1, so 0 (no minimum) is left out rather than written as an invalid 0.
        if (r.MinVcpus >= 1)
        {
            w.WriteNumber("vcpus", r.MinVcpus);
        }
        if (r.MinMemoryGiB > 0)
        {
            w.WriteNumber("memoryGiB", r.MinMemoryGiB);
        }
        if (r.MinGpus > 0)
        {
            w.WriteNumber("gpus", r.MinGpus);
            if (models.Length == 1)
            {
                w.WriteString("gpuModel", models[0]);
            }
        }
    }

    private static void WriteTime(Utf8JsonWriter w, string field, DateTimeOffset? time, DateTimeOffset? relativeTo)
    {
        if (time is not { } t)
        {
            return;
        }
        w.WriteString(field, relativeTo is { } origin ? Relative(t - origin) : Absolute(t));
    }

    /// <summary>"+1234.5m": minutes, so every offset is one unit and at most 2 decimals (TimeText's relative form).</summary>
    private static string Relative(TimeSpan offset)
    {
        var minutes = Math.Round(offset.TotalMinutes, RelativeMinutesDecimals, MidpointRounding.AwayFromZero);
        var sign = minutes < 0 ? "-" : "+";
        return sign + Math.Abs(minutes).ToString("0.##", CultureInfo.InvariantCulture) + "m";
    }

    private static string Absolute(DateTimeOffset t) =>
        t.ToString(t.Offset == TimeSpan.Zero ? "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", CultureInfo.InvariantCulture);

    private static double Minutes(double hours) => Math.Round(hours * 60, MinutesDecimals);

    private static void WriteIfSet(Utf8JsonWriter w, string field, string? value)
    {
        if (value is not null)
        {
            w.WriteString(field, value);
        }
    }
}
