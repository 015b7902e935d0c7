using Spotwise.Core.Serialization;

namespace Spotwise.Core.Tests;

public class LimitsFileTests
{
    private static CapacityLimits Parse(string json, Catalog? catalog = null)
    {
        var result = LimitsFile.Parse(json, catalog);
        Assert.True(result.Ok, string.Join("\n", result.Errors));
        return result.Value!;
    }

    private static string SingleError(string json, Catalog? catalog = null)
    {
        var result = LimitsFile.Parse(json, catalog);
        Assert.Null(result.Value);
        return Assert.Single(result.Errors).ToString();
    }

    [Fact]
    public void Quotas_and_pool_sizes_are_read()
    {
        var limits = Parse("""
            { "onDemandVcpuQuotas": { "standard": 512, "g": 256, "p": 96 }, "defaultOnDemandVcpuQuota": 64,
              "spotPoolSizes": { "p3.2xlarge": 4 }, "defaultSpotPoolSize": 16 }
            """);

        Assert.Equal((512, 256, 96), (limits.OnDemandVcpuQuotas["standard"], limits.OnDemandVcpuQuotas["g"], limits.OnDemandVcpuQuotas["p"]));
        Assert.Equal(64, limits.DefaultOnDemandVcpuQuota);
        Assert.Equal(4, limits.SpotPoolSizes["p3.2xlarge"]);
        Assert.Equal(16, limits.DefaultSpotPoolSize);
    }

    [Fact]
    public void The_shipped_sample_parses_against_the_catalog() =>
        Assert.Equal(4, Parse(File.ReadAllText(RepoPaths.Sample("limits.json")), TestData.Catalog).SpotPoolSizes["p3.2xlarge"]);

    [Fact]
    public void Unlimited_may_replace_any_number()
    {
        var limits = Parse("""
            { "onDemandVcpuQuotas": { "standard": "unlimited", "g": "unlimited", "p": "unlimited" },
              "defaultOnDemandVcpuQuota": "unlimited", "defaultSpotPoolSize": "unlimited" }
            """);

        Assert.Equal(CapacityLimits.Unlimited, limits.OnDemandVcpuQuotas["standard"]);
        Assert.True(limits.IsUnlimited);
        Assert.True(limits.PoolOf(TestData.Catalog.OfferFor(TestData.Catalog.Find("p3.2xlarge")!, Market.Spot)).Pool.IsUnlimited);
    }

    [Fact]
    public void Fields_left_out_keep_the_defaults()
    {
        var limits = Parse("{}");

        Assert.Equal(CapacityLimits.Default.OnDemandVcpuQuotas, limits.OnDemandVcpuQuotas);
        Assert.Equal(CapacityLimits.Default.DefaultOnDemandVcpuQuota, limits.DefaultOnDemandVcpuQuota);
        Assert.Equal(CapacityLimits.Default.SpotPoolSizes, limits.SpotPoolSizes);
        Assert.Equal(CapacityLimits.Default.DefaultSpotPoolSize, limits.DefaultSpotPoolSize);
    }

    [Fact]
    public void A_quota_map_changes_only_the_classes_it_names()
    {
        // Regression: naming only "p" replaced the whole default map, so standard (2,048 vCPUs by default) and g
        // (1,024) silently fell to the 256 of an unnamed class.
        var limits = Parse("""{ "onDemandVcpuQuotas": { "p": 96 } }""");

        Assert.Equal(96, limits.OnDemandVcpuQuotas["p"]);
        Assert.Equal(2048, limits.PoolOf(TestData.Catalog.OfferFor(TestData.Catalog.Find("m5.large")!, Market.OnDemand)).Pool.Capacity);
        Assert.Equal(1024, limits.PoolOf(TestData.Catalog.OfferFor(TestData.Catalog.Find("g5.xlarge")!, Market.OnDemand)).Pool.Capacity);
    }

    [Fact]
    public void An_unknown_quota_class_is_reported_with_the_known_classes() =>
        Assert.Equal("limits file: onDemandVcpuQuotas.z: 'z' is not a quota class; known: standard, g, p, f, x, inf, trn, dl, hpc",
            SingleError("""{ "onDemandVcpuQuotas": { "z": 64 } }"""));

    [Theory]
    [InlineData("""{ "onDemandVcpuQuotas": { "p": -8 } }""", "onDemandVcpuQuotas.p", "-8")]
    [InlineData("""{ "defaultSpotPoolSize": -1 }""", "defaultSpotPoolSize", "-1")]
    [InlineData("""{ "defaultOnDemandVcpuQuota": 1.5 }""", "defaultOnDemandVcpuQuota", "1.5")]
    [InlineData("""{ "spotPoolSizes": { "p3.2xlarge": "lots" } }""", "spotPoolSizes.p3.2xlarge", "\"lots\"")]
    public void A_count_that_is_not_a_whole_number_from_zero_is_reported_naming_the_field(string json, string field, string value) =>
        Assert.Equal($"limits file: {field}: must be a whole number >= 0 or \"unlimited\", found {value}", SingleError(json));

    [Fact]
    public void A_spot_pool_of_an_instance_type_not_in_the_catalog_is_reported() =>
        Assert.Equal("limits file: spotPoolSizes.zz9.mega: 'zz9.mega' is not an instance type of the catalog",
            SingleError("""{ "spotPoolSizes": { "zz9.mega": 2 } }""", TestData.Catalog));

    [Fact]
    public void A_quota_map_that_is_not_an_object_is_reported() =>
        Assert.Equal("limits file: onDemandVcpuQuotas: must be an object of name to count, found [1]", SingleError("""{ "onDemandVcpuQuotas": [1] }"""));

    [Theory]
    [InlineData("[]", "limits file: expected a JSON object")]
    [InlineData("{\n \"defaultSpotPoolSize\": 3,,\n}", "limits file: malformed JSON at line 2")]
    public void A_file_that_is_not_a_limits_object_is_reported(string json, string expected) => Assert.Equal(expected, SingleError(json));

    [Fact]
    public void Every_bad_field_is_reported()
    {
        var result = LimitsFile.Parse("""{ "onDemandVcpuQuotas": { "z": 1, "p": -1 }, "defaultSpotPoolSize": "many" }""");

        Assert.Equal(3, result.Errors.Count);
    }
}
