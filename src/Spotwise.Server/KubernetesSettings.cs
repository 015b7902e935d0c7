using k8s.Models;
using Spotwise.Compute.Kubernetes;

namespace Spotwise.Server;

/// <summary>
/// The <c>Spotwise:Kubernetes</c> section: where the <c>kubernetes</c> backend makes its Jobs (<c>spotwise serve --backend
/// kubernetes</c>'s flags <c>--kube-namespace</c>, <c>--kubeconfig</c>, <c>--kube-context</c>, <c>--kueue-queue</c>,
/// <c>--kube-image</c>). Credentials are never here: the kubeconfig or the pod's service account carries them.
/// </summary>
public sealed class KubernetesSettings
{
    /// <summary>The namespace of the Jobs.</summary>
    public string Namespace { get; set; } = "default";

    /// <summary>The kubeconfig file; unset: <c>KUBECONFIG</c>, ~/.kube/config, then the in-cluster service account.</summary>
    public string? Kubeconfig { get; set; }

    /// <summary>The kubeconfig context; unset: its current one.</summary>
    public string? Context { get; set; }

    /// <summary>The Kueue LocalQueue to submit to; unset: no Kueue.</summary>
    public string? KueueQueue { get; set; }

    /// <summary>The image of a job that names none.</summary>
    public string Image { get; set; } = new KubernetesComputeOptions().DefaultImage;

    /// <summary>This installation's name, the value of every Job's <c>app.kubernetes.io/managed-by</c> label.</summary>
    public string ManagedBy { get; set; } = "spotwise";

    /// <summary>The node label of the market (Karpenter's by default); empty: no market is selected.</summary>
    public string CapacityTypeLabel { get; set; } = "karpenter.sh/capacity-type";

    /// <summary>The node label of the instance type; empty: none selected.</summary>
    public string InstanceTypeLabel { get; set; } = "node.kubernetes.io/instance-type";

    /// <summary>The node label of the zone; empty: none selected.</summary>
    public string ZoneLabel { get; set; } = "topology.kubernetes.io/zone";

    /// <summary>Tolerations for every Job's pod (a spot or GPU node pool's taints).</summary>
    public List<TolerationSetting> Tolerations { get; set; } = [];

    public KubernetesComputeOptions ToComputeOptions() => new()
    {
        Namespace = Namespace,
        Kubeconfig = Kubeconfig is { Length: > 0 } path ? path : null,
        Context = Context is { Length: > 0 } context ? context : null,
        KueueQueue = KueueQueue is { Length: > 0 } queue ? queue : null,
        DefaultImage = Image,
        ManagedBy = ManagedBy,
        CapacityTypeLabel = CapacityTypeLabel is { Length: > 0 } market ? market : null,
        InstanceTypeLabel = InstanceTypeLabel is { Length: > 0 } type ? type : null,
        ZoneLabel = ZoneLabel is { Length: > 0 } zone ? zone : null,
        Tolerations = [.. Tolerations.Select(t => new V1Toleration { Key = t.Key, OperatorProperty = t.Operator, Value = t.Value, Effect = t.Effect })],
    };

    /// <summary>What is wrong with the section for the <c>kubernetes</c> backend, one line per problem naming the setting.</summary>
    public IEnumerable<string> Problems()
    {
        const string At = SpotwiseOptions.Section + ":Kubernetes:";
        if (!KubeNames.IsDnsLabel(Namespace ?? ""))
        {
            yield return $"{At}Namespace is '{Namespace}'; a namespace is 1 to 63 characters of a-z, 0-9 and '-'";
        }
        if (string.IsNullOrEmpty(ManagedBy) || !KubeNames.IsLabelValue(ManagedBy))
        {
            yield return $"{At}ManagedBy is '{ManagedBy}'; it is a label value: 1 to 63 characters of A-Z, a-z, 0-9, '-', '_', '.', alphanumeric at both ends";
        }
        if (KueueQueue is { Length: > 0 } queue && !KubeNames.IsDnsLabel(queue))
        {
            yield return $"{At}KueueQueue is '{queue}'; a LocalQueue's name is 1 to 63 characters of a-z, 0-9 and '-'";
        }
        if (string.IsNullOrWhiteSpace(Image) || Image.Any(char.IsWhiteSpace))
        {
            yield return $"{At}Image is '{Image}'; name a container image (busybox:1.36)";
        }
        if (Kubeconfig is { Length: > 0 } path && !File.Exists(path))
        {
            yield return $"{At}Kubeconfig is '{path}', which does not exist";
        }
    }
}

/// <summary>One toleration (https://kubernetes.io/docs/concepts/scheduling-eviction/taint-and-toleration/).</summary>
public sealed class TolerationSetting
{
    public string? Key { get; set; }

    /// <summary><c>Equal</c> (default) or <c>Exists</c>.</summary>
    public string? Operator { get; set; }

    public string? Value { get; set; }

    /// <summary><c>NoSchedule</c>, <c>PreferNoSchedule</c>, <c>NoExecute</c>, or empty for all.</summary>
    public string? Effect { get; set; }
}
