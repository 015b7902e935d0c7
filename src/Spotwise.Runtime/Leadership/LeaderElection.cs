using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Spotwise.Runtime.Leadership;

/// <summary>How a replica takes part in the election.</summary>
public sealed record LeaderElectionOptions(string ReplicaId, TimeSpan Ttl)
{
    /// <summary>How long a lease lasts unrenewed: a dead leader is replaced within it plus one try (≈ 13 s).</summary>
    public static TimeSpan DefaultTtl { get; } = TimeSpan.FromSeconds(10);

    /// <summary>How often the lease is renewed by its holder and tried by the others: a third of the TTL, so two renewals may fail before it lapses.</summary>
    public TimeSpan TryEvery => Ttl / 3;

    /// <summary>
    /// The default replica id: this host and process, and a random suffix, so it is unique among replicas across
    /// machines and also between services that share one process (tests and benches host two in one).
    /// </summary>
    public static string DefaultReplicaId() => $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";
}

/// <summary>
/// Elects one leader among the replicas of a store through its <see cref="ILeaderLease"/>: every
/// <see cref="LeaderElectionOptions.TryEvery"/> on the <see cref="TimeProvider"/> the holder renews and the others try to
/// take a lapsed lease. A renewal that fails (the store is unreachable, or another replica holds the lease) ends the
/// term at once: its token is cancelled and the loops stop acting. A clean stop releases the lease so a follower takes
/// over at its next try. <see cref="TickAsync"/> is public so tests drive the election on a fake clock.
/// </summary>
/// <remarks>
/// The lease alone cannot stop a leader that is paused past its expiry and wakes believing it still leads; the store's
/// fence can (<see cref="LeaderFence"/>): its writes carry the old epoch and are refused.
/// </remarks>
public sealed partial class LeaderElection(ILeaderLease lease, LeaderElectionOptions options, TimeProvider time, ILogger<LeaderElection> logger)
    : BackgroundService, ILeadership
{
    private readonly Lock _gate = new();
    private TaskCompletionSource<LeaderTerm> _elected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private (LeaderTerm Term, CancellationTokenSource Lost)? _term;

    public string ReplicaId => options.ReplicaId;

    public LeaderTerm? Current
    {
        get
        {
            lock (_gate)
            {
                return _term?.Term;
            }
        }
    }

    /// <summary>Raised when this replica starts leading (with the new term) and when it stops (null).</summary>
    public event EventHandler<LeaderTerm?>? Changed;

    public Task<LeaderTerm> WhenLeaderAsync(CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            return _term is { } t ? Task.FromResult(t.Term) : _elected.Task.WaitAsync(cancellationToken);
        }
    }

    public void Deposed(LeaderTerm term)
    {
        LogDeposed(options.ReplicaId, term.Epoch);
        StepDown(term.Epoch);
    }

    /// <summary>One try: renew or take the lease, and lead or follow by what the store says. Returns the term, if this replica leads.</summary>
    public async Task<LeaderTerm?> TickAsync(CancellationToken cancellationToken)
    {
        Lease stored;
        try
        {
            stored = await lease.TryAcquireAsync(options.ReplicaId, options.Ttl, time.GetUtcNow(), cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // Unsure whether it still holds the lease, the leader must stop acting: the next try decides again.
            LogTryFailed(e, options.ReplicaId);
            StepDown(epoch: null);
            return null;
        }
        if (stored.IsHeldBy(options.ReplicaId, time.GetUtcNow()))
        {
            return Lead(stored.Epoch);
        }
        StepDown(epoch: null);
        return null;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.TryEvery, time);
        do
        {
            await TickAsync(stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (Current is not null)
        {
            StepDown(epoch: null);
            try
            {
                await lease.ReleaseAsync(options.ReplicaId, time.GetUtcNow(), cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || cancellationToken.IsCancellationRequested)
            {
                // The lease lapses by itself within its TTL. A stop that ran out of time (the host's shutdown timeout
                // cancelled the release) must still stop, not throw out of the host's StopAsync.
                LogReleaseFailed(e, options.ReplicaId);
            }
        }
    }

    public override void Dispose()
    {
        StepDown(epoch: null);
        base.Dispose();
    }

    private LeaderTerm Lead(long epoch)
    {
        LeaderTerm term;
        lock (_gate)
        {
            if (_term is { } current && current.Term.Epoch == epoch)
            {
                return current.Term;
            }
            EndTerm();
            var lost = new CancellationTokenSource();
            term = new LeaderTerm(epoch, lost.Token);
            _term = (term, lost);
            _elected.TrySetResult(term);
        }
        LogLeading(options.ReplicaId, epoch);
        Changed?.Invoke(this, term);
        return term;
    }

    /// <summary>Ends the current term (only if it is <paramref name="epoch"/>, when given).</summary>
    private void StepDown(long? epoch)
    {
        long ended;
        lock (_gate)
        {
            if (_term is not { } current || (epoch is { } e && current.Term.Epoch != e))
            {
                return;
            }
            ended = current.Term.Epoch;
            EndTerm();
        }
        LogFollowing(options.ReplicaId, ended);
        Changed?.Invoke(this, null);
    }

    /// <summary>Cancels the term's work and arms the wait for the next term. Under the gate.</summary>
    private void EndTerm()
    {
        if (_term is not { } current)
        {
            return;
        }
        _term = null;
        _elected = new TaskCompletionSource<LeaderTerm>(TaskCreationOptions.RunContinuationsAsynchronously);
        current.Lost.Cancel();
        current.Lost.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Replica {ReplicaId} leads (epoch {Epoch}): it plans and reconciles")]
    private partial void LogLeading(string replicaId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {ReplicaId} stopped leading (epoch {Epoch}): it follows, serving the API only")]
    private partial void LogFollowing(string replicaId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {ReplicaId}: the store refused a write of epoch {Epoch}, another replica leads")]
    private partial void LogDeposed(string replicaId, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {ReplicaId} could not renew or take the lease; it acts as a follower until it can")]
    private partial void LogTryFailed(Exception exception, string replicaId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Replica {ReplicaId} could not release the lease; it lapses by itself")]
    private partial void LogReleaseFailed(Exception exception, string replicaId);
}
