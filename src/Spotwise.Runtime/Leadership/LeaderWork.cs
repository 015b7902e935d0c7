using Microsoft.Extensions.Logging;

namespace Spotwise.Runtime.Leadership;

/// <summary>
/// Runs one unit of leader-only work (a reconcile tick, a planning cycle, a sweep): waits until this replica leads, then
/// runs it under the term's epoch (<see cref="LeaderFence"/>) and cancelled when the term ends. With no leadership (one
/// replica) the work runs at once, unfenced, as it always did. The one place the loops ask who leads.
/// </summary>
public static partial class LeaderWork
{
    /// <summary>
    /// Runs <paramref name="work"/> as the leader. A term lost meanwhile, or a write the store refused as stale, ends the
    /// work quietly (logged; the term is over), and the caller's loop goes on waiting for the next term.
    /// </summary>
    public static async Task RunAsync(ILeadership? leadership, Func<CancellationToken, Task> work, ILogger logger, CancellationToken stoppingToken)
    {
        if (leadership is null)
        {
            await work(stoppingToken);
            return;
        }
        var term = await leadership.WhenLeaderAsync(stoppingToken);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken, term.Lost);
        using var fence = LeaderFence.Enter(term.Epoch);
        try
        {
            await work(linked.Token);
        }
        catch (OperationCanceledException) when (term.Lost.IsCancellationRequested && !stoppingToken.IsCancellationRequested)
        {
            LogTermEnded(logger, term.Epoch);
        }
        catch (StaleEpochException e)
        {
            LogStale(logger, e.Epoch, e.StoredEpoch);
            leadership.Deposed(term);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Leadership (epoch {Epoch}) ended during the work; it stopped")]
    private static partial void LogTermEnded(ILogger logger, long epoch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The store refused a write of epoch {Epoch} (the lease is at {StoredEpoch}): this replica no longer leads")]
    private static partial void LogStale(ILogger logger, long epoch, long storedEpoch);
}
