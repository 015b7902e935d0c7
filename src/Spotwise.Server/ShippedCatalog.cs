using Spotwise.Core;

namespace Spotwise.Server;

/// <summary>The catalog shipped next to the binary (copied there by the build).</summary>
public static class ShippedCatalog
{
    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "data", "catalog", "aws-us-east-1.csv");

    /// <summary>The inter-region transfer table shipped beside it (data/transfer, with its source in data/README.md).</summary>
    public static string TransferPath => System.IO.Path.Combine(AppContext.BaseDirectory, "data", "transfer", "aws-inter-region.csv");

    public static Catalog Load()
    {
        using var reader = File.OpenText(Path);
        var catalog = CatalogCsv.Parse(reader, Path);
        if (!File.Exists(TransferPath))
        {
            return catalog;
        }
        using var transfer = File.OpenText(TransferPath);
        return catalog.WithTransfer(TransferCsv.Parse(transfer, TransferPath));
    }
}
