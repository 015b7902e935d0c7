namespace Spotwise.Runtime.Leadership;

/// <summary>Who leads the replicas of one store, in which term, and until when unless renewed.</summary>
/// <param name="Holder">The replica id that holds the lease.</param>
/// <param name="Epoch">The term: 1 for the first leader, one more at every change of hands (never reused).</param>
/// <param name="ExpiresAt">When the lease lapses unless its holder renews it first.</param>
public sealed record Lease(string Holder, long Epoch, DateTimeOffset ExpiresAt)
{
    public bool IsHeldBy(string replicaId, DateTimeOffset now) => Holder == replicaId && ExpiresAt > now;
}

/// <summary>
/// The one leader lease of a store, kept in the store itself (a row with holder, epoch and expiry), so leadership and
/// the writes it fences live and die together. Implementations pass <c>LeaseContract</c> (tests); SQLite takes the
/// lease in one <c>BEGIN IMMEDIATE</c> transaction, PostgreSQL the same row under <c>SELECT ... FOR UPDATE</c>.
/// </summary>
public interface ILeaderLease
{
    /// <summary>
    /// In one transaction: renews the lease for <paramref name="replicaId"/> if it holds it (same epoch, expiry now +
    /// <paramref name="ttl"/>); takes it with the next epoch if it is free or has lapsed; otherwise leaves it alone.
    /// Returns the lease as stored afterwards: held by <paramref name="replicaId"/> or not.
    /// </summary>
    Task<Lease> TryAcquireAsync(string replicaId, TimeSpan ttl, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Lets the lease lapse now if <paramref name="replicaId"/> holds it (a clean stop), so a follower takes over at its next try.</summary>
    Task ReleaseAsync(string replicaId, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The lease as stored (null before anyone took it).</summary>
    Task<Lease?> CurrentAsync(CancellationToken cancellationToken);
}

/// <summary>The rule of <see cref="ILeaderLease.TryAcquireAsync"/>, one for every store: renew, take over, or leave alone.</summary>
public static class LeaseRules
{
    /// <summary>
    /// The lease to store after <paramref name="replicaId"/> tries at <paramref name="now"/>, given the stored one
    /// (null: none yet). The holder renews in its epoch; a free or lapsed lease goes to the caller with the next epoch (its
    /// own lapsed lease too: work of the lapsed term may still be in flight, and must not pass the fence); a lease
    /// another replica holds stays as it is.
    /// </summary>
    /// <exception cref="ArgumentException">An empty replica id, or a TTL that is not positive.</exception>
    public static Lease Next(Lease? stored, string replicaId, TimeSpan ttl, DateTimeOffset now)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(replicaId);
        if (ttl <= TimeSpan.Zero)
        {
            throw new ArgumentException($"the lease's TTL is {ttl}; it must be positive", nameof(ttl));
        }
        if (stored is null)
        {
            return new Lease(replicaId, 1, now + ttl);
        }
        if (stored.IsHeldBy(replicaId, now))
        {
            return stored with { ExpiresAt = now + ttl };
        }
        return stored.ExpiresAt <= now ? new Lease(replicaId, stored.Epoch + 1, now + ttl) : stored;
    }
}
