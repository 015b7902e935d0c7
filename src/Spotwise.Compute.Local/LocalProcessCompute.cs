using System.Diagnostics;
using Spotwise.Runtime;

namespace Spotwise.Compute.Local;

/// <summary>How the local backend runs jobs.</summary>
public sealed record LocalProcessOptions
{
    /// <summary>How many jobs run at once on this machine; later launches wait (Pending) for a free slot.</summary>
    public int Slots { get; init; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>Each instance's stdout and stderr go to <c>{id}.log</c> here, so nothing a job prints is lost.</summary>
    public required string LogDirectory { get; init; }

    /// <summary>Runs the job's <c>command</c> as <c>{Shell} -c "command"</c>.</summary>
    public string Shell { get; init; } = "/bin/sh";

    public string? WorkingDirectory { get; init; }
}

/// <summary>
/// A backend that really runs each job's <c>command</c> as a process on this machine, for users who want to try real
/// work: slots are its capacity, an exit code of 0 is success, terminating kills the whole process tree. Nothing is
/// interrupted and nothing costs money (prices are 0). Launch is idempotent by client token like every backend.
/// </summary>
public sealed class LocalProcessCompute(LocalProcessOptions options, TimeProvider time) : ICompute, IDisposable
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, LocalInstance> _byToken = new(StringComparer.Ordinal);
    private readonly Dictionary<string, LocalInstance> _byId = new(StringComparer.Ordinal);
    private readonly Queue<LocalInstance> _waiting = new();
    private int _running;
    private int _sequence;

    public Task<InstanceStatus> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_byToken.TryGetValue(request.ClientToken, out var known))
            {
                return Task.FromResult(known.Status());
            }
            var instance = new LocalInstance(FormattableString.Invariant($"local-{++_sequence:D6}"), request, time.GetUtcNow());
            _byToken[request.ClientToken] = instance;
            _byId[instance.Id] = instance;
            if (string.IsNullOrWhiteSpace(request.Command))
            {
                instance.End(InstanceState.Failed, time.GetUtcNow(), $"job '{request.JobId}' of team '{request.Team}' has no command: the local backend runs a job's command");
            }
            else
            {
                _waiting.Enqueue(instance);
                StartWaiting();
            }
            return Task.FromResult(instance.Status());
        }
    }

    public Task<IReadOnlyList<InstanceStatus>> DescribeAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<InstanceStatus>>([.. _byId.Values.OrderBy(i => i.Id, StringComparer.Ordinal).Select(i => i.Status())]);
        }
    }

    /// <summary>
    /// Completes when the instance is over and its log is whole: its process (and every process holding its output)
    /// has exited and each line printed is written; at once for an instance that never started. Tests wait on this,
    /// not on time.
    /// </summary>
    public Task WhenFinishedAsync(string instanceId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _byId.TryGetValue(instanceId, out var instance)
                ? instance.Finished.WaitAsync(cancellationToken)
                : throw new ArgumentException($"no instance '{instanceId}'", nameof(instanceId));
        }
    }

    public Task TerminateAsync(string instanceId, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (_byId.TryGetValue(instanceId, out var instance) && !instance.IsEnded)
            {
                instance.End(InstanceState.Terminated, time.GetUtcNow(), null);
                instance.Kill();
            }
        }
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var instance in _byId.Values.Where(i => !i.IsEnded))
            {
                instance.End(InstanceState.Terminated, time.GetUtcNow(), "the backend was shut down");
                instance.Kill();
            }
        }
    }

    /// <summary>Starts waiting instances while slots are free. Called under the lock.</summary>
    private void StartWaiting()
    {
        while (_running < options.Slots && _waiting.TryDequeue(out var next))
        {
            if (next.IsEnded)
            {
                continue;
            }
            try
            {
                next.Start(options, time.GetUtcNow(), OnExited);
                _running++;
            }
            catch (Exception e) when (e is System.ComponentModel.Win32Exception or IOException or InvalidOperationException)
            {
                next.End(InstanceState.Failed, time.GetUtcNow(), $"could not start '{options.Shell}': {e.Message}");
            }
        }
    }

    private void OnExited(LocalInstance instance, int exitCode)
    {
        lock (_gate)
        {
            _running--;
            if (!instance.IsEnded)
            {
                instance.End(exitCode == 0 ? InstanceState.Succeeded : InstanceState.Failed, time.GetUtcNow(),
                    exitCode == 0 ? null : FormattableString.Invariant($"exit code {exitCode}; see {instance.LogPath}"));
            }
            StartWaiting();
        }
    }

    /// <summary>One launch: its process, once a slot is free, and what became of it.</summary>
    private sealed class LocalInstance(string id, LaunchRequest request, DateTimeOffset launchedAt)
    {
        private Process? _process;
        private DateTimeOffset? _runningSince;
        private DateTimeOffset? _endedAt;
        private InstanceState _state = InstanceState.Pending;
        private string? _error;
        private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Id { get; } = id;

        /// <summary>Completes once the process has exited and its log is whole (at once for an instance that never started).</summary>
        public Task Finished => _finished.Task;

        public string? LogPath { get; private set; }

        public bool IsEnded => _endedAt is not null;

        public void Start(LocalProcessOptions options, DateTimeOffset now, Action<LocalInstance, int> exited)
        {
            Directory.CreateDirectory(options.LogDirectory);
            LogPath = Path.Combine(options.LogDirectory, Id + ".log");
            var log = new StreamWriter(LogPath) { AutoFlush = true };
            var info = new ProcessStartInfo(options.Shell)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = options.WorkingDirectory ?? Environment.CurrentDirectory,
            };
            info.ArgumentList.Add("-c");
            info.ArgumentList.Add(request.Command!);
            info.Environment["SPOTWISE_TEAM"] = request.Team;
            info.Environment["SPOTWISE_JOB_ID"] = request.JobId;
            info.Environment["SPOTWISE_ATTEMPT"] = request.Attempt.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var process = new Process { StartInfo = info, EnableRaisingEvents = true };
            process.OutputDataReceived += (_, e) => Write(log, e.Data);
            process.ErrorDataReceived += (_, e) => Write(log, e.Data);
            process.Start();
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            _process = process;
            _runningSince = now;
            _state = InstanceState.Running;
            _ = ExitedAsync(process, log, exited);
        }

        /// <summary>
        /// Waits for the exit and the last line of output, then closes the log and reports. Waited for only once both
        /// readers have begun: an Exited event could fire before BeginOutputReadLine on a loaded machine, and then the
        /// wait did not drain the output and a quick job's log was closed empty.
        /// </summary>
        private async Task ExitedAsync(Process process, StreamWriter log, Action<LocalInstance, int> exited)
        {
            // Never completes inline inside Start: the report takes the backend's lock and frees a slot.
            await process.WaitForExitAsync().ConfigureAwait(ConfigureAwaitOptions.ForceYielding);
            var exitCode = process.ExitCode;
            lock (log)
            {
                log.Dispose();
            }
            exited(this, exitCode);
            _finished.TrySetResult();
        }

        public void End(InstanceState state, DateTimeOffset at, string? error)
        {
            _state = state;
            _endedAt = at;
            _error = error;
            if (_process is null)
            {
                _finished.TrySetResult();
            }
        }

        public void Kill()
        {
            try
            {
                _process?.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
                // It had already exited: nothing left to stop.
            }
        }

        public InstanceStatus Status() => new(Id, request.ClientToken, request.Team, request.JobId, request.Attempt, request.Market, request.InstanceType,
            request.Zone, _state, launchedAt, _runningSince, _endedAt, null, 0, 0, _state == InstanceState.Succeeded ? request.WorkHours : 0, _error);

        private static void Write(StreamWriter log, string? line)
        {
            if (line is null)
            {
                return;
            }
            lock (log)
            {
                if (log.BaseStream.CanWrite)
                {
                    log.WriteLine(line);
                }
            }
        }
    }
}
