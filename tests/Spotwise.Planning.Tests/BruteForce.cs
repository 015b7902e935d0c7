using Spotwise.Core;

namespace Spotwise.Planning.Tests;

/// <summary>
/// The best plan of a small grid model by trying every assignment: each job on one of its grid options at each
/// start step of that option's window, or unplanned; honouring every limited pool at every step, and dependencies
/// (a dependent is planned only after its planned prerequisites end). Best means the most priority weight planned
/// (2^(priority-1) per job), then the least cost (each option's cost rounded as plans round it).
/// </summary>
public sealed class BruteForce
{
    private readonly GridModel _model;
    private readonly int[] _order;
    private readonly long[] _weightFrom;
    private readonly double[] _cheapestFrom;
    private readonly int[] _start;
    private readonly int[] _end;
    private readonly Dictionary<string, int[]> _use = new(StringComparer.Ordinal);
    private long _bestWeight = -1;
    private double _bestCost = double.PositiveInfinity;

    private BruteForce(GridModel model)
    {
        _model = model;
        var n = model.Options.Count;
        _order = TopologicalOrder(model);
        _start = new int[n];
        _end = new int[n];
        Array.Fill(_end, -1);
        _weightFrom = new long[n + 1];
        _cheapestFrom = new double[n + 1];
        for (var i = n - 1; i >= 0; i--)
        {
            var options = model.GridOptions[_order[i]];
            _weightFrom[i] = _weightFrom[i + 1] + (options.Length > 0 ? Weight(model.JobAt(_order[i])) : 0);
            _cheapestFrom[i] = _cheapestFrom[i + 1] + (options.Length > 0 ? options.Min(Cost) : 0);
        }
    }

    /// <summary>How many complete assignments were reached (a measure of the search, for test output).</summary>
    public long Leaves { get; private set; }

    public static (long Weight, double CostUsd, long Leaves) Solve(GridModel model)
    {
        var search = new BruteForce(model);
        search.Visit(0, 0, 0);
        return (search._bestWeight, search._bestCost, search.Leaves);
    }

    public static long Weight(Job job) => 1L << (job.Priority - 1);

    private static double Cost(GridOption g) => PlanBuilder.Round(g.Option.ExpectedCostUsd);

    private void Visit(int i, long weight, double cost)
    {
        if (weight + _weightFrom[i] < _bestWeight
            || (weight + _weightFrom[i] == _bestWeight && cost + _cheapestFrom[i] >= _bestCost - 1e-9))
        {
            return; // even planning every remaining job on its cheapest option would not beat the best found
        }
        if (i == _order.Length)
        {
            Leaves++;
            (_bestWeight, _bestCost) = (weight, cost);
            return;
        }
        var j = _order[i];
        var job = _model.JobAt(j);
        var notBefore = 0;
        var prerequisitesPlanned = true;
        foreach (var dep in job.DependsOn)
        {
            var d = _model.IndexOf[dep];
            prerequisitesPlanned &= _end[d] >= 0;
            notBefore = Math.Max(notBefore, _end[d]);
        }
        if (prerequisitesPlanned)
        {
            foreach (var g in _model.GridOptions[j])
            {
                for (var s = Math.Max(g.EarliestStep, notBefore); s <= g.LatestStep; s++)
                {
                    if (!Fits(g, s))
                    {
                        continue;
                    }
                    Hold(g, s, +1);
                    (_start[j], _end[j]) = (s, s + g.DurationSteps);
                    Visit(i + 1, weight + Weight(job), cost + Cost(g));
                    Hold(g, s, -1);
                    _end[j] = -1;
                }
            }
        }
        Visit(i + 1, weight, cost);
    }

    private bool Fits(GridOption g, int start)
    {
        var pool = g.Option.Pool;
        if (pool.Pool.IsUnlimited)
        {
            return true;
        }
        var use = UseOf(pool.Pool.Id);
        for (var s = start; s < start + g.DurationSteps; s++)
        {
            if (use[s] + pool.Demand > pool.Pool.Capacity)
            {
                return false;
            }
        }
        return true;
    }

    private void Hold(GridOption g, int start, int sign)
    {
        var pool = g.Option.Pool;
        if (pool.Pool.IsUnlimited)
        {
            return;
        }
        var use = UseOf(pool.Pool.Id);
        for (var s = start; s < start + g.DurationSteps; s++)
        {
            use[s] += sign * pool.Demand;
        }
    }

    private int[] UseOf(string pool)
    {
        if (!_use.TryGetValue(pool, out var use))
        {
            _use[pool] = use = new int[_model.Horizon + 1];
        }
        return use;
    }

    /// <summary>Prerequisites before dependents (Kahn's algorithm), independent of the planners' own ordering.</summary>
    private static int[] TopologicalOrder(GridModel model)
    {
        var n = model.Options.Count;
        var waiting = new int[n];
        var dependents = Enumerable.Range(0, n).Select(_ => new List<int>()).ToArray();
        for (var j = 0; j < n; j++)
        {
            foreach (var dep in model.JobAt(j).DependsOn)
            {
                dependents[model.IndexOf[dep]].Add(j);
                waiting[j]++;
            }
        }
        var ready = new Queue<int>(Enumerable.Range(0, n).Where(j => waiting[j] == 0));
        var order = new List<int>(n);
        while (ready.TryDequeue(out var j))
        {
            order.Add(j);
            foreach (var k in dependents[j])
            {
                if (--waiting[k] == 0)
                {
                    ready.Enqueue(k);
                }
            }
        }
        return [.. order];
    }
}
