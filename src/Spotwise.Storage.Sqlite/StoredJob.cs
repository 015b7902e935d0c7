using System.Text.Json;
using System.Text.Json.Serialization;
using Spotwise.Core;

namespace Spotwise.Storage.Sqlite;

/// <summary>
/// A <see cref="Job"/> as the <c>jobs.job</c> column holds it: every field, exactly (doubles round-trip, times keep
/// their ticks and offset). The submitted body is kept too, but only for idempotency: re-reading it with today's parser
/// could give a different job (defaults change, relative times), and the job acknowledged is the one that must come back.
/// Field names are the file format: add, never rename (a rename is a migration).
/// </summary>
internal sealed record StoredJob(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("priority")] int Priority,
    [property: JsonPropertyName("earliestStart")] DateTimeOffset? EarliestStart,
    [property: JsonPropertyName("deadline")] DateTimeOffset? Deadline,
    [property: JsonPropertyName("durationHours")] double DurationHours,
    [property: JsonPropertyName("resources")] StoredResources Resources,
    [property: JsonPropertyName("inputDataSizeGB")] double? InputDataSizeGB,
    [property: JsonPropertyName("checkpointable")] bool Checkpointable,
    [property: JsonPropertyName("checkpointIntervalHours")] double? CheckpointIntervalHours,
    [property: JsonPropertyName("restartOverheadHours")] double RestartOverheadHours,
    [property: JsonPropertyName("dependsOn")] IReadOnlyList<string> DependsOn,
    [property: JsonPropertyName("team")] string? Team,
    [property: JsonPropertyName("command")] string? Command)
{
    /// <summary>Where the job's input lives (<see cref="Job.DataRegion"/>); absent (null) in rows written before it existed.</summary>
    [JsonPropertyName("dataRegion")]
    public string? DataRegion { get; init; }

    /// <summary>The container image (<see cref="Job.Image"/>); absent (null) in rows written before it existed.</summary>
    [JsonPropertyName("image")]
    public string? Image { get; init; }

    /// <summary>The scheduling windows as written (<see cref="Job.Windows"/>); absent (null) when none, and in rows written before they existed.</summary>
    [JsonPropertyName("windows")]
    public IReadOnlyList<string>? Windows { get; init; }

    private static readonly JsonSerializerOptions Options = new() { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    public static string Write(Job job)
    {
        var r = job.Resources;
        var stored = new StoredJob(job.Id, job.Priority, job.EarliestStart, job.Deadline, job.DurationHours,
            new StoredResources(r.ClassName, r.MinVcpus, r.MinMemoryGiB, r.MinGpus, Listed(r.GpuModels), r.Architecture, Listed(r.InstanceTypes)),
            job.InputDataSizeGB, job.Checkpointable, job.CheckpointIntervalHours, job.RestartOverheadHours, Listed(job.DependsOn),
            job.Team, job.Command)
        {
            DataRegion = job.DataRegion,
            Image = job.Image,
            Windows = job.Windows.IsDefaultOrEmpty ? null : [.. job.Windows],
        };
        return JsonSerializer.Serialize(stored, Options);
    }

    public static Job Read(string json)
    {
        var s = JsonSerializer.Deserialize<StoredJob>(json, Options)
            ?? throw new InvalidDataException("a stored job is JSON null");
        return new Job
        {
            Id = s.Id,
            Priority = s.Priority,
            EarliestStart = s.EarliestStart,
            Deadline = s.Deadline,
            DurationHours = s.DurationHours,
            Resources = new ResourceRequest
            {
                ClassName = s.Resources.ClassName,
                MinVcpus = s.Resources.MinVcpus,
                MinMemoryGiB = s.Resources.MinMemoryGiB,
                MinGpus = s.Resources.MinGpus,
                GpuModels = [.. s.Resources.GpuModels ?? []],
                Architecture = s.Resources.Architecture,
                InstanceTypes = [.. s.Resources.InstanceTypes ?? []],
            },
            InputDataSizeGB = s.InputDataSizeGB,
            Checkpointable = s.Checkpointable,
            CheckpointIntervalHours = s.CheckpointIntervalHours,
            RestartOverheadHours = s.RestartOverheadHours,
            DependsOn = [.. s.DependsOn ?? []],
            Team = s.Team,
            Command = s.Command,
            DataRegion = s.DataRegion,
            Image = s.Image,
            Windows = [.. s.Windows ?? []],
        };
    }

    private static string[] Listed(System.Collections.Immutable.ImmutableArray<string> items) => items.IsDefault ? [] : [.. items];
}

internal sealed record StoredResources(
    [property: JsonPropertyName("className")] string? ClassName,
    [property: JsonPropertyName("minVcpus")] int MinVcpus,
    [property: JsonPropertyName("minMemoryGiB")] double MinMemoryGiB,
    [property: JsonPropertyName("minGpus")] int MinGpus,
    [property: JsonPropertyName("gpuModels")] IReadOnlyList<string> GpuModels,
    [property: JsonPropertyName("architecture")] string Architecture,
    [property: JsonPropertyName("instanceTypes")] IReadOnlyList<string> InstanceTypes);
