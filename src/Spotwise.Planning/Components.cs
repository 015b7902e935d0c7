namespace Spotwise.Planning;

/// <summary>
/// Splits the jobs that need the solver into independent groups. Two jobs interact only if they depend on one
/// another, or if both could use one contended pool at overlapping times; groups that do not interact can be
/// solved one by one and their optima add up. Found with a sweep over each contended pool's windows (an interval
/// graph's components are runs of overlapping intervals) and a union-find. Exact, and on real queues most groups
/// are small.
/// </summary>
public static class Components
{
    public static List<List<int>> Of(GridModel model, IReadOnlyList<int> jobs, HashSet<string> contended)
    {
        var parent = new Dictionary<int, int>();
        foreach (var j in jobs)
        {
            parent[j] = j;
        }
        int Find(int x)
        {
            while (parent[x] != x)
            {
                parent[x] = parent[parent[x]];
                x = parent[x];
            }
            return x;
        }
        void Union(int a, int b) => parent[Find(a)] = Find(b);

        foreach (var windows in WindowsByPool(model, jobs, contended).Values)
        {
            windows.Sort((a, b) => a.From.CompareTo(b.From));
            var (runEnd, runJob) = (int.MinValue, -1);
            foreach (var (from, to, job) in windows)
            {
                if (from < runEnd)
                {
                    Union(job, runJob);
                }
                if (to > runEnd)
                {
                    (runEnd, runJob) = (to, job);
                }
            }
        }
        foreach (var k in jobs)
        {
            foreach (var d in model.Dependencies.PrerequisitesOf(k))
            {
                if (parent.ContainsKey(d))
                {
                    Union(k, d);
                }
            }
        }
        return [.. jobs.GroupBy(Find).Select(g => g.ToList()).OrderBy(g => g.Count)];
    }

    private static Dictionary<string, List<(int From, int To, int Job)>> WindowsByPool(GridModel model, IReadOnlyList<int> jobs, HashSet<string> contended)
    {
        var byPool = new Dictionary<string, List<(int From, int To, int Job)>>(StringComparer.Ordinal);
        foreach (var j in jobs)
        {
            var uses = model.GridOptions[j].SelectMany(g => g.Option.Pools.Where(p => contended.Contains(p.Pool.Id)).Select(p => (Grid: g, Pool: p.Pool.Id)));
            foreach (var g in uses.GroupBy(u => u.Pool))
            {
                if (!byPool.TryGetValue(g.Key, out var list))
                {
                    byPool[g.Key] = list = [];
                }
                list.Add((g.Min(o => o.Grid.EarliestStep), g.Max(o => o.Grid.LatestStep + o.Grid.DurationSteps), j));
            }
        }
        return byPool;
    }
}
