using Spotwise.Core;

namespace Spotwise.Runtime.Policy;

/// <summary>
/// What the service has seen of spot capacity, per pool (zone, instance type), tick by tick: the spot policy's memory of
/// the market. Two sources: a feed that knows capacity now (<see cref="ISpotPoolFeed"/>, e.g. the traces the simulated
/// cloud replays) and what the backend reports (a spot launch refused, an interruption: no capacity now; an instance
/// running: capacity). A pool no feed knows is taken to have capacity unless the market said no within the cool-down
/// (else a job would wait forever on a pool it stopped trying). Per instance type it keeps, for each tick, whether some
/// pool had capacity, as prefix sums so any window is summarised in O(1); at most <c>keep</c> of ticks are kept (two weeks by default).
/// Thread-safe; one instance per service.
/// </summary>
public sealed class SpotAvailabilityHistory
{
    public static TimeSpan DefaultTick { get; } = TimeSpan.FromMinutes(1);

    /// <summary>A week before a job's start (the policy's window) for jobs running up to a week.</summary>
    public static TimeSpan DefaultKeep { get; } = TimeSpan.FromDays(14);

    private readonly Lock _lock = new();
    private readonly TimeSpan _tick;
    private readonly int _capacity;
    private readonly TimeSpan _coolDown;
    private readonly Dictionary<(string Zone, string InstanceType), PoolState> _pools = [];
    private readonly Dictionary<string, List<string>> _zonesByType = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AvailabilityTimeline> _timelines = new(StringComparer.Ordinal);
    private DateTimeOffset? _epoch;

    /// <param name="tick">One sample per tick; also how long a decision holds (the reconcile loop's period or more).</param>
    /// <param name="keep">How much history to keep (two weeks by default).</param>
    /// <param name="coolDown">How long a refusal or an interruption marks a pool no feed knows as empty.</param>
    public SpotAvailabilityHistory(TimeSpan tick, TimeSpan? keep = null, TimeSpan? coolDown = null)
    {
        if (tick <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(tick), tick, "a tick must be longer than zero");
        }
        _tick = tick;
        _capacity = (int)Math.Max(1, Math.Ceiling((keep ?? DefaultKeep) / tick));
        _coolDown = coolDown ?? SpotBackoff.DefaultCoolDown;
    }

    public SpotAvailabilityHistory()
        : this(DefaultTick)
    {
    }

    public TimeSpan Tick => _tick;

    /// <summary>A feed's reading of every pool it knows at <paramref name="at"/>.</summary>
    public void Record(DateTimeOffset at, IEnumerable<SpotPoolReading> readings)
    {
        lock (_lock)
        {
            foreach (var r in readings)
            {
                var pool = Pool(r.Zone, r.InstanceType);
                pool.FeedCapacity = r.Capacity;
                pool.PricePerHourUsd = r.SpotPricePerHourUsd ?? pool.PricePerHourUsd;
            }
            Sample(at);
        }
    }

    /// <summary>What the backend reports at <paramref name="at"/>: spot launches refused and instances taken back, spot instances running.</summary>
    public void Observe(DateTimeOffset at, IEnumerable<InstanceStatus> observed)
    {
        lock (_lock)
        {
            foreach (var pool in _pools.Values)
            {
                pool.Live = 0;
            }
            foreach (var i in observed.Where(i => i.Market == Market.Spot))
            {
                if (!i.IsEnded)
                {
                    Pool(i.Zone, i.InstanceType).Live++;
                }
                if (!i.IsEnded && i.InterruptionNoticeAt is { } notice)
                {
                    // A notice is the market taking the pool back, not a forecast: the pool has no room from the notice until
                    // the cool-down after the interruption it announces, though the instance still runs (and checkpoints)
                    // meanwhile. Without this the running instance read as capacity, and a job moved off ahead of the notice
                    // could be moved straight back onto the pool being taken back.
                    var pool = Pool(i.Zone, i.InstanceType);
                    pool.EmptyUntil = Max(pool.EmptyUntil, notice + SpotNotice.Lead + _coolDown);
                }
                else if (i.State == InstanceState.Running)
                {
                    Pool(i.Zone, i.InstanceType).RunningSeenAt = at;
                }
                else if (i.State == InstanceState.Interrupted && i.EndedAt is { } ended)
                {
                    // Refused outright (never ran) or taken back: the market had nothing then (old news expires by itself).
                    var pool = Pool(i.Zone, i.InstanceType);
                    pool.EmptyUntil = Max(pool.EmptyUntil, ended + _coolDown);
                }
            }
            Sample(at);
        }
    }

    /// <summary>
    /// The market as the policy sees it at <paramref name="at"/>: every pool now (available = room for one more of ours), and
    /// each type's timeline so far (whether the market had capacity, whoever held it).
    /// </summary>
    public SpotMarketSnapshot At(DateTimeOffset at)
    {
        lock (_lock)
        {
            var pools = _zonesByType.ToDictionary(
                kv => kv.Key,
                kv => (IReadOnlyList<SpotPoolState>)[.. kv.Value.Select(z => new SpotPoolState(z, _pools[(z, kv.Key)].HasRoom(at), _pools[(z, kv.Key)].PricePerHourUsd))],
                StringComparer.Ordinal);
            var timelines = _timelines.ToDictionary(kv => kv.Key, kv => kv.Value.Clone(), StringComparer.Ordinal);
            return new SpotMarketSnapshot(_tick, pools, timelines);
        }
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private PoolState Pool(string zone, string instanceType)
    {
        if (!_pools.TryGetValue((zone, instanceType), out var pool))
        {
            pool = new PoolState();
            _pools.Add((zone, instanceType), pool);
            if (!_zonesByType.TryGetValue(instanceType, out var zones))
            {
                zones = [];
                _zonesByType.Add(instanceType, zones);
            }
            zones.Add(zone);
        }
        return pool;
    }

    // This tick's sample per type: whether some pool of it has capacity now. A later look in the same tick overwrites it.
    private void Sample(DateTimeOffset at)
    {
        _epoch ??= at;
        var tick = (long)Math.Floor((at - _epoch.Value) / _tick);
        foreach (var (type, zones) in _zonesByType)
        {
            if (!_timelines.TryGetValue(type, out var timeline))
            {
                timeline = new AvailabilityTimeline(_capacity);
                _timelines.Add(type, timeline);
            }
            timeline.Set(tick, zones.Any(z => _pools[(z, type)].HasCapacity(at)));
        }
    }

    private sealed class PoolState
    {
        public int? FeedCapacity { get; set; }

        public double? PricePerHourUsd { get; set; }

        public DateTimeOffset EmptyUntil { get; set; } = DateTimeOffset.MinValue;

        public DateTimeOffset RunningSeenAt { get; set; } = DateTimeOffset.MinValue;

        /// <summary>Our own spot instances live in the pool at the last look.</summary>
        public int Live { get; set; }

        // Room for one more of ours: what the feed says is there less what we hold (the market's own view is HasCapacity).
        public bool HasRoom(DateTimeOffset at) => FeedCapacity is { } capacity ? capacity > Live : HasCapacity(at);

        // A feed knows; without one, the market's last word holds for the cool-down, an instance running there says yes.
        public bool HasCapacity(DateTimeOffset at) =>
            FeedCapacity is { } capacity ? capacity > 0 : RunningSeenAt >= at || EmptyUntil <= at;
    }
}

/// <summary>One pool as a feed reads it now: spot instances obtainable (0 = none) and, where known, the spot price.</summary>
public sealed record SpotPoolReading(string Zone, string InstanceType, int Capacity, double? SpotPricePerHourUsd);

/// <summary>A source that can say how much spot capacity each pool has now (a price feed built on traces can).</summary>
public interface ISpotPoolFeed
{
    IReadOnlyList<SpotPoolReading> PoolsAt(DateTimeOffset at);
}

/// <summary>A pool as the policy sees it at a moment.</summary>
public readonly record struct SpotPoolState(string Zone, bool Available, double? SpotPricePerHourUsd);

/// <summary>The spot market at one moment, frozen: what <see cref="Reconciliation.Reconciler.Decide"/> is handed.</summary>
public sealed class SpotMarketSnapshot
{
    private readonly IReadOnlyDictionary<string, IReadOnlyList<SpotPoolState>> _pools;
    private readonly IReadOnlyDictionary<string, AvailabilityTimeline> _timelines;

    internal SpotMarketSnapshot(
        TimeSpan tick, IReadOnlyDictionary<string, IReadOnlyList<SpotPoolState>> pools, IReadOnlyDictionary<string, AvailabilityTimeline> timelines)
    {
        Tick = tick;
        _pools = pools;
        _timelines = timelines;
    }

    /// <summary>Nothing seen yet: every pool is assumed to have capacity, and the policy runs on its prior.</summary>
    public static SpotMarketSnapshot Empty(TimeSpan tick) => new(tick, new Dictionary<string, IReadOnlyList<SpotPoolState>>(), new Dictionary<string, AvailabilityTimeline>());

    public TimeSpan Tick { get; }

    /// <summary>The pools of <paramref name="instanceType"/> in the order they were first seen; empty when none was.</summary>
    public IReadOnlyList<SpotPoolState> PoolsOf(string instanceType) => _pools.GetValueOrDefault(instanceType) ?? [];

    public AvailabilitySummary History(string instanceType, int ticks) =>
        _timelines.TryGetValue(instanceType, out var timeline) ? timeline.Summary(ticks) : default;
}

/// <summary>
/// One flag per tick in a ring of fixed size, with running counts (ticks with the flag, spells begun) so a window's
/// summary is two subtractions. A gap between samples repeats the last flag (nothing seen means nothing changed).
/// </summary>
internal sealed class AvailabilityTimeline
{
    private readonly bool[] _flag;
    private readonly long[] _setUpTo;
    private readonly long[] _begunUpTo;
    private long _first = -1;
    private long _last = -1;

    public AvailabilityTimeline(int capacity)
    {
        _flag = new bool[capacity];
        _setUpTo = new long[capacity];
        _begunUpTo = new long[capacity];
    }

    private AvailabilityTimeline(AvailabilityTimeline other)
    {
        _flag = (bool[])other._flag.Clone();
        _setUpTo = (long[])other._setUpTo.Clone();
        _begunUpTo = (long[])other._begunUpTo.Clone();
        _first = other._first;
        _last = other._last;
    }

    private int Capacity => _flag.Length;

    public AvailabilityTimeline Clone() => new(this);

    public void Set(long tick, bool value)
    {
        if (_last < 0)
        {
            _first = _last = tick;
            Write(tick, value, 0, 0, false);
            return;
        }
        if (tick < _last)
        {
            return;
        }
        if (tick == _last)
        {
            var hasPrevious = tick > _first;
            Write(tick, value, hasPrevious ? _setUpTo[Slot(tick - 1)] : 0, hasPrevious ? _begunUpTo[Slot(tick - 1)] : 0, hasPrevious && _flag[Slot(tick - 1)]);
            return;
        }
        var previous = _flag[Slot(_last)];
        for (var t = Math.Max(_last + 1, tick - Capacity + 1); t < tick; t++)
        {
            Write(t, previous, _setUpTo[Slot(_last)], _begunUpTo[Slot(_last)], previous);
            _last = t;
        }
        Write(tick, value, _setUpTo[Slot(_last)], _begunUpTo[Slot(_last)], previous);
        _last = tick;
        _first = Math.Max(_first, _last - Capacity + 1);
    }

    public AvailabilitySummary Summary(int ticks)
    {
        if (_last < 0 || ticks <= 0)
        {
            return default;
        }
        var from = Math.Max(_first, _last - ticks + 1);
        var atFrom = _flag[Slot(from)] ? 1 : 0;
        var available = _setUpTo[Slot(_last)] - _setUpTo[Slot(from)] + atFrom;
        var spells = _begunUpTo[Slot(_last)] - _begunUpTo[Slot(from)] + atFrom;
        return new AvailabilitySummary((int)(_last - from + 1), (int)available, (int)spells);
    }

    private int Slot(long tick) => (int)(tick % Capacity);

    private void Write(long tick, bool value, long setBefore, long begunBefore, bool previous)
    {
        var slot = Slot(tick);
        _flag[slot] = value;
        _setUpTo[slot] = setBefore + (value ? 1 : 0);
        _begunUpTo[slot] = begunBefore + (value && !previous ? 1 : 0);
    }
}
