namespace Spotwise.Runtime;

/// <summary>
/// The jobs one planning cycle counts money and fairness from, read once: the jobs it plans around (waiting and
/// launched, which it reads anyway) and the jobs ended since the first moment anything looks back to (the fair-share
/// window, the budgets' periods). Budgets, budget alerts and fair share all read this snapshot, so a cycle reads ended
/// jobs at most once, and only those of that window, from the store's finish-time index (docs/teams.md).
/// </summary>
public sealed class CycleJobs
{
    /// <summary>The states the bounded read asks for: the final ones, and interrupted (its work is not finished).</summary>
    private static readonly JobState[] EndedStates = [JobState.Succeeded, JobState.Failed, JobState.Cancelled, JobState.Interrupted];

    private CycleJobs(IReadOnlyList<JobRecord> current, IReadOnlyList<JobRecord> ended, DateTimeOffset? since)
    {
        Current = current;
        Ended = ended;
        Since = since;
    }

    /// <summary>The jobs waiting (queued, planned) and launched, as the cycle read them.</summary>
    public IReadOnlyList<JobRecord> Current { get; }

    /// <summary>The jobs ended (or interrupted) since <see cref="Since"/>: none when nothing looks back.</summary>
    public IReadOnlyList<JobRecord> Ended { get; }

    /// <summary>The bound of the read of ended jobs; null when they were not read.</summary>
    public DateTimeOffset? Since { get; }

    /// <summary>Every job of the snapshot.</summary>
    public IEnumerable<JobRecord> All => Current.Concat(Ended);

    /// <summary>
    /// The snapshot: <paramref name="current"/>, and one read of the jobs ended since <paramref name="since"/> (none when
    /// it is null). A job that moved between the cycle's reads is kept once, as <paramref name="current"/> has it.
    /// </summary>
    public static async Task<CycleJobs> ReadAsync(IJobStore store, IReadOnlyList<JobRecord> current, DateTimeOffset? since, CancellationToken cancellationToken)
    {
        if (since is null)
        {
            return new CycleJobs(current, [], null);
        }
        var keys = current.Select(j => j.Key).ToHashSet();
        var ended = await store.ListAsync(new JobQuery(States: EndedStates) { FinishedSince = since }, cancellationToken);
        return new CycleJobs(current, [.. ended.Where(j => !keys.Contains(j.Key))], since);
    }

    /// <summary>The earlier of two look-backs (null when neither looks back).</summary>
    public static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;

    /// <summary>The snapshot with <paramref name="updated"/> in place of the records of the same jobs (the plan just applied).</summary>
    public CycleJobs With(IEnumerable<JobRecord> updated)
    {
        var byKey = updated.ToDictionary(j => j.Key);
        return new CycleJobs([.. Current.Select(j => byKey.GetValueOrDefault(j.Key) ?? j)], Ended, Since);
    }
}
