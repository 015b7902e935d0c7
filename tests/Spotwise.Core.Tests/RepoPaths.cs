namespace Spotwise.Core.Tests;

/// <summary>Finds files of the repository from wherever the tests run: the folder holding Spotwise.slnx is the root.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string CatalogCsv => Path.Combine(Root, "data", "catalog", "aws-us-east-1.csv");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Spotwise.slnx")))
            {
                return dir.FullName;
            }
        }
        throw new InvalidOperationException($"no Spotwise.slnx above {AppContext.BaseDirectory}");
    }
}
