using Spotwise.Runtime;

namespace Spotwise.Storage.Postgres;

/// <summary>
/// A batch of submissions as one statement sees it: each (team, id) once, at its first place in the batch. A later
/// place of the same job is answered as if it came after the first was stored: the same body is a duplicate, another
/// body a conflict (what the SQLite store answers, job by job).
/// </summary>
internal sealed class SubmitPlan
{
    private readonly IReadOnlyList<Submission> _batch;
    private readonly int[] _uniqueOf;
    private readonly bool[] _isFirst;

    private SubmitPlan(IReadOnlyList<Submission> batch, List<Submission> unique, int[] uniqueOf, bool[] isFirst)
    {
        _batch = batch;
        Unique = unique;
        _uniqueOf = uniqueOf;
        _isFirst = isFirst;
    }

    /// <summary>The batch's distinct jobs, in the order they first appear.</summary>
    public IReadOnlyList<Submission> Unique { get; }

    public static SubmitPlan Of(IReadOnlyList<Submission> batch)
    {
        var firsts = new Dictionary<JobKey, int>();
        var unique = new List<Submission>();
        var uniqueOf = new int[batch.Count];
        var isFirst = new bool[batch.Count];
        for (var i = 0; i < batch.Count; i++)
        {
            var key = new JobKey(batch[i].Team, batch[i].Job.Id);
            if (firsts.TryAdd(key, unique.Count))
            {
                unique.Add(batch[i]);
                isFirst[i] = true;
            }
            uniqueOf[i] = firsts[key];
        }
        return new SubmitPlan(batch, unique, uniqueOf, isFirst);
    }

    /// <summary>Each submission's answer, given the rows that were already stored (by index into <see cref="Unique"/>, with their bodies).</summary>
    public IReadOnlyList<SubmitResult> Answer(IReadOnlyDictionary<int, (JobRecord Record, string Body)> existing, DateTimeOffset now)
    {
        var created = new JobRecord?[Unique.Count];
        var results = new List<SubmitResult>(_batch.Count);
        for (var i = 0; i < _batch.Count; i++)
        {
            var submission = _batch[i];
            var u = _uniqueOf[i];
            var id = submission.Job.Id;
            if (existing.TryGetValue(u, out var stored))
            {
                results.Add(Against(id, submission.Body, stored.Body, stored.Record));
            }
            else if (_isFirst[i])
            {
                created[u] = new JobRecord { Job = submission.Job, Team = submission.Team, SubmittedAt = now, State = JobState.Queued, Version = 1 };
                results.Add(new SubmitResult(id, SubmitOutcome.Created, created[u]));
            }
            else
            {
                results.Add(Against(id, submission.Body, Unique[u].Body, created[u]!));
            }
        }
        return results;
    }

    private static SubmitResult Against(string id, string body, string storedBody, JobRecord stored) =>
        body == storedBody ? new SubmitResult(id, SubmitOutcome.Duplicate, stored) : new SubmitResult(id, SubmitOutcome.Conflict, null);
}
