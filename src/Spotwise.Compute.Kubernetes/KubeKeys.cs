namespace Spotwise.Compute.Kubernetes;

/// <summary>The labels and annotations Spotwise puts on its Jobs (docs/kubernetes.md): labels to select, annotations to read back exactly.</summary>
public static class KubeKeys
{
    /// <summary>Label: this installation (<see cref="KubernetesComputeOptions.ManagedBy"/>); the watch and the sweep select by it.</summary>
    public const string ManagedBy = "app.kubernetes.io/managed-by";

    /// <summary>Label: the job's id (sanitised; exactly in <see cref="JobAnnotation"/>).</summary>
    public const string Job = "spotwise.io/job";

    /// <summary>Label: the attempt's number.</summary>
    public const string Attempt = "spotwise.io/attempt";

    /// <summary>Label: the job's team (sanitised; exactly in <see cref="TeamAnnotation"/>).</summary>
    public const string Team = "spotwise.io/team";

    /// <summary>Label: the Kueue LocalQueue the Job is submitted to.</summary>
    public const string KueueQueue = "kueue.x-k8s.io/queue-name";

    /// <summary>Annotation: the job's id exactly.</summary>
    public const string JobAnnotation = "spotwise.io/job-id";

    /// <summary>Annotation: the team exactly.</summary>
    public const string TeamAnnotation = "spotwise.io/team";

    /// <summary>Annotation: the attempt's client token: a 409 on create is ours only when the existing Job carries it.</summary>
    public const string ClientToken = "spotwise.io/client-token";

    /// <summary>Annotation: the market the plan chose (<c>spot</c>, <c>on-demand</c>).</summary>
    public const string Market = "spotwise.io/market";

    /// <summary>Annotation: the instance type the plan chose.</summary>
    public const string InstanceType = "spotwise.io/instance-type";

    /// <summary>Annotation: the zone (or region) the plan chose.</summary>
    public const string Zone = "spotwise.io/zone";

    /// <summary>The container's name in every Job's pod.</summary>
    public const string Container = "job";

    /// <summary>The value under <paramref name="key"/> in a Job's labels or annotations; null when absent.</summary>
    public static string? Get(IDictionary<string, string>? values, string key) =>
        values is not null && values.TryGetValue(key, out var value) ? value : null;
}
