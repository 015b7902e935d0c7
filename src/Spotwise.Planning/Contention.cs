namespace Spotwise.Planning;

/// <summary>
/// Which pools can ever be over capacity. A pool is contended when, with every job that could use it placed
/// anywhere in its window at its largest demand on that pool, the load could exceed capacity at some step.
/// An uncontended pool needs no capacity constraint, and a job whose cheapest option lies in one can simply take
/// it: nobody else is affected. This is exact, and it is what keeps CP-SAT models small on real queues.
/// </summary>
public static class Contention
{
    public static HashSet<string> ContendedPools(GridModel model)
    {
        var windows = new Dictionary<string, List<(int From, int To, int Demand)>>(StringComparer.Ordinal);
        var capacity = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var options in model.GridOptions)
        {
            var uses = options.SelectMany(g => g.Option.Pools.Where(p => !p.Pool.IsUnlimited).Select(p => (Grid: g, Use: p)));
            foreach (var byPool in uses.GroupBy(u => u.Use.Pool.Id))
            {
                var from = byPool.Min(u => u.Grid.EarliestStep);
                var to = byPool.Max(u => u.Grid.LatestStep + u.Grid.DurationSteps);
                var demand = byPool.Max(u => u.Use.Demand);
                capacity[byPool.Key] = byPool.First().Use.Pool.Capacity;
                if (!windows.TryGetValue(byPool.Key, out var list))
                {
                    windows[byPool.Key] = list = [];
                }
                list.Add((from, to, demand));
            }
        }
        // Held capacity counts against a pool whenever a job could use it.
        foreach (var r in model.Reserved.Where(r => windows.ContainsKey(r.Pool.Pool.Id)))
        {
            windows[r.Pool.Pool.Id].Add((r.From, r.To, r.Pool.Demand));
        }
        var contended = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (pool, list) in windows)
        {
            if (PeakLoad(list) > capacity[pool])
            {
                contended.Add(pool);
            }
        }
        return contended;
    }

    private static long PeakLoad(List<(int From, int To, int Demand)> windows)
    {
        var events = new List<(int Step, int Delta)>(windows.Count * 2);
        foreach (var (from, to, demand) in windows)
        {
            events.Add((from, demand));
            events.Add((to, -demand));
        }
        // Ends before starts at the same step: [from, to) windows that touch do not overlap.
        events.Sort((a, b) => a.Step != b.Step ? a.Step.CompareTo(b.Step) : a.Delta.CompareTo(b.Delta));
        long load = 0, peak = 0;
        foreach (var (_, delta) in events)
        {
            load += delta;
            peak = Math.Max(peak, load);
        }
        return peak;
    }
}
