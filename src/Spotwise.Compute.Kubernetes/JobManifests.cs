using System.Globalization;
using k8s.Models;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Compute.Kubernetes;

/// <summary>
/// The batch/v1 Job of one attempt (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/job-v1/):
/// one pod, no retries of its own (<c>backoffLimit</c> 0: a retry is the runtime's next attempt, planned), placed by
/// node selector on the planned market, type and zone, and a pod failure policy that ends the Job at once when its pod
/// is disrupted (<c>DisruptionTarget</c>: a spot node taken back, drained, preempted), which the backend reports as an
/// interruption, not a failure (<see cref="JobStatuses"/>).
/// </summary>
public static class JobManifests
{
    /// <summary>The Job for <paramref name="request"/> under <paramref name="options"/>.</summary>
    public static V1Job For(LaunchRequest request, KubernetesComputeOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        var labels = Labels(request, options);
        return new V1Job
        {
            ApiVersion = "batch/v1",
            Kind = "Job",
            Metadata = new V1ObjectMeta
            {
                Name = KubeNames.JobName(options.ManagedBy, request.ClientToken, request.Team, request.JobId, request.Attempt),
                NamespaceProperty = options.Namespace,
                Labels = labels,
                Annotations = Annotations(request),
            },
            Spec = new V1JobSpec
            {
                // Kueue admits a suspended Job by unsuspending it; without Kueue the pod starts at once.
                Suspend = options.KueueQueue is not null ? true : null,
                BackoffLimit = 0,
                Parallelism = 1,
                Completions = 1,
                ActiveDeadlineSeconds = ActiveDeadlineSeconds(request, options),
                TtlSecondsAfterFinished = (int)Math.Ceiling(options.TimeToLiveAfterFinished.TotalSeconds),
                PodFailurePolicy = DisruptionEndsTheJob(),
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string>(labels, StringComparer.Ordinal) },
                    Spec = new V1PodSpec
                    {
                        // A pod failure policy needs Never: a container restarted in place would hide its failure from the Job.
                        RestartPolicy = "Never",
                        NodeSelector = NodeSelector(request, options),
                        Tolerations = options.Tolerations.Count > 0 ? [.. options.Tolerations] : null,
                        Containers = [Container(request, options)],
                    },
                },
            },
        };
    }

    /// <summary>The labels: who made it, whose job and attempt it is, and the Kueue queue when there is one.</summary>
    public static Dictionary<string, string> Labels(LaunchRequest request, KubernetesComputeOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            [KubeKeys.ManagedBy] = options.ManagedBy,
            [KubeKeys.Job] = KubeNames.LabelValue(request.JobId),
            [KubeKeys.Attempt] = request.Attempt.ToString(CultureInfo.InvariantCulture),
            [KubeKeys.Team] = KubeNames.LabelValue(request.Team),
        };
        if (options.KueueQueue is { } queue)
        {
            labels[KubeKeys.KueueQueue] = queue;
        }
        return labels;
    }

    /// <summary>The exact values the labels may have had to change, and the placement, read back by <see cref="JobStatuses"/>.</summary>
    private static Dictionary<string, string> Annotations(LaunchRequest request) => new(StringComparer.Ordinal)
    {
        [KubeKeys.JobAnnotation] = request.JobId,
        [KubeKeys.TeamAnnotation] = request.Team,
        [KubeKeys.ClientToken] = request.ClientToken,
        [KubeKeys.Market] = request.Market.ToWire(),
        [KubeKeys.InstanceType] = request.InstanceType,
        [KubeKeys.Zone] = request.Zone,
    };

    /// <summary>
    /// The planned market, type and zone as node labels (each key configurable, or left out). A zone that is a region
    /// (an on-demand placement priced regionally: no letter at its end) selects no zone.
    /// </summary>
    public static Dictionary<string, string>? NodeSelector(LaunchRequest request, KubernetesComputeOptions options)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(options);
        var selector = new Dictionary<string, string>(StringComparer.Ordinal);
        if (options.CapacityTypeLabel is { } market)
        {
            selector[market] = request.Market.ToWire();
        }
        if (options.InstanceTypeLabel is { } type)
        {
            selector[type] = request.InstanceType;
        }
        if (options.ZoneLabel is { } zone && IsZone(request.Zone))
        {
            selector[zone] = request.Zone;
        }
        return selector.Count > 0 ? selector : null;
    }

    /// <summary>A zone names its region and ends with a letter (us-east-1a); a region ends with a digit (us-east-1).</summary>
    private static bool IsZone(string zone) => zone.Length > 0 && char.IsAsciiLetterLower(zone[^1]);

    private static V1Container Container(LaunchRequest request, KubernetesComputeOptions options) => new()
    {
        Name = KubeKeys.Container,
        Image = request.Image ?? options.DefaultImage,
        // Without a command the image's own entrypoint runs.
        Command = request.Command is { } command ? ["sh", "-c", command] : null,
    };

    /// <summary>
    /// A disrupted pod (<c>DisruptionTarget</c>: the node drained, taken back, or the pod preempted) fails the Job at once,
    /// with reason <c>PodFailurePolicy</c>: Spotwise reads it as an interruption and plans the next attempt (perhaps on
    /// demand). <c>Ignore</c> would not eat <c>backoffLimit</c> either, but the Job would quietly retry on spot, hiding the
    /// interruption from the planner's fallback (docs/kubernetes.md).
    /// </summary>
    private static V1PodFailurePolicy DisruptionEndsTheJob() => new()
    {
        Rules =
        [
            new V1PodFailurePolicyRule
            {
                Action = "FailJob",
                OnPodConditions = [new V1PodFailurePolicyOnPodConditionsPattern { Type = "DisruptionTarget", Status = "True" }],
            },
        ],
    };

    /// <summary>The work's hours times <see cref="KubernetesComputeOptions.RunTimeFactor"/>, plus the launch allowance; null for no limit.</summary>
    private static long? ActiveDeadlineSeconds(LaunchRequest request, KubernetesComputeOptions options) =>
        options.RunTimeFactor > 0
            ? (long)Math.Ceiling(TimeSpan.FromHours(request.WorkHours * options.RunTimeFactor).TotalSeconds + options.LaunchAllowance.TotalSeconds)
            : null;
}
