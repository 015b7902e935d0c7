using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Traces;

namespace Spotwise.Compute.Simulated;

/// <summary>
/// A cloud in virtual time: instances boot for <see cref="SimulatedCloudOptions.LaunchDelay"/>, run their work, and spot
/// instances are taken back when their pool's trace says the capacity is gone, with a notice before. Nothing runs in the
/// background: every call first brings the world up to the <see cref="TimeProvider"/>'s now, event by event (only the
/// moments where a traced pool's capacity changes, and the notices before them), then answers. The outcome depends
/// only on the calls that change the world (launch, terminate) and when they are made, never on how often anyone looks.
/// See docs/simulation.md.
/// </summary>
public sealed class SimulatedCloud : ICompute
{
    public const string NoSpotCapacity = "no spot capacity";

    private readonly Lock _lock = new();
    private readonly TimeProvider _time;
    private readonly SimulatedCloudOptions _options;
    private readonly List<Pool> _pools;
    private readonly Dictionary<(string Zone, string InstanceType), Pool> _poolByKey;
    private readonly Dictionary<string, Instance> _byToken = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Instance> _byId = new(StringComparer.Ordinal);
    private readonly List<Instance> _instances = [];

    // Every event at or before this moment has been applied.
    private DateTimeOffset _clock;

    public SimulatedCloud(SimulatedCloudOptions options, TimeProvider timeProvider)
    {
        var errors = options.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(options));
        }
        _options = options;
        _time = timeProvider;
        _pools = [.. options.SpotTraces.Select(t => new Pool(t))];
        _poolByKey = _pools.ToDictionary(p => (p.Trace.Zone, p.Trace.InstanceType));
        _clock = timeProvider.GetUtcNow();
    }

    public Task<InstanceStatus> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Launch(request));
    }

    public Task<IReadOnlyList<InstanceStatus>> DescribeAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Describe());
    }

    public Task TerminateAsync(string instanceId, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        Terminate(instanceId);
        return Task.CompletedTask;
    }

    /// <summary>
    /// <see cref="LaunchAsync"/> without the task: the cloud lives in virtual time and never waits, so a synchronous
    /// driver (the single-job scenario engine) calls these three directly instead of blocking on a task.
    /// </summary>
    public InstanceStatus Launch(LaunchRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.ClientToken, nameof(request));
        if (!double.IsFinite(request.WorkHours) || request.WorkHours < 0)
        {
            throw new ArgumentException($"WorkHours is {request.WorkHours}; it must be >= 0", nameof(request));
        }
        if (!double.IsFinite(request.CheckpointIntervalHours) || request.CheckpointIntervalHours < 0)
        {
            throw new ArgumentException($"CheckpointIntervalHours is {request.CheckpointIntervalHours}; it must be >= 0", nameof(request));
        }

        lock (_lock)
        {
            var now = AdvanceToNow();
            if (_byToken.TryGetValue(request.ClientToken, out var existing))
            {
                if (existing.Request != request)
                {
                    // AWS answers IdempotentParameterMismatch: a caller reusing a token for another launch has a bug.
                    throw new ArgumentException(
                        $"client token '{request.ClientToken}' was used for a different launch ({existing.Id})", nameof(request));
                }
                return StatusOf(existing, now);
            }

            var pool = request.Market == Market.Spot ? _poolByKey.GetValueOrDefault((request.Zone, request.InstanceType)) : null;
            var entry = _options.Catalog.Find(request.InstanceType);
            var catalogPrice = request.Market == Market.Spot ? entry?.SpotPricePerHourUsd : entry?.OnDemandPricePerHourUsd;
            var runHours = request.WorkHours * (1 + (_options.DurationNoiseFraction * Noise(_options.Seed, request.ClientToken)));
            var runsAt = now + _options.LaunchDelay;
            var instance = new Instance(
                request,
                FormattableString.Invariant($"sim-{_instances.Count + 1:D6}"),
                _instances.Count,
                now,
                runsAt,
                runsAt + TimeSpan.FromHours(runHours),
                runHours,
                pool,
                catalogPrice);

            if (catalogPrice is null && pool?.Trace.HasPrices != true)
            {
                instance.End(InstanceState.Failed, now, $"instance type '{request.InstanceType}' is not in the catalog");
            }
            else if (pool is not null && pool.LiveAt(now).Count() >= pool.Trace.AvailableAt(now))
            {
                // AWS answers InsufficientInstanceCapacity; the request ends at once, with nothing to pay.
                instance.End(InstanceState.Interrupted, now, NoSpotCapacity);
            }

            _instances.Add(instance);
            _byToken.Add(request.ClientToken, instance);
            _byId.Add(instance.Id, instance);
            pool?.Instances.Add(instance);
            return StatusOf(instance, now);
        }
    }

    /// <summary><see cref="DescribeAsync"/> without the task (see <see cref="Launch"/>).</summary>
    public IReadOnlyList<InstanceStatus> Describe()
    {
        lock (_lock)
        {
            var now = AdvanceToNow();
            return [.. _instances.Select(i => StatusOf(i, now))];
        }
    }

    /// <summary><see cref="TerminateAsync"/> without the task (see <see cref="Launch"/>).</summary>
    public void Terminate(string instanceId)
    {
        lock (_lock)
        {
            var now = AdvanceToNow();
            if (_byId.TryGetValue(instanceId, out var instance) && instance.IsLiveAt(now))
            {
                instance.End(InstanceState.Terminated, now, null);
            }
        }
    }

    /// <summary>
    /// The next moment after now at which something a caller could see changes by itself: an instance starts running
    /// or finishes its work, a notice is given, or a traced pool with live instances changes capacity. Null when
    /// nothing is live. A driver of virtual time (the queue simulation) jumps from one such moment to the next.
    /// </summary>
    public DateTimeOffset? NextChange()
    {
        lock (_lock)
        {
            var now = AdvanceToNow();
            DateTimeOffset? next = null;
            foreach (var i in _instances.Where(i => i.IsLiveAt(now)))
            {
                next = Earliest(next, i.RunsAt > now ? i.RunsAt : i.FinishAt);
                next = Earliest(next, i.DoomedAt);
            }
            var notice = _options.InterruptionNotice;
            foreach (var pool in _pools.Where(p => p.LiveAt(now).Any()))
            {
                next = Earliest(next, pool.Trace.NextChange(now));
                if (pool.Trace.NextChange(now + notice) is { } change && change - notice > now)
                {
                    next = Earliest(next, change - notice);
                }
            }
            return next;
        }
    }

    // Applies, in time order, every capacity change and notice of the traced pools up to now. Pools with nothing live
    // are skipped: a trace with no one on it needs no stepping.
    private DateTimeOffset AdvanceToNow()
    {
        var now = _time.GetUtcNow();
        if (now <= _clock)
        {
            return _clock;
        }
        var notice = _options.InterruptionNotice;
        while (true)
        {
            DateTimeOffset? next = null;
            foreach (var pool in _pools)
            {
                pool.Instances.RemoveAll(i => !i.IsLiveAt(_clock));
                if (pool.Instances.Count == 0)
                {
                    continue;
                }
                next = Earliest(next, pool.Trace.NextChange(_clock));
                next = Earliest(next, pool.Trace.NextChange(_clock + notice) - notice);
            }
            if (next is not { } at || at > now)
            {
                break;
            }
            foreach (var pool in _pools.Where(p => p.Instances.Count > 0))
            {
                if (pool.Trace.NextChange(_clock) == at)
                {
                    TakeCapacityBack(pool, at);
                }
                if (pool.Trace.NextChange(_clock + notice) is { } change && change - notice == at)
                {
                    GiveNotice(pool, change, at);
                }
            }
            _clock = at;
        }
        _clock = now;
        return now;
    }

    // At a capacity change: those given notice go, then the newest of the rest while more run than the trace allows.
    // Those never warned (launched after the notice went out) hear of it as it happens.
    private static void TakeCapacityBack(Pool pool, DateTimeOffset at)
    {
        foreach (var doomed in pool.LiveAt(at).Where(i => i.DoomedAt <= at).ToList())
        {
            doomed.End(InstanceState.Interrupted, at, "spot capacity was taken back");
        }
        var live = pool.LiveAt(at).OrderByDescending(i => i.Sequence).ToList();
        var excess = live.Count - pool.Trace.AvailableAt(at);
        foreach (var victim in live.Take(Math.Max(0, excess)))
        {
            victim.NoticeAt ??= at;
            victim.End(InstanceState.Interrupted, at, "spot capacity was taken back");
        }
    }

    // A notice before the change at `change`: the newest of those that would still run then, beyond what the trace
    // will allow, are told now and go at `change` whatever happens in between.
    private static void GiveNotice(Pool pool, DateTimeOffset change, DateTimeOffset at)
    {
        var projected = pool.LiveAt(at)
            .Where(i => i.DoomedAt is null && i.FinishAt > change)
            .OrderByDescending(i => i.Sequence)
            .ToList();
        foreach (var victim in projected.Take(Math.Max(0, projected.Count - pool.Trace.AvailableAt(change))))
        {
            victim.DoomedAt = change;
            victim.NoticeAt = at;
        }
    }

    private static InstanceStatus StatusOf(Instance i, DateTimeOffset now)
    {
        InstanceState state;
        DateTimeOffset? endedAt = null;
        if (i.EndedAt is { } ended && ended <= now)
        {
            state = i.EndState;
            endedAt = ended;
        }
        else if (i.FinishAt <= now)
        {
            state = InstanceState.Succeeded;
            endedAt = i.FinishAt;
        }
        else
        {
            state = i.RunsAt <= now ? InstanceState.Running : InstanceState.Pending;
        }

        var until = endedAt ?? now;
        DateTimeOffset? runningSince = state switch
        {
            InstanceState.Running or InstanceState.Succeeded => i.RunsAt,
            InstanceState.Pending => null,
            _ => i.RunsAt < until ? i.RunsAt : null,
        };
        var runningHours = runningSince is { } since ? (until - since).TotalHours : 0;
        var trace = i.Pool?.Trace;
        var priceMoment = endedAt is { } e && runningSince is not null ? e - TimeSpan.FromTicks(1) : until;
        var pricePerHour = trace?.SpotPriceAt(priceMoment) ?? i.CatalogPricePerHourUsd ?? 0;
        var cost = runningSince is { } start
            ? trace?.SpotCostUsd(start, until) ?? ((i.CatalogPricePerHourUsd ?? 0) * runningHours)
            : 0;

        var request = i.Request;
        var workDone = i.RunHours > 0 ? Math.Min(request.WorkHours, runningHours * request.WorkHours / i.RunHours) : 0;
        double saved;
        if (state == InstanceState.Succeeded)
        {
            saved = request.WorkHours;
        }
        else if (!request.Checkpointable)
        {
            saved = 0;
        }
        else if (request.CheckpointIntervalHours > 0)
        {
            // A hair of tolerance so that exactly 3 intervals of work is not read as 2.999... of them.
            var checkpoints = Math.Floor((workDone / request.CheckpointIntervalHours) + 1e-9);
            saved = Math.Min(request.WorkHours, checkpoints * request.CheckpointIntervalHours);
        }
        else
        {
            saved = workDone;
        }

        return new InstanceStatus(
            i.Id,
            request.ClientToken,
            request.Team,
            request.JobId,
            request.Attempt,
            request.Market,
            request.InstanceType,
            request.Zone,
            state,
            i.LaunchedAt,
            runningSince,
            endedAt,
            i.NoticeAt <= now ? i.NoticeAt : null,
            pricePerHour,
            cost,
            saved,
            endedAt is null ? null : i.Error);
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : (a < b ? a : b);

    // u in [-1, 1) from the seed and the token alone (FNV-1a, then SplitMix64): order of launches does not matter.
    private static double Noise(int seed, string clientToken)
    {
        var hash = 14695981039346656037UL;
        foreach (var c in clientToken)
        {
            hash = (hash ^ c) * 1099511628211UL;
        }
        var z = hash ^ ((ulong)(uint)seed * 0x9E3779B97F4A7C15UL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        z ^= z >> 31;
        return ((z >> 11) * (1.0 / (1UL << 53)) * 2) - 1;
    }

    private sealed class Pool(SpotTrace trace)
    {
        public SpotTrace Trace { get; } = trace;

        /// <summary>Instances of this pool that may still be live (pruned as time passes).</summary>
        public List<Instance> Instances { get; } = [];

        public IEnumerable<Instance> LiveAt(DateTimeOffset at) => Instances.Where(i => i.IsLiveAt(at));
    }

    private sealed class Instance(
        LaunchRequest request,
        string id,
        int sequence,
        DateTimeOffset launchedAt,
        DateTimeOffset runsAt,
        DateTimeOffset finishAt,
        double runHours,
        Pool? pool,
        double? catalogPricePerHourUsd)
    {
        public LaunchRequest Request { get; } = request;

        public string Id { get; } = id;

        public int Sequence { get; } = sequence;

        public DateTimeOffset LaunchedAt { get; } = launchedAt;

        public DateTimeOffset RunsAt { get; } = runsAt;

        /// <summary>When the work would be done if nothing stops it first.</summary>
        public DateTimeOffset FinishAt { get; } = finishAt;

        /// <summary>Wall-clock hours the work takes on this instance (work hours with noise).</summary>
        public double RunHours { get; } = runHours;

        public Pool? Pool { get; } = pool;

        public double? CatalogPricePerHourUsd { get; } = catalogPricePerHourUsd;

        /// <summary>Set when the instance was stopped before its work was done (interrupted, terminated, failed).</summary>
        public DateTimeOffset? EndedAt { get; private set; }

        public InstanceState EndState { get; private set; }

        public string? Error { get; private set; }

        public DateTimeOffset? NoticeAt { get; set; }

        /// <summary>The capacity change this instance was warned of and will go at.</summary>
        public DateTimeOffset? DoomedAt { get; set; }

        /// <summary>Holds its place (booting or running) at <paramref name="at"/>.</summary>
        public bool IsLiveAt(DateTimeOffset at) => (EndedAt is null || at < EndedAt) && at < FinishAt;

        public void End(InstanceState state, DateTimeOffset at, string? error)
        {
            EndState = state;
            EndedAt = at;
            Error = error;
        }
    }
}
