using k8s;
using k8s.Models;
using Spotwise.Runtime;

namespace Spotwise.Compute.Kubernetes;

/// <summary>
/// What the watch knows of this installation's Jobs: each as last listed or watched, and for a while each that left the
/// cluster (deleted by us, by its TTL, or by hand), with its last state. Describe answers from it; a launch looks here
/// first. Thread-safe. Resource versions are opaque: kept to resume the watch, compared only for equality.
/// </summary>
internal sealed class JobView(TimeProvider time, TimeSpan endedMemory)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, V1Job> _live = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Gone> _gone = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> _terminated = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _synced = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The resource version to watch from: the last list's, then each event's (bookmarks too).</summary>
    public string? ResourceVersion { get; private set; }

    /// <summary>Completes when the first list has been read.</summary>
    public Task Synced => _synced.Task;

    /// <summary>Raised after every change (a list, an event, a launch, a terminate): a test waits on it instead of sleeping.</summary>
    public event Action? Changed;

    /// <summary>A full list: the view becomes exactly it; a Job that was known and is not listed left the cluster meanwhile.</summary>
    public void Replace(IEnumerable<V1Job> jobs, string? resourceVersion)
    {
        lock (_lock)
        {
            var listed = jobs.Where(j => j.Metadata?.Name is not null).ToDictionary(j => j.Metadata.Name, StringComparer.Ordinal);
            foreach (var name in _live.Keys.Where(n => !listed.ContainsKey(n)).ToList())
            {
                Forget(name);
            }
            foreach (var (name, job) in listed)
            {
                _live[name] = job;
                _gone.Remove(name);
            }
            ResourceVersion = resourceVersion;
        }
        _synced.TrySetResult();
        Changed?.Invoke();
    }

    /// <summary>One watch event.</summary>
    public void Apply(WatchEventType type, V1Job job)
    {
        lock (_lock)
        {
            if (job.Metadata?.ResourceVersion is { } version)
            {
                ResourceVersion = version;
            }
            if (type != WatchEventType.Bookmark && job.Metadata?.Name is { } name)
            {
                _live[name] = job;
                _gone.Remove(name);
                if (type == WatchEventType.Deleted)
                {
                    Forget(name);
                }
            }
        }
        Changed?.Invoke();
    }

    /// <summary>A Job the backend made or found (a create's answer): known at once, before the watch says so.</summary>
    public void Know(V1Job job)
    {
        lock (_lock)
        {
            var name = job.Metadata.Name;
            // The watch may already hold a later version; an unequal version never replaces a known one here.
            if (!_live.ContainsKey(name))
            {
                _live[name] = job;
                _gone.Remove(name);
            }
        }
        Changed?.Invoke();
    }

    /// <summary>Spotwise asked for the Job's deletion: from now on it is terminated, unless it had already ended.</summary>
    public void Terminated(string name)
    {
        lock (_lock)
        {
            _terminated.TryAdd(name, time.GetUtcNow());
        }
        Changed?.Invoke();
    }

    /// <summary>Whether the Job is known (live, or gone within memory).</summary>
    public bool Knows(string name)
    {
        lock (_lock)
        {
            return _live.ContainsKey(name) || _gone.ContainsKey(name);
        }
    }

    /// <summary>The Job's status now, or null when the view has none.</summary>
    public InstanceStatus? Find(string name)
    {
        lock (_lock)
        {
            return _live.TryGetValue(name, out var job) ? StatusOf(name, job) : _gone.GetValueOrDefault(name)?.Status;
        }
    }

    /// <summary>Every Job's status: the live ones, and those gone within <c>endedMemory</c>.</summary>
    public IReadOnlyList<InstanceStatus> Statuses()
    {
        lock (_lock)
        {
            var horizon = time.GetUtcNow() - endedMemory;
            foreach (var old in _gone.Where(g => g.Value.At < horizon).Select(g => g.Key).ToList())
            {
                _gone.Remove(old);
            }
            // A terminate of a name the view never held (an unknown id) is forgotten with the ended Jobs.
            foreach (var old in _terminated.Where(t => t.Value < horizon && !_live.ContainsKey(t.Key) && !_gone.ContainsKey(t.Key)).Select(t => t.Key).ToList())
            {
                _terminated.Remove(old);
            }
            return [.. _live.Select(j => StatusOf(j.Key, j.Value)).OfType<InstanceStatus>(), .. _gone.Values.Select(g => g.Status)];
        }
    }

    /// <summary>The live Jobs themselves (the orphan sweep reads them).</summary>
    public IReadOnlyList<V1Job> LiveJobs()
    {
        lock (_lock)
        {
            return [.. _live.Values];
        }
    }

    private InstanceStatus? StatusOf(string name, V1Job job)
    {
        var status = JobStatuses.From(job);
        // Deleting a Job takes a moment (its pod terminates first): once asked, it is terminated.
        return status is not null && _terminated.TryGetValue(name, out var at) ? AsTerminated(status, at) : status;
    }

    /// <summary>The Job left the cluster: its last state is kept; one that had not ended was terminated (by us or by hand).</summary>
    private void Forget(string name)
    {
        var job = _live[name];
        _live.Remove(name);
        var now = time.GetUtcNow();
        if (JobStatuses.From(job) is not { } status)
        {
            return;
        }
        if (!status.IsEnded)
        {
            status = _terminated.TryGetValue(name, out var at) ? AsTerminated(status, at)
                : AsTerminated(status, now) with { Error = "the Job was deleted outside Spotwise" };
        }
        _gone[name] = new Gone(status, now);
    }

    private static InstanceStatus AsTerminated(InstanceStatus status, DateTimeOffset at) => status.IsEnded ? status : status with
    {
        State = InstanceState.Terminated,
        EndedAt = at < status.LaunchedAt ? status.LaunchedAt : at,
    };

    private sealed record Gone(InstanceStatus Status, DateTimeOffset At);
}
