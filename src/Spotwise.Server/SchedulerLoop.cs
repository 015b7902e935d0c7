using System.Threading.Channels;
using Spotwise.Runtime;
using Spotwise.Runtime.Reconciliation;

namespace Spotwise.Server;

/// <summary>
/// Runs <see cref="Scheduler.RunCycleAsync"/> every <see cref="SpotwiseOptions.CycleInterval"/> (a PeriodicTimer on the
/// TimeProvider) and at once when signalled: on submit, and when the reconcile loop sends a job back to the queue.
/// Signals that arrive during a cycle fold into one more cycle.
/// </summary>
public sealed partial class SchedulerLoop : BackgroundService
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private readonly Scheduler _scheduler;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger<SchedulerLoop> _logger;

    public SchedulerLoop(Scheduler scheduler, ReconcileLoop reconcile, Microsoft.Extensions.Options.IOptions<SpotwiseOptions> options, TimeProvider time, ILogger<SchedulerLoop> logger)
    {
        _scheduler = scheduler;
        _interval = options.Value.CycleInterval;
        _time = time;
        _logger = logger;
        reconcile.ReplanNeeded += (_, _) => Signal();
    }

    /// <summary>Asks for a cycle soon; cheap and never blocks.</summary>
    public void Signal() => _wake.Writer.TryWrite(true);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var ticks = TickAsync(stoppingToken);
        Signal();
        try
        {
            await foreach (var _ in _wake.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await _scheduler.RunCycleAsync(stoppingToken);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    LogCycleFailed(e);
                }
            }
        }
        finally
        {
            await ticks.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
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
