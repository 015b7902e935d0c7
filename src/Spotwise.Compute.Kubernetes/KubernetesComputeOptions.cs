using k8s.Models;

namespace Spotwise.Compute.Kubernetes;

/// <summary>
/// Where and how the <c>kubernetes</c> backend makes its Jobs (docs/kubernetes.md names every field's mapping). The
/// cluster itself (server, credentials) comes from the kubeconfig or the in-cluster service account, never from here.
/// </summary>
public sealed class KubernetesComputeOptions
{
    /// <summary>The kubeconfig file; null: <c>KUBECONFIG</c>, then ~/.kube/config, then the pod's service account (in-cluster).</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>The kubeconfig's context to use; null: its current context.</summary>
    public string? Context { get; init; }

    /// <summary>An API server URL to talk to without credentials (a test's loopback server); null in the product.</summary>
    public Uri? Host { get; init; }

    /// <summary>The namespace the Jobs live in (the Role of docs/kubernetes.md is granted there).</summary>
    public string Namespace { get; init; } = "default";

    /// <summary>This installation's name: the value of every Job's <c>app.kubernetes.io/managed-by</c> label.</summary>
    public string ManagedBy { get; init; } = "spotwise";

    /// <summary>The container image of a job that names none (<c>image</c>).</summary>
    public string DefaultImage { get; init; } = "busybox:1.36";

    /// <summary>
    /// The Kueue LocalQueue the Jobs are submitted to (<c>kueue.x-k8s.io/queue-name</c>); null: no Kueue, a Job's pod is
    /// scheduled as soon as it is made. With a queue, each Job is made suspended and Kueue admits it.
    /// </summary>
    public string? KueueQueue { get; init; }

    /// <summary>The node label that holds the market (Karpenter's; a cluster without Karpenter names its own, or null: not selected).</summary>
    public string? CapacityTypeLabel { get; init; } = "karpenter.sh/capacity-type";

    /// <summary>The node label that holds the instance type (null: not selected).</summary>
    public string? InstanceTypeLabel { get; init; } = "node.kubernetes.io/instance-type";

    /// <summary>The node label that holds the zone (null: not selected; a regional placement never selects one).</summary>
    public string? ZoneLabel { get; init; } = "topology.kubernetes.io/zone";

    /// <summary>Tolerations every Job's pod carries (a spot or GPU node pool's taints).</summary>
    public IReadOnlyList<V1Toleration> Tolerations { get; init; } = [];

    /// <summary>
    /// The Job's <c>activeDeadlineSeconds</c> is the launch's work times this, plus <see cref="LaunchAllowance"/>: an
    /// estimate can be short, but a Job that runs on forever costs money. 0: no deadline.
    /// </summary>
    public double RunTimeFactor { get; init; } = 2;

    /// <summary>How long a finished Job stays in the cluster (<c>ttlSecondsAfterFinished</c>) before Kubernetes deletes it.</summary>
    public TimeSpan TimeToLiveAfterFinished { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How long an ended or deleted Job stays in Describe after the cluster forgot it (EC2 lists a terminated instance about as long).</summary>
    public TimeSpan EndedMemory { get; init; } = TimeSpan.FromHours(1);

    /// <summary>From a Job's creation to its command running (node provisioning by Karpenter, image pull): the scheduler plans with it.</summary>
    public TimeSpan LaunchAllowance { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>The watch's first wait after an error; it doubles up to <see cref="WatchRetryMax"/>, on the service's clock.</summary>
    public TimeSpan WatchRetryMin { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between two attempts to list and watch again.</summary>
    public TimeSpan WatchRetryMax { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How long a call waits for the watch's first list before it answers from an empty view is refused.</summary>
    public TimeSpan SyncTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The orphan sweep: Jobs of this installation that no job owns are deleted.</summary>
    public KubernetesOrphanSweepOptions OrphanSweep { get; init; } = new();
}

/// <summary>When the Kubernetes orphan sweep looks, and how long a fresh Job is left alone.</summary>
public sealed class KubernetesOrphanSweepOptions
{
    /// <summary>A Job younger than this is never an orphan (<see cref="Spotwise.Runtime.Backends.OrphanRule"/>).</summary>
    public TimeSpan Grace { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often the sweep runs after the one at start, on the service's <see cref="TimeProvider"/>.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>False: no sweep.</summary>
    public bool Enabled { get; init; } = true;
}
