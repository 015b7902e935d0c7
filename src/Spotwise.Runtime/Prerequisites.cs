using Spotwise.Core;

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
    public static Dictionary<JobKey, string> Doomed(IReadOnlyList<JobRecord> waiting, Func<JobRecord, string, JobRecord?> find)
    {
        var waitingByKey = waiting.ToDictionary(j => j.Key);
        var dependants = new Dictionary<JobKey, List<JobRecord>>();
        var doomed = new Dictionary<JobKey, string>();
        var rootCause = new Dictionary<JobKey, string>(); // reasons stay short down a long chain
        var queue = new Queue<JobKey>();
        foreach (var job in waiting)
        {
            foreach (var key in job.PrerequisiteKeys)
            {
                if (waitingByKey.ContainsKey(key))
                {
                    (dependants.TryGetValue(key, out var list) ? list : dependants[key] = []).Add(job);
                }
                else if (Blocker(key.Id, find(job, key.Id)) is { } why && doomed.TryAdd(job.Key, why))
                {
                    rootCause[job.Key] = why;
                    queue.Enqueue(job.Key);
                }
            }
        }
        foreach (var job in InCycles(waiting, waitingByKey))
        {
            if (doomed.TryAdd(job.Key, "its dependencies form a cycle"))
            {
                rootCause[job.Key] = doomed[job.Key];
                queue.Enqueue(job.Key);
            }
        }
        while (queue.TryDequeue(out var key))
        {
            foreach (var dependant in dependants.GetValueOrDefault(key) ?? [])
            {
                if (doomed.TryAdd(dependant.Key, $"prerequisite '{key.Id}' can never run: {rootCause[key]}"))
                {
                    rootCause[dependant.Key] = rootCause[key];
                    queue.Enqueue(dependant.Key);
                }
            }
        }
        return doomed;
    }

    /// <summary>
    /// Jobs on a dependency cycle (or waiting on one), as the planners' <see cref="DependencyGraph"/> finds them. Stored
    /// jobs predate the intake's cycle check; a cycle must fail, not wait forever.
    /// </summary>
    private static IEnumerable<JobRecord> InCycles(IReadOnlyList<JobRecord> waiting, Dictionary<JobKey, JobRecord> waitingByKey)
    {
        // Keys as ids, and only the prerequisites that wait too: the others cannot be part of a cycle among these.
        var graph = DependencyGraph.Of([.. waiting.Select(j => j.Job with
        {
            Id = j.Key.ToString(),
            DependsOn = [.. j.PrerequisiteKeys.Where(waitingByKey.ContainsKey).Select(k => k.ToString())],
        })]);
        return waiting.Where((_, i) => graph.IsBlocked(i));
    }

    /// <summary>
    /// Finds the prerequisites of <paramref name="dependants"/>: among the jobs the caller already holds, else in the
    /// store, each read once (the scheduler and the reconcile loop both ask, for different jobs).
    /// </summary>
    public static async Task<Func<JobRecord, string, JobRecord?>> FinderAsync(
        IJobStore store, IEnumerable<JobRecord> dependants, IReadOnlyDictionary<JobKey, JobRecord> held, CancellationToken cancellationToken)
    {
        var read = new Dictionary<JobKey, JobRecord>();
        foreach (var key in dependants.SelectMany(j => j.PrerequisiteKeys).Where(k => !held.ContainsKey(k)).Distinct().ToList())
        {
            if (await store.GetAsync(key, cancellationToken) is { } record)
            {
                read[key] = record;
            }
        }
        return (job, dep) =>
        {
            var key = new JobKey(job.Team, dep);
            return held.TryGetValue(key, out var found) ? found : read.GetValueOrDefault(key);
        };
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
