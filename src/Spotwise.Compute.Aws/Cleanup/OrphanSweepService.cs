using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spotwise.Runtime;
using Spotwise.Runtime.Leadership;

namespace Spotwise.Compute.Aws.Cleanup;

/// <summary>
/// Runs the <see cref="OrphanSweep"/> at start and every <see cref="OrphanSweepOptions.Interval"/> on the service's
/// <see cref="TimeProvider"/>, when EC2 is a backend the service launches on (a route names <c>aws</c>) and a job store
/// is registered; otherwise it does nothing, and no EC2 client is made. A failed sweep is logged; the next one tries again.
/// Among replicas only the leader sweeps (<see cref="LeaderWork"/>): a follower's view of which instances jobs own may lag.
/// </summary>
internal sealed partial class OrphanSweepService(IServiceProvider services, AwsComputeOptions options, TimeProvider time, ILogger<OrphanSweepService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (WhyNot() is { } reason)
        {
            LogNotRunning(reason);
            return;
        }
        if (options.OrphanSweep.Interval <= TimeSpan.Zero)
        {
            LogBadInterval(options.OrphanSweep.Interval);
            return;
        }
        OrphanSweep? sweep = null;
        using var timer = new PeriodicTimer(options.OrphanSweep.Interval, time);
        do
        {
            try
            {
                // Made here, inside the guard: the EC2 client resolves credentials when it is made, and a failure must
                // not stop the service (a BackgroundService that throws stops the host).
                sweep ??= services.GetRequiredService<OrphanSweep>();
                await LeaderWork.RunAsync(services.GetService<ILeadership>(), sweep.SweepAsync, logger, stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSweepFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Why this service must not sweep (null: it sweeps).</summary>
    private string? WhyNot()
    {
        if (!options.OrphanSweep.Enabled)
        {
            return "it is turned off";
        }
        if (!AwsComputeRegistration.IsRouted(services))
        {
            return "the aws backend is not the one the service launches on";
        }
        return services.GetService<IJobStore>() is null ? "the service has no job store" : null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The EC2 orphan sweep does not run: {Reason}")]
    private partial void LogNotRunning(string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "The EC2 orphan sweep does not run: its interval is {Interval}, and must be greater than zero")]
    private partial void LogBadInterval(TimeSpan interval);

    [LoggerMessage(Level = LogLevel.Error, Message = "The EC2 orphan sweep failed; the next sweep tries again")]
    private partial void LogSweepFailed(Exception exception);
}
