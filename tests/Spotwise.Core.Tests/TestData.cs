namespace Spotwise.Core.Tests;

/// <summary>The shipped catalog, loaded once, and the fixed moment every test plans at.</summary>
public static class TestData
{
    public static readonly DateTimeOffset Now = new(2026, 11, 24, 8, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// Every GPU type of the shipped catalog and every eighth of the others: real rows, few enough that building
    /// options for hundreds of random queues stays fast (on all 894 types a cpu_small job has ~800 fits).
    /// </summary>
    private static readonly Lazy<Catalog> Slice = new(() => new Catalog(
        ShippedData.Catalog.Provider,
        ShippedData.Catalog.Region,
        ShippedData.Catalog.Entries.Where((e, i) => e.Type.Gpus > 0 || i % 8 == 0)));

    public static Catalog Catalog => ShippedData.Catalog;

    public static Catalog CatalogSlice => Slice.Value;

    public static Catalog ParseCatalog(string csv) => CatalogCsv.Parse(new StringReader(csv), "test.csv");

    public static ResourceRequest Class(string name) => ResourceClasses.Presets[name];

    public static Job Job(
        string id,
        double durationHours,
        DateTimeOffset? deadline = null,
        string resourceClass = "cpu_small",
        bool checkpointable = false,
        DateTimeOffset? earliestStart = null) => new()
        {
            Id = id,
            DurationHours = durationHours,
            Deadline = deadline,
            EarliestStart = earliestStart,
            Resources = Class(resourceClass),
            Checkpointable = checkpointable,
        };
}
