using Spotwise.Core;

namespace Spotwise.Runtime;

/// <summary>
/// A compute backend: three calls, nothing more (a 40-member interface is the warning). Launch is idempotent by the
/// request's client token: launching the same token twice returns the same instance, so a crash between "launch"
/// and "record" never makes a second one. Implementations pass <c>ComputeBackendContract</c> (tests).
/// </summary>
public interface ICompute
{
    Task<InstanceStatus> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken);

    /// <summary>Every instance the backend knows, whatever its state (ended ones too, for a while).</summary>
    Task<IReadOnlyList<InstanceStatus>> DescribeAsync(CancellationToken cancellationToken);

    /// <summary>Stops an instance; terminating one that has ended, or is unknown, is not an error.</summary>
    Task TerminateAsync(string instanceId, CancellationToken cancellationToken);
}

/// <summary>Run <paramref name="WorkHours"/> of a job's work on one instance. <paramref name="JobId"/> is the team's own id.</summary>
public sealed record LaunchRequest(
    string ClientToken,
    string Team,
    string JobId,
    int Attempt,
    Market Market,
    string InstanceType,
    string Zone,
    double WorkHours,
    bool Checkpointable,
    double CheckpointIntervalHours,
    string? Command)
{
    public JobKey Job => new(Team, JobId);

    /// <summary>
    /// The provider of the offer the job was placed on (<see cref="Offer.Provider"/>): the router sends the launch to the
    /// backend serving it. Null (a placement from before providers travelled) means the service's default provider.
    /// </summary>
    public string? Provider { get; init; }

    /// <summary>
    /// The part of <see cref="WorkHours"/> the instance spends first moving the job's input from its data region into the
    /// launch's region (<see cref="DataTransfer"/>): paid running time that saves no progress, like a changeover. 0 when
    /// the data is where the instance runs.
    /// </summary>
    public double TransferHours { get; init; }

    /// <summary>
    /// The job's deadline, for a backend whose scheduler can enforce it (Slurm's <c>--deadline</c>). Null: none, or a
    /// launch asked for again from a stored intent (backends find those by their client token anyway).
    /// </summary>
    public DateTimeOffset? Deadline { get; init; }

    /// <summary>The job's container image (<see cref="Job.Image"/>), for backends that run containers; null: the backend's default.</summary>
    public string? Image { get; init; }
}

public enum InstanceState
{
    /// <summary>Asked for, not yet running (boot, image pull).</summary>
    Pending,
    Running,

    /// <summary>The work finished.</summary>
    Succeeded,

    /// <summary>The work failed on its own (exit code, crash).</summary>
    Failed,

    /// <summary>Spot capacity was taken back (after <see cref="InstanceStatus.InterruptionNoticeAt"/>).</summary>
    Interrupted,

    /// <summary>Stopped by us.</summary>
    Terminated,
}

/// <summary>What the backend says about one instance: whose job (<paramref name="Team"/>, <paramref name="JobId"/>) it runs.</summary>
public sealed record InstanceStatus(
    string InstanceId,
    string ClientToken,
    string Team,
    string JobId,
    int Attempt,
    Market Market,
    string InstanceType,
    string Zone,
    InstanceState State,
    DateTimeOffset LaunchedAt,
    DateTimeOffset? RunningSince,
    DateTimeOffset? EndedAt,
    DateTimeOffset? InterruptionNoticeAt,
    double PricePerHourUsd,
    double CostSoFarUsd,
    double SavedProgressHours,
    string? Error)
{
    public bool IsEnded => State is InstanceState.Succeeded or InstanceState.Failed or InstanceState.Interrupted or InstanceState.Terminated;

    public JobKey Job => new(Team, JobId);

    /// <summary>
    /// Set on a launch the cloud refused outright (nothing ran): why, so the runtime can tell an empty pool (backed off)
    /// from a quota reached (learnt: <see cref="LearnedLimits"/>). Null for every instance that was made.
    /// </summary>
    public LaunchRefusal? Refusal { get; init; }

    /// <summary>The exit code of the job's command once it has ended, where the backend knows it (Slurm); null otherwise.</summary>
    public int? ExitCode { get; init; }

    /// <summary>Where the job's output is kept, where the backend writes it to a file (Slurm's <c>--output</c>); null otherwise.</summary>
    public string? OutputPath { get; init; }

    /// <summary>
    /// Who admitted the instance to run, where a cluster's own queue decides (Kubernetes with Kueue: the LocalQueue); null
    /// where the backend runs what it is asked at once. The reconciler writes it into the job's running event.
    /// </summary>
    public string? Admission { get; init; }
}

/// <summary>Why a cloud refused a launch: <paramref name="Kind"/>, and the cloud's own code (<c>VcpuLimitExceeded</c>).</summary>
public sealed record LaunchRefusal(RefusalKind Kind, string Code);

public enum RefusalKind
{
    /// <summary>The pool has no room now (spot capacity, the zone's hardware): back the pool off, plan elsewhere.</summary>
    Capacity,

    /// <summary>The account's quota for the type's class is reached: learn the limit, plan within it.</summary>
    Quota,
}

/// <summary>
/// The client token of a launch: one per job attempt, so retries of the same launch are recognised. It holds the team:
/// two teams' "job-1" are two jobs, and a backend's tokens are global.
/// </summary>
public static class ClientTokens
{
    public static string For(JobKey key, int attempt) => FormattableString.Invariant($"{key}#{attempt}");

    /// <summary>Reads a token back into its job and attempt (split at the last '#': ids never hold one); false when it is not one.</summary>
    public static bool TryParse(string? token, out JobKey key, out int attempt)
    {
        var hash = token?.LastIndexOf('#') ?? -1;
        key = default;
        attempt = 0;
        return hash > 0
            && int.TryParse(token.AsSpan(hash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out attempt)
            && attempt > 0
            && JobKey.TryParse(token![..hash], out key);
    }
}
