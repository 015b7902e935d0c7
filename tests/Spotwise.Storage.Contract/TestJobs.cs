using System.Collections.Immutable;
using System.Text.Json;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Storage.Contract;

/// <summary>Jobs to store, and comparisons that treat ImmutableArray fields as sequences (record equality does not).</summary>
public static class TestJobs
{
    public static readonly DateTimeOffset T0 = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);

    public static Job Simple(string id, string? team = null) => new()
    {
        Id = id,
        DurationHours = 2,
        Resources = ResourceClasses.Presets["cpu_small"],
        Team = team,
    };

    /// <summary>Every field set, times off the whole millisecond and in several offsets, doubles that do not round.</summary>
    public static Job Rich(string id) => new()
    {
        Id = id,
        Priority = 9,
        EarliestStart = new DateTimeOffset(2026, 11, 24, 18, 0, 0, TimeSpan.FromHours(2)).AddTicks(1_234_567),
        Deadline = new DateTimeOffset(2026, 11, 26, 7, 30, 0, TimeSpan.FromHours(-5)).AddTicks(7),
        DurationHours = Math.PI,
        Resources = new ResourceRequest
        {
            MinVcpus = 8,
            MinMemoryGiB = 61.5,
            MinGpus = 2,
            GpuModels = ["A100", "H100"],
            Architecture = Architectures.Any,
        },
        InputDataSizeGB = 0.1 + 0.2,
        Checkpointable = true,
        CheckpointIntervalHours = 1.0 / 3,
        RestartOverheadHours = 0.25,
        DependsOn = ["prep-a", "prep-b"],
        Team = "vision",
        Command = "python train.py --epochs 3 \"quoted\" 'it''s'",
        Image = "registry.example.com/vision/train:1.2",
        Windows = ["Mon-Fri 20:00-06:00 Europe/Berlin", "Sat-Sun"],
    };

    public static Job WithInstanceTypes(string id) => new()
    {
        Id = id,
        DurationHours = 0.5,
        Resources = ResourceRequest.ForInstanceTypes(["m7i.large", "c7i.xlarge"]),
    };

    public static Job WithClass(string id) => new()
    {
        Id = id,
        DurationHours = 12,
        Resources = ResourceClasses.Presets["gpu_large"] with { Architecture = Architectures.Arm },
    };

    public const string TeamA = "team-a";

    public static Submission Submit(Job job, string team = TeamA) => new(job, team, BodyOf(job));

    /// <summary>A job as the store addresses it: <see cref="Submit"/>'s team unless told.</summary>
    public static JobKey Key(string id, string team = TeamA) => new(team, id);

    /// <summary>Some stable text per job, as the API would hand over the submitted JSON.</summary>
    public static string BodyOf(Job job) => JsonSerializer.Serialize(new { jobId = job.Id, estimatedDurationHours = job.DurationHours });

    public static void Same(Job expected, Job actual)
    {
        Assert.Equal(Flat(expected), Flat(actual));
        Assert.Equal(Items(expected.DependsOn), Items(actual.DependsOn));
        Assert.Equal(Items(expected.Windows), Items(actual.Windows));
        Assert.Equal(Items(expected.Resources.GpuModels), Items(actual.Resources.GpuModels));
        Assert.Equal(Items(expected.Resources.InstanceTypes), Items(actual.Resources.InstanceTypes));
        Assert.Equal(expected.EarliestStart?.Offset, actual.EarliestStart?.Offset);
        Assert.Equal(expected.Deadline?.Offset, actual.Deadline?.Offset);
    }

    public static void Same(JobRecord expected, JobRecord actual)
    {
        Same(expected.Job, actual.Job);
        Assert.Equal(expected with { Job = actual.Job }, actual);
        Assert.Equal(expected.SubmittedAt.Offset, actual.SubmittedAt.Offset);
    }

    // xunit compares an ImmutableArray through IEquatable (by reference), so as an array it is.
    private static string[] Items(ImmutableArray<string> items) => items.IsDefault ? [] : [.. items];

    // Record equality compares everything but the ImmutableArrays (compared by reference): blank those, compare the rest.
    private static Job Flat(Job job) => job with
    {
        DependsOn = default,
        Windows = default,
        Resources = job.Resources with { GpuModels = default, InstanceTypes = default },
    };
}
