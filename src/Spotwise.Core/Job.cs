using System.Collections.Immutable;

namespace Spotwise.Core;

/// <summary>A unit of batch work to place: how long it runs, what it needs, and by when it must be done.</summary>
public sealed record Job
{
    public const int MinPriority = 1;
    public const int MaxPriority = 10;
    public const int DefaultPriority = 5;
    public const double DefaultRestartOverheadHours = 0.1;

    /// <summary>A checkpointable job without an interval is assumed to checkpoint every 30 minutes.</summary>
    public const double DefaultCheckpointIntervalHours = 0.5;

    public required string Id { get; init; }

    public int Priority { get; init; } = DefaultPriority;

    public DateTimeOffset? EarliestStart { get; init; }

    public DateTimeOffset? Deadline { get; init; }

    public required double DurationHours { get; init; }

    public required ResourceRequest Resources { get; init; }

    public double? InputDataSizeGB { get; init; }

    /// <summary>
    /// The region the job's input (<see cref="InputDataSizeGB"/>) lives in; null means the catalog's home region. Running
    /// elsewhere moves the input first (<see cref="DataTransfer"/>).
    /// </summary>
    public string? DataRegion { get; init; }

    public bool Checkpointable { get; init; }

    public double? CheckpointIntervalHours { get; init; }

    public double RestartOverheadHours { get; init; } = DefaultRestartOverheadHours;

    public ImmutableArray<string> DependsOn { get; init; } = [];

    public string? Team { get; init; }

    public string? Command { get; init; }

    /// <summary>
    /// The container image the command runs in, where a backend runs containers (Kubernetes: the Job's image); null means
    /// the backend's default. Backends that run commands on a machine (local, EC2, Slurm) ignore it.
    /// </summary>
    public string? Image { get; init; }

    /// <summary>
    /// When the job may run (<see cref="ScheduleWindows"/>: <c>"Mon-Fri 20:00-06:00"</c>, <c>"Sat-Sun Europe/Berlin"</c>), as
    /// written; empty means any time. The job must start in an allowed interval and run entirely inside it.
    /// </summary>
    public ImmutableArray<string> Windows { get; init; } = [];

    /// <summary>This job, depending only on those of its prerequisites that <paramref name="ids"/> holds (itself when all are).</summary>
    public Job WithPrerequisitesAmong(IReadOnlySet<string> ids) =>
        DependsOn.All(ids.Contains) ? this : this with { DependsOn = [.. DependsOn.Where(ids.Contains)] };

    /// <summary>
    /// The most work an interruption can destroy: everything for a job that cannot checkpoint, at most one
    /// checkpoint interval for one that can.
    /// </summary>
    public double WorstCaseLossHours =>
        Checkpointable ? Math.Min(CheckpointIntervalHours ?? DefaultCheckpointIntervalHours, DurationHours) : DurationHours;
}
