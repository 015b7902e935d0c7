namespace Spotwise.Planning.Tests;

/// <summary>Files of the repository, found by walking up from the test binaries to the folder holding Spotwise.slnx.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(FindRoot);

    public static string Root => LazyRoot.Value;

    public static string Catalog => Path.Combine(Root, "data", "catalog", "aws-us-east-1.csv");

    public static string SeedJobs => Path.Combine(Root, "samples", "seed-jobs.json");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Spotwise.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no folder above {AppContext.BaseDirectory} holds Spotwise.slnx");
    }
}
