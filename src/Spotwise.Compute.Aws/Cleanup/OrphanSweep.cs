using System.Diagnostics.Metrics;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;
using InstanceStatus = Spotwise.Runtime.InstanceStatus;

namespace Spotwise.Compute.Aws.Cleanup;

/// <summary>An instance the sweep terminated, and why no job owns it.</summary>
public sealed record Orphan(string InstanceId, JobKey Job, int Attempt, string Reason);

/// <summary>
/// Terminates the instances of this installation that no job owns (<see cref="OrphanRule"/>): left by a crash between
/// a launch and its record, by a job deleted from the store, by a terminate that was lost. It lists only instances
/// carrying <c>spotwise:managed-by</c> = <see cref="AwsComputeOptions.ManagedBy"/> (EC2 filters them), so nothing launched
/// by hand or by another installation is ever touched. One sweep reads EC2, then the store, then acts: a store that
/// fails stops the sweep before anything is terminated. <see cref="SweepAsync"/> is public so tests drive it. With several
/// regions it is given a client per region, lists each, and terminates an orphan in the region that listed it.
/// </summary>
public sealed partial class OrphanSweep(IReadOnlyList<IAmazonEC2> regions, IJobStore store, AwsComputeOptions options, TimeProvider time, ILogger<OrphanSweep> logger)
{
    /// <summary>The sweep of one region's client.</summary>
    public OrphanSweep(IAmazonEC2 ec2, IJobStore store, AwsComputeOptions options, TimeProvider time, ILogger<OrphanSweep> logger)
        : this([ec2], store, options, time, logger)
    {
    }

    /// <summary>EC2 states of an instance that still exists and may cost money (stopped ones keep their volumes).</summary>
    private static readonly List<string> Live = ["pending", "running", "stopping", "stopped"];

    private long _terminated;

    /// <summary>Instances terminated as orphans since start (<c>spotwise_orphans_terminated_total</c>).</summary>
    public long Terminated => Interlocked.Read(ref _terminated);

    /// <summary>Raised after every sweep that ran to its end, with the orphans it terminated.</summary>
    public event EventHandler<IReadOnlyList<Orphan>>? Swept;

    /// <summary>Records <see cref="Terminated"/> on the service's Spotwise meter, which <c>/metrics</c> exports.</summary>
    public OrphanSweep WithMetrics(IMeterFactory? meters)
    {
        meters?.Create(RuntimeCounters.MeterName).CreateObservableCounter("spotwise.orphans_terminated", () => Terminated, "{instance}",
            "EC2 instances of this installation terminated by the orphan sweep since start (no job owned them).");
        return this;
    }

    /// <summary>One sweep: the orphans it terminated.</summary>
    /// <exception cref="AmazonServiceException">EC2 could not be listed (nothing was terminated).</exception>
    /// <remarks>Whatever the store throws propagates, before anything is terminated.</remarks>
    public async Task<IReadOnlyList<Orphan>> SweepAsync(CancellationToken cancellationToken)
    {
        // EC2 before the store: an instance listed here was launched under an intent already stored, so the record
        // read afterwards knows its attempt.
        var listedBy = new Dictionary<string, IAmazonEC2>(StringComparer.Ordinal);
        var instances = await LiveInstancesAsync(listedBy, cancellationToken);
        var orphans = await FindOrphansAsync(instances, time.GetUtcNow(), cancellationToken);
        var terminated = new List<Orphan>();
        foreach (var orphan in orphans)
        {
            if (await TerminateAsync(listedBy[orphan.InstanceId], orphan, cancellationToken))
            {
                terminated.Add(orphan);
            }
        }
        Swept?.Invoke(this, terminated);
        return terminated;
    }

    private async Task<List<Orphan>> FindOrphansAsync(List<InstanceStatus> instances, DateTimeOffset now, CancellationToken ct) =>
        [.. (await OrphanRule.FindAsync(instances, store, now, options.OrphanSweep.Grace, ct))
            .Select(o => new Orphan(o.Instance.InstanceId, o.Instance.Job, o.Instance.Attempt, o.Reason))];

    /// <summary>This installation's instances that still exist, paged; one without Spotwise's job tags is left alone, and said so.</summary>
    /// <param name="listedBy">Filled with the client of the region that listed each instance: an instance id is known only in its region.</param>
    /// <param name="ct">Cancels the listing.</param>
    private async Task<List<InstanceStatus>> LiveInstancesAsync(Dictionary<string, IAmazonEC2> listedBy, CancellationToken ct)
    {
        var found = new List<InstanceStatus>();
        foreach (var ec2 in regions)
        {
            foreach (var status in await LiveInstancesAsync(ec2, ct))
            {
                listedBy[status.InstanceId] = ec2;
                found.Add(status);
            }
        }
        return found;
    }

    private async Task<List<InstanceStatus>> LiveInstancesAsync(IAmazonEC2 ec2, CancellationToken ct)
    {
        var found = new List<InstanceStatus>();
        string? next = null;
        do
        {
            var page = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest
            {
                Filters = [new Filter($"tag:{Ec2Tags.ManagedBy}", [options.ManagedBy]), new Filter("instance-state-name", Live)],
                MaxResults = options.DescribePageSize,
                NextToken = next,
            }, ct).ConfigureAwait(false);
            foreach (var instance in (page.Reservations ?? []).SelectMany(r => r.Instances ?? []))
            {
                if (Ec2InstanceStatuses.From(instance) is { } status)
                {
                    found.Add(status);
                }
                else
                {
                    // Spotwise tags an instance with its job when it creates it, in the same call: this one came from elsewhere.
                    LogUnattributed(instance.InstanceId, options.ManagedBy);
                }
            }
            next = page.NextToken;
        }
        while (!string.IsNullOrEmpty(next));
        return found;
    }

    /// <summary>True when EC2 took the terminate (or the instance is gone); a refusal is logged and the sweep goes on.</summary>
    private async Task<bool> TerminateAsync(IAmazonEC2 ec2, Orphan orphan, CancellationToken ct)
    {
        try
        {
            await ec2.TerminateInstancesAsync(new TerminateInstancesRequest { InstanceIds = [orphan.InstanceId] }, ct).ConfigureAwait(false);
        }
        catch (AmazonEC2Exception e) when (Ec2ErrorCodes.IsUnknownInstance(e.ErrorCode))
        {
            return false; // Gone already: nothing to count.
        }
        catch (AmazonServiceException e)
        {
            LogTerminateFailed(e, orphan.InstanceId, orphan.Job.Team, orphan.Job.Id, orphan.Attempt);
            return false;
        }
        Interlocked.Increment(ref _terminated);
        LogTerminated(orphan.InstanceId, orphan.Job.Team, orphan.Job.Id, orphan.Attempt, orphan.Reason);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Orphan sweep terminated instance {InstanceId} of job {Team}/{JobId} attempt {Attempt}: {Reason}")]
    private partial void LogTerminated(string instanceId, string team, string jobId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Error,
        Message = "Orphan sweep could not terminate instance {InstanceId} of job {Team}/{JobId} attempt {Attempt}; it tries again next sweep")]
    private partial void LogTerminateFailed(Exception exception, string instanceId, string team, string jobId, int attempt);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Instance {InstanceId} carries spotwise:managed-by={ManagedBy} but no Spotwise job tags: Spotwise did not launch it and leaves it alone")]
    private partial void LogUnattributed(string instanceId, string managedBy);
}
