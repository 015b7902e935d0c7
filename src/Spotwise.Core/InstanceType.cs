namespace Spotwise.Core;

/// <summary>A machine shape of the catalog (an EC2 instance type).</summary>
public sealed record InstanceType(string Name, int Vcpus, double MemoryGiB, int Gpus, string? GpuModel)
{
    /// <summary>The family is the part before the dot: "p3" of "p3.2xlarge".</summary>
    public string Family => Name.Split('.')[0];

    /// <summary>The AWS quota class that the family's on-demand vCPUs count against.</summary>
    public string QuotaClass => QuotaClasses.Of(Family);

    public string Architecture => Architectures.Of(Family);
}

/// <summary>
/// CPU architectures. The catalog has no such column; AWS marks Graviton (ARM) families with a "g" after the
/// generation digit (m6g, c7gn, r8gd, im4gn, is4gen, g5g) and a1 is the first Graviton.
/// </summary>
public static partial class Architectures
{
    public const string X86 = "x86_64";
    public const string Arm = "arm64";
    public const string Any = "any";

    public static IReadOnlyList<string> Names { get; } = [X86, Arm, Any];

    [System.Text.RegularExpressions.GeneratedRegex(@"^[a-z]+\d+[a-z]*g[a-z]*$")]
    private static partial System.Text.RegularExpressions.Regex GravitonFamily();

    public static string Of(string family) => family == "a1" || GravitonFamily().IsMatch(family) ? Arm : X86;
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
