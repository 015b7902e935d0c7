namespace Spotwise.Runtime.Leadership;

/// <summary>
/// The epoch the leader's work writes under. A store that keeps a lease refuses, in the write's own transaction, a write
/// of the job table or the plans made under an epoch older than the stored lease's (<see cref="StaleEpochException"/>):
/// a deposed leader that wakes late (a pause, a slow disk) changes nothing.
/// </summary>
/// <remarks>
/// Ambient, like <c>TransactionScope</c>: the epoch flows with the leader's async work (<see cref="LeaderWork"/> sets it
/// for one tick or cycle) into every store call beneath it, through every wrapper (the dashboard's signal, the opened
/// store), and not into the API's requests, whose writes (submit, cancel) any replica may make. The alternative, an
/// epoch argument on every write of <see cref="IJobStore"/>, would change every store and every caller for a value only
/// the leader's loops have. Outside leader work it is null and nothing is fenced.
/// </remarks>
public static class LeaderFence
{
    private static readonly AsyncLocal<long?> Ambient = new();

    /// <summary>The epoch the current async flow writes under, if it is leader work.</summary>
    public static long? Epoch => Ambient.Value;

    /// <summary>Writes from here on (in this async flow and what it starts) carry <paramref name="epoch"/>; disposing restores the previous one.</summary>
    public static IDisposable Enter(long epoch)
    {
        var previous = Ambient.Value;
        Ambient.Value = epoch;
        return new Restore(previous);
    }

    /// <summary>What a store calls inside its write transaction, with the stored lease's epoch (null: no lease stored).</summary>
    /// <exception cref="StaleEpochException">The flow writes under an older epoch than the stored one.</exception>
    public static void Check(long? storedEpoch)
    {
        if (Epoch is { } mine && storedEpoch is { } stored && stored > mine)
        {
            throw new StaleEpochException(mine, stored);
        }
    }

    private sealed class Restore(long? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }
}

/// <summary>A write of leader work refused: another replica has led since (its epoch is newer). Nothing was written.</summary>
public sealed class StaleEpochException(long epoch, long storedEpoch)
    : Exception($"refused a write under leader epoch {epoch}: the lease is at epoch {storedEpoch}, another replica leads now")
{
    public long Epoch { get; } = epoch;

    public long StoredEpoch { get; } = storedEpoch;
}
