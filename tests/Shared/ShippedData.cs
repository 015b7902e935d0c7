using Spotwise.Core;

namespace Spotwise.Testing;

/// <summary>The data the product ships, loaded once per test run. Linked into every test project.</summary>
public static class ShippedData
{
    private static readonly Lazy<Catalog> LazyCatalog = new(() =>
    {
        using var reader = File.OpenText(RepoPaths.CatalogCsv);
        return CatalogCsv.Parse(reader, RepoPaths.CatalogCsv);
    });

    /// <summary>data/catalog/aws-us-east-1.csv.</summary>
    public static Catalog Catalog => LazyCatalog.Value;
}
