namespace Spotwise.Planning;

/// <summary>
/// The order the greedy planner places jobs in: highest priority first, then earliest deadline, and never a job
/// before the jobs it depends on. A prerequisite inherits the urgency of the most urgent job waiting on it, so an
/// urgent job is not starved by its own low-priority prerequisite.
/// </summary>
public static class JobOrder
{
    public static IReadOnlyList<int> Of(GridModel model)
    {
        var n = model.Options.Count;
        var dependents = new List<int>[n];
        var waitingOn = new int[n];
        for (var j = 0; j < n; j++)
        {
            dependents[j] = [];
        }
        for (var j = 0; j < n; j++)
        {
            foreach (var dep in model.JobAt(j).DependsOn)
            {
                if (model.IndexOf.TryGetValue(dep, out var d))
                {
                    dependents[d].Add(j);
                    waitingOn[j]++;
                }
            }
        }
        var (priority, deadline) = InheritedUrgency(model, dependents);
        var ready = new PriorityQueue<int, (int, DateTimeOffset, string)>();
        void Enqueue(int j) => ready.Enqueue(j, (-priority[j], deadline[j], model.JobAt(j).Id));
        for (var j = 0; j < n; j++)
        {
            if (waitingOn[j] == 0)
            {
                Enqueue(j);
            }
        }
        var order = new List<int>(n);
        while (ready.TryDequeue(out var j, out _))
        {
            order.Add(j);
            foreach (var k in dependents[j])
            {
                if (--waitingOn[k] == 0)
                {
                    Enqueue(k);
                }
            }
        }
        return order;
    }

    private static (int[] Priority, DateTimeOffset[] Deadline) InheritedUrgency(GridModel model, List<int>[] dependents)
    {
        var n = model.Options.Count;
        var priority = new int[n];
        var deadline = new DateTimeOffset[n];
        var done = new bool[n];
        void Visit(int j)
        {
            if (done[j])
            {
                return;
            }
            done[j] = true; // queues are checked acyclic on input; marking first keeps a bad one from recursing forever
            var job = model.JobAt(j);
            priority[j] = job.Priority;
            deadline[j] = job.Deadline ?? DateTimeOffset.MaxValue;
            foreach (var k in dependents[j])
            {
                Visit(k);
                priority[j] = Math.Max(priority[j], priority[k]);
                if (deadline[k] < deadline[j])
                {
                    deadline[j] = deadline[k];
                }
            }
        }
        for (var j = 0; j < n; j++)
        {
            Visit(j);
        }
        return (priority, deadline);
    }
}
