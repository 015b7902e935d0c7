using System.Globalization;
using k8s.Models;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Compute.Kubernetes;

/// <summary>
/// A Job as Spotwise sees an instance (docs/kubernetes.md, "States"): condition <c>Complete</c> → succeeded; <c>Failed</c>
/// with reason <c>PodFailurePolicy</c> on a <c>DisruptionTarget</c> (its pod disrupted: a spot node taken back) →
/// interrupted; any other <c>Failed</c> (<c>BackoffLimitExceeded</c>, <c>DeadlineExceeded</c>) → failed with the
/// condition's message; suspended (Kueue has not admitted it) or no pod ready yet → pending; a ready pod → running.
/// </summary>
public static class JobStatuses
{
    /// <summary>The Job's status, or null when it carries no Spotwise annotations (not made by Spotwise: left alone).</summary>
    /// <param name="job">A Job of this installation, as listed or watched.</param>
    public static InstanceStatus? From(V1Job job)
    {
        ArgumentNullException.ThrowIfNull(job);
        var annotations = job.Metadata?.Annotations;
        var labels = job.Metadata?.Labels;
        if (annotations is null || labels is null
            || !annotations.TryGetValue(KubeKeys.ClientToken, out var token)
            || !annotations.TryGetValue(KubeKeys.TeamAnnotation, out var team)
            || !annotations.TryGetValue(KubeKeys.JobAnnotation, out var jobId)
            || !labels.TryGetValue(KubeKeys.Attempt, out var attemptText)
            || !int.TryParse(attemptText, NumberStyles.None, CultureInfo.InvariantCulture, out var attempt)
            || !MarketNames.TryParse(KubeKeys.Get(annotations, KubeKeys.Market), out var market))
        {
            return null;
        }
        var launchedAt = Utc(job.Metadata!.CreationTimestamp) ?? DateTimeOffset.MinValue;
        var (state, endedAt, error) = State(job);
        var startedAt = Utc(job.Status?.StartTime);
        // A Job that ended ran from its start; one still going runs once a pod is ready.
        var runningSince = state is InstanceState.Running or InstanceState.Succeeded or InstanceState.Failed or InstanceState.Interrupted && startedAt is { } s
            ? Max(s, launchedAt)
            : (DateTimeOffset?)null;
        if (runningSince is { } since && endedAt is { } end && end < since)
        {
            endedAt = since;
        }
        return new InstanceStatus(job.Metadata.Name, token, team, jobId, attempt, market,
            KubeKeys.Get(annotations, KubeKeys.InstanceType) ?? "", KubeKeys.Get(annotations, KubeKeys.Zone) ?? "",
            state, launchedAt, runningSince, endedAt, InterruptionNoticeAt: null, PricePerHourUsd: 0, CostSoFarUsd: 0, SavedProgressHours: 0, error)
        {
            Admission = Admission(job),
        };
    }

    /// <summary>The state, its end and the error, from the Job's conditions and counts.</summary>
    private static (InstanceState State, DateTimeOffset? EndedAt, string? Error) State(V1Job job)
    {
        var conditions = job.Status?.Conditions ?? [];
        if (conditions.FirstOrDefault(c => c.Type == "Complete" && c.Status == "True") is { } complete)
        {
            return (InstanceState.Succeeded, Utc(job.Status!.CompletionTime) ?? Utc(complete.LastTransitionTime), null);
        }
        if (conditions.FirstOrDefault(c => c.Type == "Failed" && c.Status == "True") is { } failed)
        {
            var at = Utc(failed.LastTransitionTime);
            return IsDisruption(failed)
                ? (InstanceState.Interrupted, at, $"the pod was disrupted: {failed.Message}")
                : (InstanceState.Failed, at, $"{failed.Reason}: {failed.Message}");
        }
        if (job.Spec?.Suspend == true)
        {
            return (InstanceState.Pending, null, null);
        }
        return (job.Status?.Ready ?? 0) > 0 ? (InstanceState.Running, null, null) : (InstanceState.Pending, null, null);
    }

    /// <summary>
    /// The Job failed because its pod policy's DisruptionTarget rule matched (the job controller's message: "Pod ns/name has
    /// condition DisruptionTarget matching FailJob rule at index 0").
    /// </summary>
    public static bool IsDisruption(V1JobCondition failed)
    {
        ArgumentNullException.ThrowIfNull(failed);
        return failed.Reason == "PodFailurePolicy" && (failed.Message?.Contains("DisruptionTarget", StringComparison.Ordinal) ?? false);
    }

    /// <summary>
    /// Kueue admitted the Job when it is no longer suspended: the LocalQueue is the one its label names (Kueue admits a
    /// Job only through the queue it was submitted to).
    /// </summary>
    private static string? Admission(V1Job job) =>
        KubeKeys.Get(job.Metadata?.Labels, KubeKeys.KueueQueue) is { } queue && job.Spec?.Suspend != true
            ? $"admitted by Kueue LocalQueue {queue}"
            : null;

    private static DateTimeOffset? Utc(DateTime? time) =>
        time is { } t ? new DateTimeOffset(DateTime.SpecifyKind(t, DateTimeKind.Utc)) : null;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}
