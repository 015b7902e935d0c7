namespace Spotwise.Runtime.History;

/// <summary>
/// The service's current <see cref="PoolInterruptionHistory"/>, read again from the store at most every
/// <see cref="PoolHistoryOptions.RefreshEvery"/>: the scheduler refreshes it before it plans, and the market and why
/// views show the rates of the same snapshot, so they say what the plan used. One per service; thread-safe.
/// </summary>
/// <remarks>
/// The cost: one <see cref="IJobStore.SpotExposureAsync"/> per refresh, a sum the store computes over the attempts that
/// ended within <see cref="PoolHistoryOptions.LookBack"/> (one row per pool comes back). Two refreshes at once would only
/// read twice: no lock.
/// </remarks>
public sealed class PoolInterruptionTracker(PoolHistoryOptions? options = null)
{
    private readonly PoolHistoryOptions _options = options ?? PoolHistoryOptions.Default;
    private volatile Snapshot? _snapshot;

    public PoolHistoryOptions Options => _options;

    /// <summary>The latest history read (empty before the first read).</summary>
    public PoolInterruptionHistory Current => _snapshot?.History ?? PoolInterruptionHistory.Empty;

    /// <summary>Reads the log again when the last read is older than <see cref="PoolHistoryOptions.RefreshEvery"/> (or there is none).</summary>
    public async Task<PoolInterruptionHistory> RefreshAsync(IJobStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        if (_snapshot is { } fresh && now - fresh.ReadAt < _options.RefreshEvery)
        {
            return fresh.History;
        }
        var pools = await store.SpotExposureAsync(now - _options.LookBack, cancellationToken);
        var read = new Snapshot(PoolInterruptionHistory.From(pools, _options), now);
        _snapshot = read;
        return read.History;
    }

    private sealed record Snapshot(PoolInterruptionHistory History, DateTimeOffset ReadAt);
}
