namespace Spotwise.Runtime;

/// <summary>
/// What a job's prerequisites allow: nothing launches before its prerequisites have succeeded, and a job whose
/// prerequisite failed, was cancelled or is gone can never start, so it fails with the reason (and so, in turn, do the
/// jobs waiting on it). Walks are breadth-first over a reverse map: a 10,000-deep chain fails in one pass, without recursion.
/// </summary>
public static class Prerequisites
{
    /// <summary>
    /// The waiting jobs that can never start, each with why. <paramref name="waiting"/> are the jobs not yet launched;
    /// <paramref name="find"/> gives any other job a prerequisite names (running, finished), or null when there is none.
    /// </summary>
    public static Dictionary<string, string> Doomed(IReadOnlyList<JobRecord> waiting, Func<JobRecord, string, JobRecord?> find)
    {
        var waitingById = waiting.ToDictionary(j => j.Id, StringComparer.Ordinal);
        var dependants = new Dictionary<string, List<JobRecord>>(StringComparer.Ordinal);
        var doomed = new Dictionary<string, string>(StringComparer.Ordinal);
        var rootCause = new Dictionary<string, string>(StringComparer.Ordinal); // reasons stay short down a long chain
        var queue = new Queue<string>();
        foreach (var job in waiting)
        {
            foreach (var dep in job.Job.DependsOn)
            {
                if (waitingById.ContainsKey(dep))
                {
                    (dependants.TryGetValue(dep, out var list) ? list : dependants[dep] = []).Add(job);
                }
                else if (Blocker(dep, find(job, dep)) is { } why && doomed.TryAdd(job.Id, why))
                {
                    rootCause[job.Id] = why;
                    queue.Enqueue(job.Id);
                }
            }
        }
        foreach (var job in InCycles(waiting, waitingById))
        {
            if (doomed.TryAdd(job.Id, "its dependencies form a cycle"))
            {
                rootCause[job.Id] = doomed[job.Id];
                queue.Enqueue(job.Id);
            }
        }
        while (queue.TryDequeue(out var id))
        {
            foreach (var dependant in dependants.GetValueOrDefault(id) ?? [])
            {
                if (doomed.TryAdd(dependant.Id, $"prerequisite '{id}' can never run: {rootCause[id]}"))
                {
                    rootCause[dependant.Id] = rootCause[id];
                    queue.Enqueue(dependant.Id);
                }
            }
        }
        return doomed;
    }

    /// <summary>
    /// Jobs on a dependency cycle (or waiting on one): what Kahn's topological order never reaches. Stored jobs predate
    /// the intake's cycle check; a cycle must fail, not wait forever.
    /// </summary>
    private static IEnumerable<JobRecord> InCycles(IReadOnlyList<JobRecord> waiting, Dictionary<string, JobRecord> waitingById)
    {
        var blockers = waiting.ToDictionary(j => j.Id, j => j.Job.DependsOn.Count(waitingById.ContainsKey), StringComparer.Ordinal);
        var dependants = waiting.SelectMany(j => j.Job.DependsOn.Where(waitingById.ContainsKey).Select(d => (Dep: d, Job: j.Id)))
            .ToLookup(x => x.Dep, x => x.Job, StringComparer.Ordinal);
        var ready = new Queue<string>(blockers.Where(b => b.Value == 0).Select(b => b.Key));
        while (ready.TryDequeue(out var id))
        {
            blockers.Remove(id);
            foreach (var dependant in dependants[id])
            {
                if (blockers.ContainsKey(dependant) && --blockers[dependant] == 0)
                {
                    ready.Enqueue(dependant);
                }
            }
        }
        return waiting.Where(j => blockers.ContainsKey(j.Id));
    }

    /// <summary>Why a prerequisite outside the waiting set stops its dependant for good; null while it may still succeed.</summary>
    public static string? Blocker(string dep, JobRecord? prerequisite) => prerequisite switch
    {
        null => $"prerequisite '{dep}' does not exist",
        { State: JobState.Failed } => $"prerequisite '{dep}' failed: {prerequisite.LastError ?? "no reason recorded"}",
        { State: JobState.Cancelled } => $"prerequisite '{dep}' was cancelled",
        _ => null,
    };

    /// <summary>The first prerequisite that has not succeeded yet, or null when the job may launch.</summary>
    public static string? FirstUnfinished(JobRecord job, Func<JobRecord, string, JobRecord?> find) =>
        job.Job.DependsOn.FirstOrDefault(dep => find(job, dep) is not { State: JobState.Succeeded });
}
