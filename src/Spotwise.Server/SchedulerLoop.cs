using System.Threading.Channels;
using Spotwise.Runtime;
using Spotwise.Runtime.Leadership;
using Spotwise.Runtime.Reconciliation;

namespace Spotwise.Server;

/// <summary>
/// Runs <see cref="Scheduler.RunCycleAsync"/> every <see cref="SpotwiseOptions.CycleInterval"/> (a PeriodicTimer on the
/// TimeProvider) and at once when signalled: on submit, and when the reconcile loop sends a job back to the queue.
/// Signals that arrive during a cycle fold into one more cycle. Two cycles start at least
/// <see cref="SpotwiseOptions.MinCycleGap"/> apart in real time, and a cycle is followed by at least as much rest as it
/// took, so planning a large queue uses at most half the time and the API stays responsive meanwhile.
/// </summary>
/// <remarks>
/// The gap is kept on the real clock (the constructor's <c>pacing</c>, the system clock unless a test passes its own), not the
/// scheduler's clock: it spares this machine's cores and the store's writer, which do not run faster under
/// <c>--speed</c>.
/// <para>
/// With replicas, cycles run only while this one leads (<see cref="LeaderWork"/>): a follower's signal waits for its
/// term, and a new leader plans at once. A submission on a follower reaches the leader through the store: on
/// PostgreSQL at once, by the store's notification (<see cref="ISubmissionNotifications"/>: LISTEN/NOTIFY); on every
/// store, as the safety net, the leader polls the queue's count of queued jobs every
/// <see cref="SpotwiseOptions.FollowerWakePoll"/> and plans when it changed (docs/scale-out.md#waking-the-leader).
/// </para>
/// </remarks>
public sealed partial class SchedulerLoop : BackgroundService
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Scheduler _scheduler;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _minGap;
    private readonly TimeProvider _time;
    private readonly TimeProvider _pacing;
    private long? _lastStart;
    private TimeSpan _lastTook;
    private readonly ILogger<SchedulerLoop> _logger;
    private readonly ILeadership? _leadership;
    private readonly IJobStore? _store;
    private readonly ISubmissionNotifications? _notifications;
    private readonly TimeSpan _followerWakePoll;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>How long a broken listen waits before it listens again (the poll covers the gap).</summary>
    public static TimeSpan ListenRetry { get; } = TimeSpan.FromSeconds(2);

    public SchedulerLoop(Scheduler scheduler, ReconcileLoop reconcile, Microsoft.Extensions.Options.IOptions<SpotwiseOptions> options, TimeProvider time,
        ILogger<SchedulerLoop> logger, TimeProvider? pacing = null, ILeadership? leadership = null, IJobStore? store = null,
        ISubmissionNotifications? notifications = null)
    {
        _leadership = leadership;
        _store = store;
        _notifications = notifications;
        _followerWakePoll = options.Value.FollowerWakePoll;
        _scheduler = scheduler;
        _interval = options.Value.CycleInterval;
        _minGap = options.Value.MinCycleGap;
        _time = time;
        _pacing = pacing ?? TimeProvider.System;
        _logger = logger;
        reconcile.ReplanNeeded += (_, _) => Signal();
    }

    /// <summary>Asks for a cycle soon; cheap and never blocks.</summary>
    public void Signal() => _wake.Writer.TryWrite(true);

    /// <summary>Completes once this loop first hears of jobs queued on other replicas through the store's notification.</summary>
    public Task Listening => _listening.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ticks = TickAsync(stoppingToken);
        var polls = _leadership is not null && _store is not null ? PollQueueAsync(_store, stoppingToken) : Task.CompletedTask;
        var listens = _leadership is not null && _notifications is not null ? ListenAsync(_notifications, stoppingToken) : Task.CompletedTask;
        Signal();
        try
        {
            await foreach (var _ in _wake.Reader.ReadAllAsync(stoppingToken))
            {
                await PaceAsync(stoppingToken);
                try
                {
                    await LeaderWork.RunAsync(_leadership, _scheduler.RunCycleAsync, _logger, stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogCycleFailed(e);
                }
                _lastTook = _pacing.GetElapsedTime(_lastStart!.Value);
            }
        }
        finally
        {
            await ticks.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await polls.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            await listens.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    /// <summary>
    /// Signals a cycle whenever the store says jobs were queued on another replica; listens again after a break. A
    /// listen re-established after a break signals too: what was queued meanwhile was not notified.
    /// </summary>
    private async Task ListenAsync(ISubmissionNotifications notifications, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await notifications.ListenAsync(() =>
                {
                    if (!_listening.TrySetResult())
                    {
                        Signal();
                    }
                }, Signal, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogListenFailed(e, ListenRetry.TotalSeconds);
            }
            await Task.Delay(ListenRetry, _pacing, stoppingToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Listening for jobs queued on other replicas failed; listening again in {RetrySeconds} s (the poll finds them meanwhile)")]
    private partial void LogListenFailed(Exception exception, double retrySeconds);

    /// <summary>
    /// Signals a cycle when the number of queued jobs changed since the last look: the cross-process wake for a job
    /// submitted on a follower where the store cannot notify (SQLite), and the safety net where it can. Cheap (one indexed
    /// count a second); a change it misses (one job planned, another queued between two looks) is planned by the next
    /// periodic cycle.
    /// </summary>
    private async Task PollQueueAsync(IJobStore store, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_followerWakePoll, _pacing);
        int? last = null;
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            if (_leadership?.Current is null)
            {
                last = null;
                continue;
            }
            try
            {
                var queued = (await store.CountByStateAsync(team: null, stoppingToken)).GetValueOrDefault(JobState.Queued);
                // The first look as leader counts too: a job queued on a follower before it is still waiting.
                if (last is { } before ? before != queued : queued > 0)
                {
                    Signal();
                }
                last = queued;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPollFailed(e);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Looking for jobs queued on other replicas failed; the periodic cycle plans them")]
    private partial void LogPollFailed(Exception exception);

    /// <summary>
    /// Waits until <see cref="SpotwiseOptions.MinCycleGap"/> has passed since the last cycle started, and twice what
    /// that cycle took.
    /// </summary>
    private async Task PaceAsync(CancellationToken stoppingToken)
    {
        var spacing = _minGap > 2 * _lastTook ? _minGap : 2 * _lastTook;
        if (_lastStart is { } last && spacing - _pacing.GetElapsedTime(last) is { Ticks: > 0 } wait)
        {
            await Task.Delay(wait, _pacing, stoppingToken);
        }
        _lastStart = _pacing.GetTimestamp();
    }

    private async Task TickAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            Signal();
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A scheduling cycle failed; the loop goes on")]
    private partial void LogCycleFailed(Exception exception);
}
