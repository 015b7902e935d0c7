namespace Spotwise.Core.Tests;

/// <summary><c>CatalogCsv.Write</c>: the shipped format, read back by <c>CatalogCsv.Parse</c> to the same catalog.</summary>
public class CatalogCsvWriteTests
{
    [Fact]
    public void The_shipped_catalog_written_and_read_back_is_the_same_catalog()
    {
        var shipped = ShippedData.Catalog;
        using var writer = new StringWriter();

        CatalogCsv.Write(shipped, writer);
        var back = CatalogCsv.Parse(new StringReader(writer.ToString()), "written");

        Assert.Equal(shipped.Entries.Length, back.Entries.Length);
        Assert.All(shipped.Entries.Zip(back.Entries), p =>
        {
            Assert.Equal(p.First.Type, p.Second.Type);
            Assert.Equal(p.First.OnDemandPricePerHourUsd, p.Second.OnDemandPricePerHourUsd, precision: 6);
            Assert.Equal(p.First.SpotPricePerHourUsd, p.Second.SpotPricePerHourUsd, precision: 6);
            Assert.Equal(p.First.InterruptionBand, p.Second.InterruptionBand);
        });
    }

    [Fact]
    public void The_header_is_the_shipped_files_and_each_row_carries_its_saving_and_band_label()
    {
        var catalog = new Catalog("aws", "us-west-2", [new CatalogEntry(new InstanceType("p3.2xlarge", 8, 61, 1, "V100"), 3.06, 0.918, 2)]);
        using var writer = new StringWriter();

        CatalogCsv.Write(catalog, writer);

        Assert.Equal(File.ReadLines(RepoPaths.CatalogCsv).First(), writer.ToString().Split('\n')[0].TrimEnd('\r'));
        Assert.Equal("p3.2xlarge,8,61.0,1,V100,3.060000,70,0.918000,2,10-15%", writer.ToString().Split('\n')[1].TrimEnd('\r'));
    }
}
