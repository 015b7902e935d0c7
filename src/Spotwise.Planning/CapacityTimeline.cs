namespace Spotwise.Planning;

/// <summary>
/// How much of one pool is in use at each grid step: a segment tree with range add and range max, plus the
/// search greedy placement needs — the earliest start in a window where a demand fits for a whole duration —
/// in O(log H) per jump instead of a scan over every step.
/// </summary>
public sealed class CapacityTimeline
{
    private readonly int _size;
    private readonly int[] _max;
    private readonly int[] _lazy;

    public CapacityTimeline(int horizon, int capacity)
    {
        _size = Math.Max(1, horizon);
        Capacity = capacity;
        _max = new int[4 * _size];
        _lazy = new int[4 * _size];
    }

    public int Capacity { get; }

    /// <summary>Adds demand over steps [from, to).</summary>
    public void Add(int from, int to, int demand) => Add(1, 0, _size, from, Math.Min(to, _size), demand);

    /// <summary>The most in use at any step of [from, to).</summary>
    public int MaxUse(int from, int to) => from >= Math.Min(to, _size) ? 0 : Max(1, 0, _size, from, Math.Min(to, _size));

    /// <summary>
    /// The earliest start in [earliest, latest] at which <paramref name="demand"/> fits for <paramref name="duration"/>
    /// steps, or -1. On a clash it jumps past the last overfull step of the tried window.
    /// </summary>
    public int EarliestFit(int earliest, int latest, int duration, int demand)
    {
        if (demand > Capacity)
        {
            return -1;
        }
        var threshold = Capacity - demand;
        var t = earliest;
        while (t <= latest)
        {
            var blocked = LastAbove(1, 0, _size, t, Math.Min(t + duration, _size), threshold);
            if (blocked < 0)
            {
                return t;
            }
            t = blocked + 1;
        }
        return -1;
    }

    private void Add(int node, int lo, int hi, int from, int to, int v)
    {
        if (to <= lo || hi <= from)
        {
            return;
        }
        if (from <= lo && hi <= to)
        {
            _max[node] += v;
            _lazy[node] += v;
            return;
        }
        Push(node);
        var mid = (lo + hi) / 2;
        Add(2 * node, lo, mid, from, to, v);
        Add(2 * node + 1, mid, hi, from, to, v);
        _max[node] = Math.Max(_max[2 * node], _max[2 * node + 1]);
    }

    private int Max(int node, int lo, int hi, int from, int to)
    {
        if (to <= lo || hi <= from)
        {
            return int.MinValue;
        }
        if (from <= lo && hi <= to)
        {
            return _max[node];
        }
        Push(node);
        var mid = (lo + hi) / 2;
        return Math.Max(Max(2 * node, lo, mid, from, to), Max(2 * node + 1, mid, hi, from, to));
    }

    /// <summary>The last step in [from, to) whose use exceeds the threshold, or -1.</summary>
    private int LastAbove(int node, int lo, int hi, int from, int to, int threshold)
    {
        if (to <= lo || hi <= from || _max[node] <= threshold)
        {
            return -1;
        }
        if (hi - lo == 1)
        {
            return lo;
        }
        Push(node);
        var mid = (lo + hi) / 2;
        var right = LastAbove(2 * node + 1, mid, hi, from, to, threshold);
        return right >= 0 ? right : LastAbove(2 * node, lo, mid, from, to, threshold);
    }

    private void Push(int node)
    {
        var v = _lazy[node];
        if (v == 0)
        {
            return;
        }
        foreach (var child in (ReadOnlySpan<int>)[2 * node, 2 * node + 1])
        {
            _max[child] += v;
            _lazy[child] += v;
        }
        _lazy[node] = 0;
    }
}
