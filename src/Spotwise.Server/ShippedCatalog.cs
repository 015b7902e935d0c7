using Spotwise.Core;

namespace Spotwise.Server;

/// <summary>The catalog shipped next to the binary (copied there by the build).</summary>
public static class ShippedCatalog
{
    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "data", "catalog", "aws-us-east-1.csv");

    public static Catalog Load()
    {
        using var reader = File.OpenText(Path);
        return CatalogCsv.Parse(reader, Path);
    }
}
