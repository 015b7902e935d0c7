namespace Spotwise.Bench;

/// <summary>
/// Finds the repository (the folder holding Spotwise.slnx) so default data paths work from the repo, from any folder
/// inside it, and from the build output.
/// </summary>
public static class RepoRoot
{
    public const string Marker = "Spotwise.slnx";

    /// <summary>The shipped Alibaba GPU trace the workload generator reads (data/README.md).</summary>
    public const string AlibabaPods = "data/workloads/alibaba-gpu-2023-pods.csv";

    /// <summary>The shipped price catalog.</summary>
    public const string Catalog = "data/catalog/aws-us-east-1.csv";

    public static string? Find() => Above(Environment.CurrentDirectory) ?? Above(AppContext.BaseDirectory);

    /// <summary>A path under the repository, or null with the reason when the repository cannot be found.</summary>
    public static string? PathTo(string relative, out string? why)
    {
        var root = Find();
        why = root is null ? $"no {Marker} in {Environment.CurrentDirectory}, {AppContext.BaseDirectory} or above" : null;
        return root is null ? null : Path.Combine(root, relative);
    }

    private static string? Above(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, Marker)))
            {
                return dir.FullName;
            }
        }
        return null;
    }
}
