namespace Spotwise.Runtime.Leadership;

/// <summary>One term of this replica's leadership: its epoch, and a token cancelled the moment the term ends.</summary>
public sealed record LeaderTerm(long Epoch, CancellationToken Lost);

/// <summary>
/// Whether this replica leads. Only the leader plans and reconciles (and runs the other loops that act on the world);
/// followers serve the API and the dashboard. A service with no leadership registered is the only replica and leads
/// from the start, as before leadership existed.
/// </summary>
public interface ILeadership
{
    /// <summary>This replica's id (the lease's holder when it leads).</summary>
    string ReplicaId { get; }

    /// <summary>The current term, or null while this replica follows.</summary>
    LeaderTerm? Current { get; }

    /// <summary>Completes with the current term as soon as this replica leads (at once if it does).</summary>
    Task<LeaderTerm> WhenLeaderAsync(CancellationToken cancellationToken);

    /// <summary>The store refused a write of <paramref name="term"/> (<see cref="StaleEpochException"/>): the term ends now.</summary>
    void Deposed(LeaderTerm term);
}
