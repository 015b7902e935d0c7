using System.Collections.Immutable;

namespace Spotwise.Core;

/// <summary>
/// What a job needs: minimum vCPUs, memory and GPUs (optionally of given models), or an explicit list of
/// instance types. A named class (<c>gpu_large</c>) is a preset of needs, see <see cref="ResourceClasses"/>.
/// </summary>
public sealed record ResourceRequest
{
    /// <summary>The class name the user gave, kept for display; null when needs were explicit.</summary>
    public string? ClassName { get; init; }

    public int MinVcpus { get; init; }

    public double MinMemoryGiB { get; init; }

    public int MinGpus { get; init; }

    /// <summary>Acceptable GPU models; empty means any model (when GPUs are asked for).</summary>
    public ImmutableArray<string> GpuModels { get; init; } = [];

    /// <summary>
    /// The CPU architecture the job's code is built for: x86_64 unless the job says arm64 or any, because most
    /// images are x86 and a cheaper Graviton machine that cannot run them is no saving.
    /// </summary>
    public string Architecture { get; init; } = Architectures.X86;

    /// <summary>When not empty, exactly these instance types and nothing else (architecture is not checked).</summary>
    public ImmutableArray<string> InstanceTypes { get; init; } = [];

    public static ResourceRequest ForInstanceTypes(IEnumerable<string> names) => new() { InstanceTypes = [.. names] };

    public bool IsSatisfiedBy(InstanceType type)
    {
        if (!InstanceTypes.IsDefaultOrEmpty)
        {
            return InstanceTypes.Contains(type.Name, StringComparer.Ordinal);
        }
        if (type.Vcpus < MinVcpus || type.MemoryGiB < MinMemoryGiB || type.Gpus < MinGpus
            || (Architecture != Architectures.Any && type.Architecture != Architecture))
        {
            return false;
        }
        if (MinGpus > 0 && !GpuModels.IsDefaultOrEmpty)
        {
            return type.GpuModel is not null && GpuModels.Contains(type.GpuModel, StringComparer.OrdinalIgnoreCase);
        }
        return true;
    }

    public string Describe()
    {
        var arch = Architecture == Architectures.X86 ? "" : $" ({Architecture})";
        if (ClassName is not null)
        {
            return ClassName + arch;
        }
        if (!InstanceTypes.IsDefaultOrEmpty)
        {
            return string.Join("|", InstanceTypes);
        }
        var gpu = MinGpus > 0 ? $" {MinGpus}x{(GpuModels.IsDefaultOrEmpty ? "GPU" : string.Join("/", GpuModels))}" : "";
        return FormattableString.Invariant($"{MinVcpus}vCPU {MinMemoryGiB:0.#}GiB{gpu}{arch}");
    }
}

/// <summary>
/// The named resource classes: presets of explicit needs, defined here and only here (the README lists them).
/// </summary>
public static class ResourceClasses
{
    public static ImmutableDictionary<string, ResourceRequest> Presets { get; } = new Dictionary<string, ResourceRequest>
    {
        ["cpu_small"] = new() { ClassName = "cpu_small", MinVcpus = 2, MinMemoryGiB = 4 },
        ["cpu_medium"] = new() { ClassName = "cpu_medium", MinVcpus = 4, MinMemoryGiB = 16 },
        ["cpu_large"] = new() { ClassName = "cpu_large", MinVcpus = 16, MinMemoryGiB = 64 },
        ["gpu_medium"] = new() { ClassName = "gpu_medium", MinVcpus = 4, MinMemoryGiB = 16, MinGpus = 1, GpuModels = ["T4", "A10G", "L4"] },
        ["gpu_large"] = new()
        {
            ClassName = "gpu_large",
            MinVcpus = 8,
            MinMemoryGiB = 60,
            MinGpus = 1,
            GpuModels = ["V100", "A10G", "L40S", "A100", "A100-80GB", "H100", "H200"],
        },
    }.ToImmutableDictionary(StringComparer.Ordinal);

    public static bool TryGet(string name, out ResourceRequest request) => Presets.TryGetValue(name, out request!);
}
