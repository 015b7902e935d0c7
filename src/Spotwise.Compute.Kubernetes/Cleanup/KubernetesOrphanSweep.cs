using System.Diagnostics.Metrics;
using k8s;
using Microsoft.Extensions.Logging;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;

namespace Spotwise.Compute.Kubernetes.Cleanup;

/// <summary>A Job the sweep deleted, and why no job owns it.</summary>
public sealed record OrphanJob(string Name, JobKey Job, int Attempt, string Reason);

/// <summary>
/// Deletes the Jobs of this installation that no job owns (<see cref="OrphanRule"/>, the rule the EC2 sweep uses): left
/// by a crash between a launch and its record, a job deleted from the store, a delete that was lost. It lists only Jobs
/// labelled <c>app.kubernetes.io/managed-by</c> = <see cref="KubernetesComputeOptions.ManagedBy"/> in the namespace, and of
/// those only the ones that have not ended (a finished Job costs nothing and its TTL removes it). One sweep lists, then
/// reads the store, then deletes: a store that fails stops the sweep before anything is deleted.
/// </summary>
public sealed partial class KubernetesOrphanSweep(IKubernetes client, KubernetesJobsCompute backend, IJobStore store, KubernetesComputeOptions options,
    TimeProvider time, ILogger<KubernetesOrphanSweep> logger)
{
    private long _deleted;

    /// <summary>Jobs deleted as orphans since start.</summary>
    public long Deleted => Interlocked.Read(ref _deleted);

    /// <summary>Records <see cref="Deleted"/> on the service's Spotwise meter.</summary>
    public KubernetesOrphanSweep WithMetrics(IMeterFactory? meters)
    {
        meters?.Create(RuntimeCounters.MeterName).CreateObservableCounter("spotwise.kubernetes.orphans_deleted", () => Deleted, "{job}",
            "Kubernetes Jobs of this installation deleted by the orphan sweep since start (no job owned them).");
        return this;
    }

    /// <summary>One sweep: the orphans it deleted.</summary>
    public async Task<IReadOnlyList<OrphanJob>> SweepAsync(CancellationToken cancellationToken)
    {
        var list = await client.BatchV1.ListNamespacedJobAsync(options.Namespace, labelSelector: $"{KubeKeys.ManagedBy}={options.ManagedBy}",
            cancellationToken: cancellationToken).ConfigureAwait(false);
        var live = new List<InstanceStatus>();
        foreach (var job in list.Items ?? [])
        {
            if (JobStatuses.From(job) is { } status)
            {
                if (!status.IsEnded)
                {
                    live.Add(status);
                }
            }
            else
            {
                LogUnattributed(options.Namespace, job.Metadata?.Name ?? "(unnamed)", options.ManagedBy);
            }
        }
        var orphans = await OrphanRule.FindAsync(live, store, time.GetUtcNow(), options.OrphanSweep.Grace, cancellationToken).ConfigureAwait(false);
        var deleted = new List<OrphanJob>();
        foreach (var (instance, reason) in orphans)
        {
            await backend.TerminateAsync(instance.InstanceId, cancellationToken).ConfigureAwait(false);
            Interlocked.Increment(ref _deleted);
            LogDeleted(options.Namespace, instance.InstanceId, instance.Team, instance.JobId, instance.Attempt, reason);
            deleted.Add(new OrphanJob(instance.InstanceId, instance.Job, instance.Attempt, reason));
        }
        return deleted;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Orphan sweep deleted Job {Namespace}/{Name} of job {Team}/{JobId} attempt {Attempt}: {Reason}")]
    private partial void LogDeleted(string @namespace, string name, string team, string jobId, int attempt, string reason);

    [LoggerMessage(Level = LogLevel.Warning,
        Message = "Job {Namespace}/{Name} carries app.kubernetes.io/managed-by={ManagedBy} but no Spotwise annotations: Spotwise did not make it and leaves it alone")]
    private partial void LogUnattributed(string @namespace, string name, string managedBy);
}
