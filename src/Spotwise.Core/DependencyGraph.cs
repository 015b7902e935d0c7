namespace Spotwise.Core;

/// <summary>
/// A queue's <c>dependsOn</c> as a graph over the jobs' positions, built and walked without recursion: a 10,000-deep
/// chain is an ordinary queue, and a cycle or a missing prerequisite is a fact about some jobs, not a crash. It names
/// every job no plan can hold for its dependencies (in a cycle, depending on a job not in the queue, or depending on
/// such a job), with the reason; the planners, the option builder and the validator all ask it, so they agree.
/// </summary>
/// <remarks>
/// The intake refuses cycles and unknown ids, but the planners must stand on their own: stored data from before a
/// rule, or another caller, can still hand them such a queue. Ids name jobs; where an id repeats, the first job wins.
/// </remarks>
public sealed class DependencyGraph
{
    /// <summary>A cycle longer than this is shown by its ends and its length, not every id.</summary>
    private const int LongestCycleShown = 8;

    private readonly IReadOnlyList<Job> _jobs;
    private readonly Dictionary<string, int> _index;
    private readonly int[][] _prerequisites;
    private readonly int[][] _dependents;
    private readonly string?[] _whyBlocked;

    private DependencyGraph(IReadOnlyList<Job> jobs)
    {
        _jobs = jobs;
        _index = new Dictionary<string, int>(jobs.Count, StringComparer.Ordinal);
        for (var j = 0; j < jobs.Count; j++)
        {
            _index.TryAdd(jobs[j].Id, j);
        }
        var missing = new string?[jobs.Count];
        _prerequisites = Resolve(jobs, _index, missing);
        _dependents = Invert(_prerequisites);
        var topological = Kahn(_prerequisites, _dependents);
        _whyBlocked = new string?[jobs.Count];
        var roots = new List<int>();
        for (var j = 0; j < jobs.Count; j++)
        {
            if (missing[j] is { } id)
            {
                _whyBlocked[j] = $"depends on '{id}', which is not in the queue";
                roots.Add(j);
            }
        }
        MarkCycles(topological, roots);
        MarkDownstream(roots);
        Order = [.. topological.Where(j => _whyBlocked[j] is null)];
    }

    public static DependencyGraph Of(IReadOnlyList<Job> jobs) => new(jobs);

    public int Count => _jobs.Count;

    /// <summary>
    /// Every job whose dependencies can be met, each after all of its prerequisites (Kahn's algorithm, first in,
    /// first out from the queue's order). A prerequisite of a job in this order is in it too.
    /// </summary>
    public IReadOnlyList<int> Order { get; }

    /// <summary>The distinct jobs this job depends on that are in the queue, in <c>dependsOn</c> order.</summary>
    public IReadOnlyList<int> PrerequisitesOf(int j) => _prerequisites[j];

    /// <summary>The jobs that name this one in their <c>dependsOn</c>.</summary>
    public IReadOnlyList<int> DependentsOf(int j) => _dependents[j];

    /// <summary>Why no plan can hold this job for its dependencies, or null when they can be met.</summary>
    public string? WhyBlocked(int j) => _whyBlocked[j];

    public bool IsBlocked(int j) => _whyBlocked[j] is not null;

    /// <summary>The position of the (first) job with this id, or -1.</summary>
    public int IndexOf(string id) => _index.TryGetValue(id, out var j) ? j : -1;

    private static int[][] Resolve(IReadOnlyList<Job> jobs, Dictionary<string, int> index, string?[] missing)
    {
        var prerequisites = new int[jobs.Count][];
        // seenFor[d] == j + 1: d is already a prerequisite of j (a job may list one id twice; 10,000 ids stay linear).
        var seenFor = new int[jobs.Count];
        var list = new List<int>();
        for (var j = 0; j < jobs.Count; j++)
        {
            list.Clear();
            foreach (var dep in jobs[j].DependsOn.IsDefault ? [] : jobs[j].DependsOn)
            {
                if (!index.TryGetValue(dep, out var d))
                {
                    missing[j] ??= dep;
                }
                else if (seenFor[d] != j + 1)
                {
                    seenFor[d] = j + 1;
                    list.Add(d);
                }
            }
            prerequisites[j] = [.. list];
        }
        return prerequisites;
    }

    private static int[][] Invert(int[][] prerequisites)
    {
        var counts = new int[prerequisites.Length];
        foreach (var list in prerequisites)
        {
            foreach (var d in list)
            {
                counts[d]++;
            }
        }
        var dependents = new int[prerequisites.Length][];
        for (var d = 0; d < dependents.Length; d++)
        {
            dependents[d] = new int[counts[d]];
            counts[d] = 0;
        }
        for (var j = 0; j < prerequisites.Length; j++)
        {
            foreach (var d in prerequisites[j])
            {
                dependents[d][counts[d]++] = j;
            }
        }
        return dependents;
    }

    /// <summary>Jobs in an order where prerequisites come first; a job in or behind a cycle never becomes ready.</summary>
    private static List<int> Kahn(int[][] prerequisites, int[][] dependents)
    {
        var waiting = new int[prerequisites.Length];
        var ready = new Queue<int>();
        for (var j = 0; j < waiting.Length; j++)
        {
            waiting[j] = prerequisites[j].Length;
            if (waiting[j] == 0)
            {
                ready.Enqueue(j);
            }
        }
        var order = new List<int>(waiting.Length);
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
        return order;
    }

    /// <summary>
    /// The jobs Kahn's algorithm left are in a cycle or behind one; the cycles are the strongly connected components
    /// among them with more than one job, or one job that depends on itself. Each member is told one cycle it is on.
    /// </summary>
    private void MarkCycles(List<int> topological, List<int> roots)
    {
        if (topological.Count == _jobs.Count)
        {
            return;
        }
        var done = new bool[_jobs.Count];
        foreach (var j in topological)
        {
            done[j] = true;
        }
        foreach (var component in StronglyConnected(done))
        {
            var ring = CycleIn(component.Min(), component.ToHashSet());
            var at = new Dictionary<int, int>(ring.Count);
            for (var p = 0; p < ring.Count; p++)
            {
                at[ring[p]] = p;
            }
            foreach (var j in component.Order())
            {
                if (_whyBlocked[j] is not null)
                {
                    continue;
                }
                _whyBlocked[j] = at.TryGetValue(j, out var p)
                    ? $"is in a dependency cycle: {Describe(ring, p)}"
                    : $"is in a dependency cycle: it depends on, and is needed by, {Describe(ring, 0)}";
                roots.Add(j);
            }
        }
        roots.Sort();
    }

    /// <summary>
    /// Tarjan's strongly connected components over the jobs not yet done, with an explicit stack (a cycle of 10,000
    /// jobs is 10,000 deep); only the components that hold a cycle are returned.
    /// </summary>
    private List<List<int>> StronglyConnected(bool[] done)
    {
        var n = _jobs.Count;
        var index = new int[n];
        Array.Fill(index, -1);
        var low = new int[n];
        var onStack = new bool[n];
        var stack = new Stack<int>();
        var calls = new Stack<(int Job, int Next)>();
        var counter = 0;
        var cyclic = new List<List<int>>();
        void Enter(int v)
        {
            index[v] = low[v] = counter++;
            stack.Push(v);
            onStack[v] = true;
            calls.Push((v, 0));
        }
        for (var root = 0; root < n; root++)
        {
            if (done[root] || index[root] >= 0)
            {
                continue;
            }
            Enter(root);
            while (calls.TryPop(out var call))
            {
                var (v, next) = call;
                var edges = _prerequisites[v];
                if (next < edges.Length)
                {
                    calls.Push((v, next + 1));
                    var w = edges[next];
                    if (done[w])
                    {
                        continue;
                    }
                    if (index[w] < 0)
                    {
                        Enter(w);
                    }
                    else if (onStack[w])
                    {
                        low[v] = Math.Min(low[v], index[w]);
                    }
                    continue;
                }
                // v is finished: its caller (now on top) learns how far back v reaches.
                if (calls.TryPeek(out var caller))
                {
                    low[caller.Job] = Math.Min(low[caller.Job], low[v]);
                }
                if (low[v] == index[v])
                {
                    var component = new List<int>();
                    int w;
                    do
                    {
                        w = stack.Pop();
                        onStack[w] = false;
                        component.Add(w);
                    }
                    while (w != v);
                    if (component.Count > 1 || Array.IndexOf(edges, v) >= 0)
                    {
                        cyclic.Add(component);
                    }
                }
            }
        }
        return cyclic;
    }

    /// <summary>
    /// One cycle inside a strongly connected component, as its jobs in <c>dependsOn</c> order (each depends on the
    /// next, the last on the first): from any member, following prerequisites that stay inside must come back round.
    /// </summary>
    private List<int> CycleIn(int start, HashSet<int> members)
    {
        var at = new Dictionary<int, int>();
        var path = new List<int>();
        var v = start;
        while (!at.ContainsKey(v))
        {
            at[v] = path.Count;
            path.Add(v);
            v = _prerequisites[v].First(members.Contains);
        }
        return [.. path.Skip(at[v])];
    }

    /// <summary>
    /// The cycle read from position <paramref name="from"/> round to it again; a long one by its ends and its length
    /// (each of 10,000 members is told its cycle, so this must not walk the whole ring).
    /// </summary>
    private string Describe(List<int> ring, int from)
    {
        string Id(int step) => _jobs[ring[(from + step) % ring.Count]].Id;
        var ids = ring.Count <= LongestCycleShown
            ? Enumerable.Range(0, ring.Count + 1).Select(Id)
            : [.. Enumerable.Range(0, 4).Select(Id), "...", Id(ring.Count - 1), Id(ring.Count)];
        var text = string.Join(" -> ", ids);
        return ring.Count <= LongestCycleShown ? text : FormattableString.Invariant($"{text} ({ring.Count} jobs)");
    }

    /// <summary>Every job that depends, directly or not, on a blocked job is blocked too, and told which and why.</summary>
    private void MarkDownstream(List<int> roots)
    {
        var rootOf = new int[_jobs.Count];
        var reached = new Queue<int>();
        foreach (var r in roots)
        {
            rootOf[r] = r;
            reached.Enqueue(r);
        }
        while (reached.TryDequeue(out var d))
        {
            foreach (var k in _dependents[d])
            {
                if (_whyBlocked[k] is not null)
                {
                    continue;
                }
                var root = rootOf[d];
                _whyBlocked[k] = d == root
                    ? $"depends on '{_jobs[d].Id}', which {_whyBlocked[root]}"
                    : $"depends on '{_jobs[d].Id}', which cannot run: '{_jobs[root].Id}' {_whyBlocked[root]}";
                rootOf[k] = root;
                reached.Enqueue(k);
            }
        }
    }
}
