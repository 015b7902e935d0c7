using Spotwise.Core;

namespace Spotwise.Server;

/// <summary>The catalog shipped next to the binary (copied there by the build), or one the user names (<c>--catalog</c>).</summary>
public static class ShippedCatalog
{
    public static string Path => System.IO.Path.Combine(AppContext.BaseDirectory, "data", "catalog", "aws-us-east-1.csv");

    /// <summary>The inter-region transfer table shipped beside it (data/transfer, with its source in data/README.md).</summary>
    public static string TransferPath => System.IO.Path.Combine(AppContext.BaseDirectory, "data", "transfer", "aws-inter-region.csv");

    /// <summary>The region whose prices the shipped snapshot holds.</summary>
    public const string Region = "us-east-1";

    public static Catalog Load() => Load(Path, Region);

    /// <summary>
    /// A catalog CSV read as <paramref name="region"/>'s prices (the shipped one stands in for another region's until
    /// <c>catalog refresh</c> output is given), with the shipped inter-region transfer table.
    /// </summary>
    /// <exception cref="FormatException">A bad line; the message names the file and the line.</exception>
    public static Catalog Load(string path, string region)
    {
        using var reader = File.OpenText(path);
        var catalog = CatalogCsv.Parse(reader, path, region: region);
        if (!File.Exists(TransferPath))
        {
            return catalog;
        }
        using var transfer = File.OpenText(TransferPath);
        return catalog.WithTransfer(TransferCsv.Parse(transfer, TransferPath));
    }

    /// <summary>Why <paramref name="path"/> cannot be the catalog (missing, or a bad line named by number); null when it can.</summary>
    public static string? Problem(string path)
    {
        if (!File.Exists(path))
        {
            return $"'{path}' does not exist";
        }
        try
        {
            Load(path, Region);
            return null;
        }
        catch (FormatException e)
        {
            return e.Message;
        }
    }
}
