namespace Spotwise.Testing;

/// <summary>
/// Files of the repository, found from wherever the tests run: the folder holding Spotwise.slnx is the root.
/// Linked into every test project (tests/Directory.Build.props), so there is one copy.
/// </summary>
public static class RepoPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    public static string Root => RootPath.Value;

    public static string CatalogCsv => Path.Combine(Root, "data", "catalog", "aws-us-east-1.csv");

    public static string Sample(string name) => Path.Combine(Root, "samples", name);

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
