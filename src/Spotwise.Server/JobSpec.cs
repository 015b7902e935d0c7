namespace Spotwise.Server;

/// <summary>
/// One job as <c>POST /api/jobs</c> and <c>POST /api/plan/preview</c> take it (the body is one job, an array of them, or
/// <c>{"jobs": [...]}</c>; at most 1,000 per request). It exists for the OpenAPI document, so a generated client can
/// write a job: the server never binds to it. The intake reads the bytes itself (<c>StrictJson</c>, <c>JobReader</c>),
/// and its rules are the truth: bounds, the catalog's classes and types, unknown fields refused. A test keeps these
/// fields the reader's own.
/// </summary>
public sealed record JobSpec
{
    /// <summary>The job's id, unique within the team: 1 to 128 ASCII letters, digits and <c>. _ : -</c>.</summary>
    public required string JobId { get; init; }

    /// <summary>1 (lowest) to 10 (highest); 5 when left out.</summary>
    public int? Priority { get; init; }

    /// <summary>Not before: ISO 8601 with an offset (<c>2026-11-24T18:00:00Z</c>) or relative to now (<c>+2h</c>, <c>+30m</c>, <c>+1.5d</c>).</summary>
    public string? EarliestStart { get; init; }

    /// <summary>Finished by: ISO 8601 with an offset or relative to now, as <c>earliestStart</c>.</summary>
    public string? Deadline { get; init; }

    /// <summary>How long the job runs on its resource, in hours (more than 0).</summary>
    public required double EstimatedDurationHours { get; init; }

    /// <summary>What it runs on: a class, explicit needs, or a list of instance types. Give this or <see cref="RequiredResourceType"/>.</summary>
    public ResourceRequirementsSpec? ResourceRequirements { get; init; }

    /// <summary>A resource class by name (<c>cpu_small</c>, <c>gpu_medium</c>, ...), the seed format's flat form.</summary>
    public string? RequiredResourceType { get; init; }

    /// <summary>Input data to move to where the job runs, in GB.</summary>
    public double? InputDataSizeGB { get; init; }

    /// <summary>The region the input data lives in (a region of the catalog or the transfer table).</summary>
    public string? DataRegion { get; init; }

    /// <summary>Whether the job saves its progress, so an interruption loses only the work since the last checkpoint.</summary>
    public bool? Checkpointable { get; init; }

    /// <summary>How often a checkpointable job saves its progress, in minutes.</summary>
    public double? CheckpointIntervalMinutes { get; init; }

    /// <summary>What a restart after an interruption costs, in minutes.</summary>
    public double? RestartOverheadMinutes { get; init; }

    /// <summary>Ids of the team's jobs that must succeed before this one starts.</summary>
    public IReadOnlyList<string>? DependsOn { get; init; }

    /// <summary>The team; when given, it must be the key's own.</summary>
    public string? Team { get; init; }

    /// <summary>The command to run (local and cloud backends), at most 64 KiB.</summary>
    public string? Command { get; init; }

    /// <summary>The container image to run (Kubernetes).</summary>
    public string? Image { get; init; }

    /// <summary>
    /// Scheduling windows the job must run inside, e.g. <c>Mon-Fri 20:00-06:00</c> or <c>Sat-Sun Europe/Berlin</c> (UTC unless
    /// a zone is named): it starts in one and ends in the same one (docs/teams.md#scheduling-windows).
    /// </summary>
    public IReadOnlyList<string>? Windows { get; init; }
}

/// <summary>A resource request: a class (<c>type</c>), explicit needs, or a list of instance types.</summary>
public sealed record ResourceRequirementsSpec
{
    /// <summary>A resource class by name: <c>cpu_small</c>, <c>cpu_medium</c>, <c>cpu_large</c>, <c>gpu_medium</c>, <c>gpu_large</c>, ...</summary>
    public string? Type { get; init; }

    /// <summary>Instance types of the catalog the job may run on.</summary>
    public IReadOnlyList<string>? InstanceTypes { get; init; }

    /// <summary>At least this many vCPUs.</summary>
    public int? Vcpus { get; init; }

    /// <summary>At least this much memory, in GiB.</summary>
    public double? MemoryGiB { get; init; }

    /// <summary>At least this many GPUs.</summary>
    public int? Gpus { get; init; }

    /// <summary>This GPU model (a model of the catalog).</summary>
    public string? GpuModel { get; init; }

    /// <summary><c>x86_64</c> (the default), <c>arm64</c> or <c>any</c>.</summary>
    public string? Architecture { get; init; }
}
