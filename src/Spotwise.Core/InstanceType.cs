namespace Spotwise.Core;

/// <summary>A machine shape of the catalog (an EC2 instance type).</summary>
public sealed record InstanceType(string Name, int Vcpus, double MemoryGiB, int Gpus, string? GpuModel)
{
    /// <summary>The family is the part before the dot: "p3" of "p3.2xlarge".</summary>
    public string Family => Name.Split('.')[0];

    /// <summary>The AWS quota class that the family's on-demand vCPUs count against.</summary>
    public string QuotaClass => QuotaClasses.Of(Family);
}

/// <summary>
/// AWS counts running on-demand vCPUs per quota class, not per family ("Running On-Demand P instances", ...).
/// One place maps families to those classes.
/// </summary>
public static class QuotaClasses
{
    public const string Standard = "standard";

    // Longest prefix first so "inf" is not read as a standard "i" family.
    private static readonly (string Prefix, string Class)[] Prefixes =
    [
        ("inf", "inf"), ("trn", "trn"), ("dl", "dl"), ("hpc", "hpc"), ("vt", "g"), ("u-", "x"),
        ("p", "p"), ("g", "g"), ("f", "f"), ("x", "x"),
    ];

    public static IReadOnlyList<string> All { get; } = [Standard, "g", "p", "f", "x", "inf", "trn", "dl", "hpc"];

    public static string Of(string family)
    {
        foreach (var (prefix, cls) in Prefixes)
        {
            if (family.StartsWith(prefix, StringComparison.Ordinal))
            {
                return cls;
            }
        }
        return Standard;
    }
}
