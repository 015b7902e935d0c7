using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;

namespace Spotwise.Compute.Slurm;

/// <summary>
/// A backend on a Slurm cluster, through its commands: each attempt is one batch job submitted with <c>sbatch</c>, named
/// by its client token (so a launch first looks the name up with <c>squeue</c>: idempotent across restarts), on the
/// partition of its market; its state is read from <c>squeue --json</c>, which lists finished jobs too for the
/// controller's MinJobAge (no accounting daemon needed); <c>scancel</c> terminates. A spot job Slurm preempted and
/// requeued is an interruption: the backend cancels the requeued copy so the runtime's policy, not Slurm, decides
/// where the work runs next. Nothing costs money here (prices are 0): a cluster's hours are the group's own.
/// </summary>
public sealed partial class SlurmCompute : ICompute, IDisposable
{
    /// <summary>Instance ids are the Slurm job id with this prefix, unique among the service's backends.</summary>
    public const string IdPrefix = "slurm-";

    private readonly SlurmComputeOptions _options;
    private readonly SlurmCommands _commands;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BackendHealth? _health;
    private readonly string _name;
    private readonly SemaphoreSlim _launches = new(1, 1);

    /// <summary>Launches sbatch refused outright (no job was made), kept so describe reports them and they are not asked again.</summary>
    private readonly Dictionary<string, InstanceStatus> _refused = new(StringComparer.Ordinal);

    /// <summary>
    /// When this backend cancelled each job: Slurm reports a running job RUNNING for a moment after scancel (while it kills
    /// it), and a terminate must read as terminated at once, with one end time, whatever Slurm says next.
    /// </summary>
    private readonly Dictionary<long, DateTimeOffset> _cancelled = [];

    /// <summary>
    /// When each job was first seen submitted and running: a requeue resets both of Slurm's times (a preempted job reads as
    /// submitted at its requeue and started at its cancel), yet the runtime must see that the attempt ran (an
    /// interruption, not a refused launch). After a restart, Slurm's own times stand in.
    /// </summary>
    private readonly Dictionary<long, (DateTimeOffset Submitted, DateTimeOffset? Started)> _seen = [];

    public SlurmCompute(SlurmComputeOptions options, TimeProvider time, ILogger<SlurmCompute>? logger = null, BackendHealth? health = null,
        string name = SlurmComputeRegistration.Name)
    {
        _options = options;
        _commands = new SlurmCommands(options);
        _time = time;
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _health = health;
        _name = name;
    }

    public async Task<InstanceStatus> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
    {
        await _launches.WaitAsync(cancellationToken);
        try
        {
            lock (_refused)
            {
                if (_refused.TryGetValue(request.ClientToken, out var refused))
                {
                    return refused;
                }
            }
            var name = _options.JobNamePrefix + request.ClientToken;
            var existing = (await ListAsync(cancellationToken)).Where(j => j.Name == name).MaxBy(j => j.JobId);
            if (existing is not null)
            {
                return Status(existing)!;
            }
            return string.IsNullOrWhiteSpace(request.Command)
                ? Refuse(request, $"job '{request.JobId}' of team '{request.Team}' has no command: the slurm backend runs a job's command")
                : await SubmitAsync(request, cancellationToken);
        }
        finally
        {
            _launches.Release();
        }
    }

    public async Task<IReadOnlyList<InstanceStatus>> DescribeAsync(CancellationToken cancellationToken)
    {
        var jobs = await ListAsync(cancellationToken);
        if (await CancelRequeuedAsync(jobs, cancellationToken))
        {
            // Read again, so the cancelled copies are reported with the end Slurm gave them.
            jobs = await ListAsync(cancellationToken);
        }
        ForgetAllBut(jobs);
        List<InstanceStatus> statuses = [.. jobs.Select(Status).OfType<InstanceStatus>()];
        lock (_refused)
        {
            statuses.AddRange(_refused.Values);
        }
        return statuses;
    }

    public async Task TerminateAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (!TryJobId(instanceId, out var jobId))
        {
            // Not a Slurm job of ours (a refused launch, or another backend's id): nothing runs to stop.
            return;
        }
        await ScancelAsync(jobId, cancellationToken);
        lock (_cancelled)
        {
            _cancelled.TryAdd(jobId, _time.GetUtcNow());
        }
    }

    /// <summary>
    /// Cancels every job of this installation (named with <see cref="SlurmComputeOptions.JobNamePrefix"/>) that is not over:
    /// for tests and for clearing a cluster by hand. The reconcile loop itself stops the jobs no record owns, as it sees them.
    /// </summary>
    public async Task CancelAllAsync(CancellationToken cancellationToken)
    {
        foreach (var job in (await ListAsync(cancellationToken)).Where(j => Status(j) is { IsEnded: false } || SlurmStates.AwaitsRequeue(j)))
        {
            await ScancelAsync(job.JobId, cancellationToken);
        }
    }

    private async Task<InstanceStatus> SubmitAsync(LaunchRequest request, CancellationToken ct)
    {
        var submission = SlurmSubmission.For(request, _options, _time.GetUtcNow());
        Directory.CreateDirectory(_options.OutputDirectory);
        var output = await CallAsync("sbatch", () => _commands.RunAsync(_options.PathOf("sbatch"), submission.Arguments, ct, submission.Script));
        var idText = output.Stdout.Trim().Split(';')[0];
        if (output.ExitCode != 0 || !long.TryParse(idText, NumberStyles.None, CultureInfo.InvariantCulture, out var jobId))
        {
            if (Unreachable(output.Message))
            {
                throw Unavailable("sbatch", $"sbatch failed: {output.Message}");
            }
            // The cluster answered and said no (no such partition, a limit): this attempt cannot run as asked.
            return Refuse(request, $"sbatch refused the job: {output.Message}");
        }
        var partition = _options.PartitionFor(request.Market);
        LogSubmitted(_logger, request.Job, request.Attempt, jobId, partition);
        var submitted = new SlurmJob(jobId, _options.JobNamePrefix + request.ClientToken, "PENDING", partition,
            submission.Comment, 0, 0, WholeSeconds(_time.GetUtcNow()), null, null, submission.OutputPattern);
        return Status(submitted)!;
    }

    /// <summary>Slurm keeps whole seconds: a launch time with more would fall after the start Slurm reports.</summary>
    private static DateTimeOffset WholeSeconds(DateTimeOffset at) => DateTimeOffset.FromUnixTimeSeconds(at.ToUnixTimeSeconds());

    private InstanceStatus Refuse(LaunchRequest request, string why)
    {
        var now = _time.GetUtcNow();
        var status = new InstanceStatus(IdPrefix + "refused-" + request.ClientToken, request.ClientToken, request.Team, request.JobId, request.Attempt,
            request.Market, request.InstanceType, request.Zone, InstanceState.Failed, now, null, now, null, 0, 0, 0, why);
        lock (_refused)
        {
            _refused[request.ClientToken] = status;
        }
        return status;
    }

    /// <summary>Spot jobs Slurm requeued after a preemption are cancelled: the interruption is the runtime's to answer.</summary>
    private async Task<bool> CancelRequeuedAsync(IReadOnlyList<SlurmJob> jobs, CancellationToken ct)
    {
        var cancelled = false;
        foreach (var job in jobs.Where(SlurmStates.AwaitsRequeue))
        {
            LogRequeued(_logger, job.Name, job.JobId);
            await ScancelAsync(job.JobId, ct);
            cancelled = true;
        }
        return cancelled;
    }

    private async Task ScancelAsync(long jobId, CancellationToken ct)
    {
        var id = jobId.ToString(CultureInfo.InvariantCulture);
        var output = await CallAsync("scancel", () => _commands.RunAsync(_options.PathOf("scancel"), [id], ct));
        // A job that has ended, or that the controller has forgotten, is no error: terminating it is a no-op.
        if (output.ExitCode != 0 && Unreachable(output.Message))
        {
            throw Unavailable("scancel", $"scancel {id} failed: {output.Message}");
        }
    }

    /// <summary>Every job of this installation Slurm still remembers: named with the prefix and a client token.</summary>
    private async Task<IReadOnlyList<SlurmJob>> ListAsync(CancellationToken ct)
    {
        var output = await CallAsync("squeue", () => _commands.RunAsync(_options.PathOf("squeue"), ["--json"], ct));
        if (output.ExitCode != 0)
        {
            throw Unavailable("squeue", $"squeue failed: {output.Message}");
        }
        IReadOnlyList<SlurmJob> jobs;
        try
        {
            jobs = SlurmJob.ParseSqueue(output.Stdout);
        }
        catch (SlurmUnreachableException e)
        {
            throw Unavailable("squeue", e.Message);
        }
        return [.. jobs.Where(j => j.Name.StartsWith(_options.JobNamePrefix, StringComparison.Ordinal)
            && ClientTokens.TryParse(j.Name[_options.JobNamePrefix.Length..], out _, out _))];
    }

    /// <summary>Runs a command; a command that cannot run or answer makes the backend unhealthy until one succeeds.</summary>
    private async Task<SlurmOutput> CallAsync(string subject, Func<Task<SlurmOutput>> call)
    {
        SlurmOutput output;
        try
        {
            output = await call();
        }
        catch (SlurmUnreachableException e)
        {
            throw Unavailable(subject, e.Message, e);
        }
        if (output.ExitCode == 0 || !Unreachable(output.Message))
        {
            _health?.Cleared(_name, subject);
        }
        return output;
    }

    private BackendUnavailableException Unavailable(string subject, string message, Exception? inner = null)
    {
        _health?.Failing(_name, subject, message, _time.GetUtcNow(), wholeBackend: true);
        return inner is null ? new BackendUnavailableException(message) : new BackendUnavailableException(message, inner);
    }

    /// <summary>Whether a failing command's message says the controller could not be reached (rather than a refusal).</summary>
    private static bool Unreachable(string message) =>
        message.Contains("Unable to contact slurm controller", StringComparison.OrdinalIgnoreCase)
        || message.Contains("Socket timed out", StringComparison.OrdinalIgnoreCase)
        || message.Contains("Connection refused", StringComparison.OrdinalIgnoreCase)
        || message.Contains("munge", StringComparison.OrdinalIgnoreCase)
        || message.Contains("Could not establish a configuration source", StringComparison.OrdinalIgnoreCase);

    private InstanceStatus? Status(SlurmJob job)
    {
        if (!ClientTokens.TryParse(job.Name[_options.JobNamePrefix.Length..], out var key, out var attempt))
        {
            return null;
        }
        var asked = SlurmSubmission.ReadComment(job.Comment);
        var market = asked is not null && MarketNames.TryParse(asked.GetValueOrDefault("market"), out var m) ? m
            : job.Partition == _options.SpotPartition ? Market.Spot : Market.OnDemand;
        var work = asked is not null && double.TryParse(asked.GetValueOrDefault("work"), NumberStyles.Float, CultureInfo.InvariantCulture, out var w) ? w : 0;
        var state = SlurmStates.Of(job);
        var (submitted, started) = Remember(job, state);
        var endedAt = (DateTimeOffset?)null;
        if (state is InstanceState.Pending or InstanceState.Running or InstanceState.Terminated && CancelledAt(job.JobId) is { } cancelledAt)
        {
            (state, endedAt) = (InstanceState.Terminated, cancelledAt);
        }
        var ended = state is InstanceState.Succeeded or InstanceState.Failed or InstanceState.Interrupted or InstanceState.Terminated;
        endedAt ??= ended ? job.EndedAt ?? _time.GetUtcNow() : null;
        return new InstanceStatus(
            IdPrefix + job.JobId.ToString(CultureInfo.InvariantCulture), key + "#" + attempt.ToString(CultureInfo.InvariantCulture), key.Team, key.Id,
            attempt, market, asked?.GetValueOrDefault("type") ?? job.Partition, asked?.GetValueOrDefault("zone") ?? job.Partition, state,
            submitted, RunningSince(job, state, started, endedAt), endedAt,
            state == InstanceState.Interrupted ? endedAt : null, 0, 0, state == InstanceState.Succeeded ? work : 0, SlurmStates.Error(job))
        {
            ExitCode = ended && state != InstanceState.Interrupted ? job.ExitCode : null,
            OutputPath = job.OutputPath,
        };
    }

    private DateTimeOffset? CancelledAt(long jobId)
    {
        lock (_cancelled)
        {
            return _cancelled.TryGetValue(jobId, out var at) ? at : null;
        }
    }

    /// <summary>
    /// When the work began: Slurm's start time once it ran. A job cancelled while pending gets start = end, and never ran;
    /// a preempted one did run, from when it was first seen running (or, after a restart, its requeue: a bound).
    /// </summary>
    private static DateTimeOffset? RunningSince(SlurmJob job, InstanceState state, DateTimeOffset? started, DateTimeOffset? endedAt) => state switch
    {
        InstanceState.Pending => null,
        InstanceState.Running or InstanceState.Succeeded or InstanceState.Failed => started ?? job.StartedAt ?? endedAt,
        InstanceState.Interrupted when job.Restarts > 0 => started ?? job.SubmittedAt ?? endedAt,
        _ => started ?? (job.StartedAt is { } start && start < endedAt ? start : null),
    };

    /// <summary>Drops what is remembered of jobs Slurm has forgotten (past MinJobAge), so the memory stays as small as the queue.</summary>
    private void ForgetAllBut(IReadOnlyList<SlurmJob> jobs)
    {
        var listed = jobs.Select(j => j.JobId).ToHashSet();
        lock (_seen)
        {
            foreach (var gone in _seen.Keys.Where(id => !listed.Contains(id)).ToList())
            {
                _seen.Remove(gone);
            }
        }
        lock (_cancelled)
        {
            foreach (var gone in _cancelled.Keys.Where(id => !listed.Contains(id)).ToList())
            {
                _cancelled.Remove(gone);
            }
        }
    }

    /// <summary>The job's first-seen submit and start times (see <see cref="_seen"/>).</summary>
    private (DateTimeOffset Submitted, DateTimeOffset? Started) Remember(SlurmJob job, InstanceState state)
    {
        lock (_seen)
        {
            var known = _seen.TryGetValue(job.JobId, out var seen) ? seen : (job.SubmittedAt ?? _time.GetUtcNow(), null);
            if (known.Started is null && state is InstanceState.Running && job.Restarts == 0 && job.StartedAt is { } start)
            {
                known = known with { Started = start };
            }
            _seen[job.JobId] = known;
            return known;
        }
    }

    public void Dispose() => _launches.Dispose();

    private static bool TryJobId(string instanceId, out long jobId)
    {
        jobId = 0;
        return instanceId.StartsWith(IdPrefix, StringComparison.Ordinal)
            && long.TryParse(instanceId.AsSpan(IdPrefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out jobId);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Submitted {JobId} attempt {Attempt} as Slurm job {SlurmJobId} on partition {Partition}")]
    private static partial void LogSubmitted(ILogger logger, JobKey jobId, int attempt, long slurmJobId, string partition);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slurm requeued {JobName} (Slurm job {SlurmJobId}) after a preemption: cancelling it, the runtime decides where it runs next")]
    private static partial void LogRequeued(ILogger logger, string jobName, long slurmJobId);
}
