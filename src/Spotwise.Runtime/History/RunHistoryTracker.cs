namespace Spotwise.Runtime.History;

/// <summary>
/// The service's current <see cref="RunHistory"/>, read again from the store at most every
/// <see cref="RunHistoryOptions.RefreshEvery"/>: the scheduler refreshes it before it plans, and the job view shows the
/// estimate from the same snapshot, so the page says what the plan used. One per service; thread-safe.
/// </summary>
/// <remarks>
/// The cost: one <see cref="IJobStore.ListAsync"/> per refresh of the jobs that succeeded within
/// <see cref="RunHistoryOptions.LookBack"/> (<see cref="JobQuery.FinishedSince"/>, from the store's finish-time index), so it
/// follows recent work, not the store's whole history; it is paced too. Two refreshes at once (a cycle and nothing else
/// reads it) would only read twice: no lock.
/// </remarks>
public sealed class RunHistoryTracker(RunHistoryOptions? options = null)
{
    private static readonly JobState[] Succeeded = [JobState.Succeeded];

    private readonly RunHistoryOptions _options = options ?? RunHistoryOptions.Default;
    private volatile Snapshot? _snapshot;

    public RunHistoryOptions Options => _options;

    /// <summary>The latest history read (empty before the first read).</summary>
    public RunHistory Current => _snapshot?.History ?? RunHistory.Empty;

    /// <summary>Reads the history again when the last read is older than <see cref="RunHistoryOptions.RefreshEvery"/> (or there is none).</summary>
    public async Task<RunHistory> RefreshAsync(IJobStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_snapshot is { } fresh && now - fresh.ReadAt < _options.RefreshEvery)
        {
            return fresh.History;
        }
        var finished = await store.ListAsync(new JobQuery(States: Succeeded) { FinishedSince = now - _options.LookBack }, cancellationToken);
        var read = new Snapshot(RunHistory.From(finished, _options), now);
        _snapshot = read;
        return read.History;
    }

    private sealed record Snapshot(RunHistory History, DateTimeOffset ReadAt);
}
