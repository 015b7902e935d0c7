namespace Spotwise.Planning;

/// <summary>
/// The order the greedy planner places jobs in: highest priority first, then the team furthest behind its fair share
/// (<see cref="GridModel.FairRank"/>), then earliest deadline, and never a job
/// before the jobs it depends on. A prerequisite inherits the urgency of the most urgent job waiting on it, so an
/// urgent job is not starved by its own low-priority prerequisite. Jobs whose dependencies can never be met are left
/// out (they have no options and say why). Both walks are loops over the dependency graph, never recursion.
/// </summary>
public static class JobOrder
{
    public static IReadOnlyList<int> Of(GridModel model)
    {
        var graph = model.Dependencies;
        var (priority, deadline) = InheritedUrgency(model);
        var waitingOn = new int[graph.Count];
        var ready = new PriorityQueue<int, (int, int, DateTimeOffset, string)>();
        // Among equal priorities, the team furthest behind its fair share first (all ranks 0 without fair share).
        void Enqueue(int j) => ready.Enqueue(j, (-priority[j], -model.FairRank[j], deadline[j], model.JobAt(j).Id));
        foreach (var j in graph.Order)
        {
            waitingOn[j] = graph.PrerequisitesOf(j).Count;
            if (waitingOn[j] == 0)
            {
                Enqueue(j);
            }
        }
        var order = new List<int>(graph.Order.Count);
        while (ready.TryDequeue(out var j, out _))
        {
            order.Add(j);
            foreach (var k in graph.DependentsOf(j))
            {
                if (!graph.IsBlocked(k) && --waitingOn[k] == 0)
                {
                    Enqueue(k);
                }
            }
        }
        return order;
    }

    /// <summary>
    /// Each job's own urgency raised to that of every job waiting on it, directly or not. Walked backwards through
    /// the dependency order, a job's dependents are all final before it is reached.
    /// </summary>
    private static (int[] Priority, DateTimeOffset[] Deadline) InheritedUrgency(GridModel model)
    {
        var graph = model.Dependencies;
        var priority = new int[graph.Count];
        var deadline = new DateTimeOffset[graph.Count];
        for (var i = graph.Order.Count - 1; i >= 0; i--)
        {
            var j = graph.Order[i];
            var job = model.JobAt(j);
            priority[j] = job.Priority;
            deadline[j] = job.Deadline ?? DateTimeOffset.MaxValue;
            foreach (var k in graph.DependentsOf(j))
            {
                if (graph.IsBlocked(k))
                {
                    continue;
                }
                priority[j] = Math.Max(priority[j], priority[k]);
                if (deadline[k] < deadline[j])
                {
                    deadline[j] = deadline[k];
                }
            }
        }
        return (priority, deadline);
    }
}
