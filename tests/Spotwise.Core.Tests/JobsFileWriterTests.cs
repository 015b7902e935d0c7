using System.Collections.Immutable;
using CsCheck;
using Spotwise.Core.Serialization;

namespace Spotwise.Core.Tests;

public class JobsFileWriterTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);

    private static readonly ImmutableArray<Job> Varied =
    [
        new() { Id = "seed-style", Priority = 8, Deadline = Now.AddHours(6), DurationHours = 2, Resources = ResourceClasses.Presets["gpu_large"], InputDataSizeGB = 120 },
        new()
        {
            Id = "explicit", EarliestStart = Now.AddMinutes(30), Deadline = new DateTimeOffset(2026, 11, 25, 18, 0, 0, TimeSpan.FromHours(1)),
            DurationHours = 0.75, Resources = new ResourceRequest { MinVcpus = 8, MinMemoryGiB = 30.5, MinGpus = 2, GpuModels = ["A10G"] },
            Checkpointable = true, CheckpointIntervalHours = 0.25, RestartOverheadHours = 0.2, DependsOn = ["seed-style"], Team = "ml", Command = "python train.py",
            Image = "python:3.12-slim",
        },
        new() { Id = "any-gpu", Priority = 1, DurationHours = 1.0 / 3, Resources = new ResourceRequest { MinVcpus = 2, MinMemoryGiB = 4, MinGpus = 1 } },
        new() { Id = "graviton", DurationHours = 2, Resources = ResourceClasses.Presets["cpu_medium"] with { Architecture = Architectures.Arm } },
        new() { Id = "anywhere", DurationHours = 2, Resources = new ResourceRequest { MinVcpus = 4, MinMemoryGiB = 8, Architecture = Architectures.Any } },
        new() { Id = "pinned", Priority = 10, DurationHours = 5, Resources = ResourceRequest.ForInstanceTypes(["m5.large", "c5.xlarge"]), Checkpointable = true },
    ];

    [Fact]
    public void Written_jobs_read_back_equal()
    {
        var read = ReadBack(JobsFileWriter.Write(Varied));

        AssertSameJobs(Varied, read, TimeSpan.Zero);
    }

    [Fact]
    public void Relative_times_read_back_equal_within_a_second_on_another_day()
    {
        var tomorrow = Now.AddDays(1);
        var shifted = Varied.Select(j => j with { EarliestStart = j.EarliestStart?.AddDays(1), Deadline = j.Deadline?.AddDays(1) }).ToImmutableArray();

        var read = ReadBack(JobsFileWriter.Write(Varied, relativeTo: Now), tomorrow);

        AssertSameJobs(shifted, read, TimeSpan.FromSeconds(1));
    }

    [Theory]
    [InlineData(0, "+0m")]
    [InlineData(90 * 60, "+90m")]
    [InlineData(1234.5 * 60, "+1234.5m")]
    [InlineData(7, "+0.12m")]
    [InlineData(-3600, "-60m")]
    public void Relative_times_are_minutes_with_at_most_two_decimals(double seconds, string expected)
    {
        var job = new Job { Id = "j", EarliestStart = Now.AddSeconds(seconds), DurationHours = 1, Resources = ResourceClasses.Presets["cpu_small"] };

        var json = JobsFileWriter.Write([job], relativeTo: Now);

        Assert.Contains($"\"earliestStart\": \"{expected}\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Defaults_and_missing_values_are_left_out()
    {
        var job = new Job { Id = "plain", DurationHours = 1, Resources = ResourceClasses.Presets["cpu_small"] };

        var json = JobsFileWriter.Write([job]);

        foreach (var field in new[] { "earliestStart", "deadline", "inputDataSizeGB", "checkpointable", "checkpointIntervalMinutes", "restartOverheadMinutes", "dependsOn", "team", "command", "image" })
        {
            Assert.DoesNotContain($"\"{field}\"", json, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Gpus_of_several_models_without_a_class_are_refused_naming_the_job()
    {
        var job = new Job { Id = "picky", DurationHours = 1, Resources = new ResourceRequest { MinVcpus = 4, MinGpus = 1, GpuModels = ["A100", "H100"] } };

        var e = Assert.Throws<ArgumentException>(() => JobsFileWriter.Write([job]));

        Assert.Contains("picky", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_jobs_read_back_equal()
    {
        var needs = Gen.Select(Gen.Int[1, 192], Gen.Int[0, 4096], Gen.Int[0, 8], Gen.OneOfConst<string?>(null, "A10G", "H100"),
            (cpus, halfGiB, gpus, model) => new ResourceRequest
            {
                MinVcpus = cpus,
                MinMemoryGiB = halfGiB / 2.0,
                MinGpus = gpus,
                GpuModels = gpus > 0 && model is not null ? [model] : [],
            });
        var resources = Gen.Frequency((3, needs), (1, Gen.OneOfConst([.. ResourceClasses.Presets.Values])));
        var job = Gen.Select(Gen.Int[1, 10], Gen.Int[0, 10_000], Gen.Int[1, 100_000], Gen.Int[1, 172_800], resources, Gen.Bool, Gen.Int[1, 240],
            (priority, startSeconds, slackSeconds, durationSeconds, r, checkpointable, intervalMinutes) => new Job
            {
                Id = "j",
                Priority = priority,
                EarliestStart = Now.AddSeconds(startSeconds),
                Deadline = Now.AddSeconds(startSeconds + durationSeconds + slackSeconds),
                DurationHours = durationSeconds / 3600.0,
                Resources = r,
                Checkpointable = checkpointable,
                CheckpointIntervalHours = checkpointable ? intervalMinutes / 60.0 : null,
            });

        job.Sample(j =>
        {
            AssertSameJobs([j], ReadBack(JobsFileWriter.Write([j])), TimeSpan.Zero);
            AssertSameJobs([j], ReadBack(JobsFileWriter.Write([j], relativeTo: Now)), TimeSpan.FromSeconds(1));
        });
    }

    [Fact]
    public void Shipped_alibaba_sample_parses()
    {
        var path = RepoPaths.Sample("alibaba-200.json");

        var result = JobsFile.Parse(File.ReadAllText(path), Now);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        Assert.Equal(200, result.Value.Length);
        Assert.All(result.Value, j => Assert.True(j.EarliestStart >= Now && j.Deadline > j.EarliestStart!.Value.AddHours(j.DurationHours), j.Id));
    }

    private static ImmutableArray<Job> ReadBack(string json, DateTimeOffset? now = null)
    {
        var result = JobsFile.Parse(json, now ?? Now);
        Assert.True(result.Ok, string.Join("\n", result.Errors) + "\n" + json);
        return result.Value;
    }

    // Records holding ImmutableArray compare arrays by reference, so jobs are compared field by field.
    private static void AssertSameJobs(IReadOnlyList<Job> expected, IReadOnlyList<Job> actual, TimeSpan timeTolerance)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (e, a) in expected.Zip(actual))
        {
            Assert.Equal(e.Id, a.Id);
            Assert.Equal(e.Priority, a.Priority);
            AssertClose(e.EarliestStart, a.EarliestStart, timeTolerance);
            AssertClose(e.Deadline, a.Deadline, timeTolerance);
            Assert.Equal(e.DurationHours, a.DurationHours, 1e-6);
            AssertSameResources(e.Resources, a.Resources);
            Assert.Equal(e.InputDataSizeGB, a.InputDataSizeGB);
            Assert.Equal(e.Checkpointable, a.Checkpointable);
            Assert.Equal(e.CheckpointIntervalHours ?? -1, a.CheckpointIntervalHours ?? -1, 1e-6);
            Assert.Equal(e.RestartOverheadHours, a.RestartOverheadHours, 1e-6);
            Assert.Equal(e.DependsOn.ToArray(), a.DependsOn.ToArray());
            Assert.Equal(e.Team, a.Team);
            Assert.Equal(e.Command, a.Command);
        }
    }

    private static void AssertSameResources(ResourceRequest e, ResourceRequest a)
    {
        Assert.Equal(e.ClassName, a.ClassName);
        Assert.Equal(e.MinVcpus, a.MinVcpus);
        Assert.Equal(e.MinMemoryGiB, a.MinMemoryGiB);
        Assert.Equal(e.MinGpus, a.MinGpus);
        Assert.Equal(e.GpuModels.ToArray(), a.GpuModels.ToArray());
        Assert.Equal(e.InstanceTypes.ToArray(), a.InstanceTypes.ToArray());
        if (e.InstanceTypes.IsDefaultOrEmpty)
        {
            Assert.Equal(e.Architecture, a.Architecture);
        }
    }

    private static void AssertClose(DateTimeOffset? expected, DateTimeOffset? actual, TimeSpan tolerance)
    {
        Assert.Equal(expected.HasValue, actual.HasValue);
        if (expected is { } e && actual is { } a)
        {
            Assert.True((e - a).Duration() <= tolerance, $"expected {e:O}, read {a:O}");
        }
    }
}
