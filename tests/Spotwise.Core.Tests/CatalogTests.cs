namespace Spotwise.Core.Tests;

public class CatalogTests
{
    private const string Header =
        "instance_type,vcpus,memory_gib,gpus,gpu_model,on_demand_usd_per_hour,spot_savings_pct,spot_usd_per_hour_typical,interruption_band,interruption_freq_per_month";

    [Fact]
    public void The_shipped_catalog_holds_894_instance_types()
    {
        Assert.Equal(894, TestData.Catalog.Entries.Length);
        Assert.Equal("aws", TestData.Catalog.Provider);
        Assert.Equal("us-east-1", TestData.Catalog.Region);
    }

    [Fact]
    public void The_shipped_catalog_knows_p3_2xlarge_as_8_vcpus_one_V100_at_3_06_usd_in_band_4()
    {
        var p3 = TestData.Catalog.Find("p3.2xlarge");

        Assert.NotNull(p3);
        Assert.Equal(8, p3.Type.Vcpus);
        Assert.Equal(61.0, p3.Type.MemoryGiB);
        Assert.Equal(1, p3.Type.Gpus);
        Assert.Equal("V100", p3.Type.GpuModel);
        Assert.Equal(3.06, p3.OnDemandPricePerHourUsd, 6);
        Assert.Equal(0.612, p3.SpotPricePerHourUsd, 6);
        Assert.Equal(4, p3.InterruptionBand);
        Assert.Equal("p", p3.Type.QuotaClass);
    }

    [Fact]
    public void A_cpu_only_type_has_no_gpu_model()
    {
        var m5 = TestData.Catalog.Find("m5.large");

        Assert.NotNull(m5);
        Assert.Equal(0, m5.Type.Gpus);
        Assert.Null(m5.Type.GpuModel);
        Assert.Equal(QuotaClasses.Standard, m5.Type.QuotaClass);
    }

    [Fact]
    public void An_unknown_instance_type_is_not_found() => Assert.Null(TestData.Catalog.Find("zz9.mega"));

    [Fact]
    public void A_header_missing_a_column_is_a_format_error_naming_the_header_and_the_column()
    {
        var header = Header.Replace(",spot_usd_per_hour_typical", "", StringComparison.Ordinal);

        var e = Assert.Throws<FormatException>(() => TestData.ParseCatalog(header + "\nm5.large,2,8,0,,0.096,60,0.96,1,5-10%\n"));

        Assert.Contains("test.csv", e.Message, StringComparison.Ordinal);
        Assert.Contains("header", e.Message, StringComparison.Ordinal);
        Assert.Contains("spot_usd_per_hour_typical", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_non_numeric_price_is_a_format_error_naming_the_line_the_column_and_the_value()
    {
        var csv = $"{Header}\nm5.large,2,8.0,0,,0.096,60,0.0384,1,5-10%\nm5.xlarge,4,16.0,0,,cheap,60,0.0768,1,5-10%\n";

        var e = Assert.Throws<FormatException>(() => TestData.ParseCatalog(csv));

        Assert.Contains("test.csv:3", e.Message, StringComparison.Ordinal);
        Assert.Contains("on_demand_usd_per_hour", e.Message, StringComparison.Ordinal);
        Assert.Contains("'cheap'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_type_listed_twice_is_a_format_error_naming_both_lines()
    {
        var csv = $"{Header}\nm5.large,2,8.0,0,,0.096,60,0.0384,1,5-10%\nm5.large,2,8.0,0,,0.099,60,0.0384,1,5-10%\n";

        var e = Assert.Throws<FormatException>(() => TestData.ParseCatalog(csv));

        Assert.Equal("test.csv:3: instance_type 'm5.large' is listed already, on line 2", e.Message);
    }

    [Fact]
    public void A_row_with_too_few_fields_is_a_format_error_naming_the_line()
    {
        var e = Assert.Throws<FormatException>(() => TestData.ParseCatalog($"{Header}\nm5.large,2,8.0\n"));

        Assert.Contains("test.csv:2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Blank_lines_are_skipped_and_prices_read_in_the_invariant_culture()
    {
        var catalog = TestData.ParseCatalog($"{Header}\n\nm5.large,2,8.0,0,,0.096,60,0.0384,1,5-10%\n");

        var m5 = Assert.Single(catalog.Entries);
        Assert.Equal(0.096, m5.OnDemandPricePerHourUsd, 9);
        Assert.Equal(0.0384, m5.SpotPricePerHourUsd, 9);
    }

    [Fact]
    public void The_on_demand_fallback_price_is_the_cheapest_type_that_satisfies_the_request()
    {
        var catalog = TestData.ParseCatalog(
            $"{Header}\nm5.large,2,8.0,0,,0.096,60,0.0384,1,x\nc5.large,2,4.0,0,,0.085,50,0.0425,2,x\nt3.nano,2,0.5,0,,0.0052,70,0.0016,0,x\n");

        Assert.Equal(0.085, catalog.CheapestOnDemandPricePerHourUsd(TestData.Class("cpu_small")));
        Assert.Null(catalog.CheapestOnDemandPricePerHourUsd(TestData.Class("gpu_medium")));
    }

    [Fact]
    public void A_spot_offer_carries_the_spot_price_and_the_band_rate_and_an_on_demand_offer_none()
    {
        var p3 = TestData.Catalog.Find("p3.2xlarge")!;

        var spot = TestData.Catalog.OfferFor(p3, Market.Spot);
        var onDemand = TestData.Catalog.OfferFor(p3, Market.OnDemand);

        Assert.Equal((0.612, InterruptionBands.HourlyRate(4)), (spot.PricePerHourUsd, spot.InterruptionRatePerHour));
        Assert.Equal((3.06, 0.0), (onDemand.PricePerHourUsd, onDemand.InterruptionRatePerHour));
    }

    [Theory]
    [InlineData("p3", "p")]
    [InlineData("g5", "g")]
    [InlineData("inf2", "inf")]
    [InlineData("trn1", "trn")]
    [InlineData("i4i", QuotaClasses.Standard)]
    [InlineData("u-6tb1", "x")]
    [InlineData("vt1", "g")]
    [InlineData("m5", QuotaClasses.Standard)]
    public void Families_map_to_their_aws_quota_class(string family, string quotaClass) =>
        Assert.Equal(quotaClass, QuotaClasses.Of(family));
}

public class SpotAvailableLimitsTests
{
    private static Catalog WithZones(params (string Zone, int Available)[] zones)
    {
        var p3 = TestData.Catalog.Find("p3.2xlarge")!;
        var entry = p3 with { SpotZones = [.. zones.Select(z => new ZoneSpotPrice(z.Zone, 1.0) { Available = z.Available })] };
        return new Catalog("aws", "us-east-1", [entry]);
    }

    [Fact]
    public void Each_zone_pool_is_capped_at_what_it_holds_now_while_some_zone_has_spot()
    {
        var limits = CapacityLimits.Default.WithSpotAvailable(WithZones(("us-east-1a", 0), ("us-east-1b", 2)));

        Assert.Equal(0, limits.SpotPoolSize(new SpotPoolKey("us-east-1a", "p3.2xlarge")));
        Assert.Equal(2, limits.SpotPoolSize(new SpotPoolKey("us-east-1b", "p3.2xlarge")));
    }

    [Fact]
    public void When_every_zone_is_empty_the_pools_stay_as_configured_for_the_spot_policy_to_judge_at_launch()
    {
        var limits = CapacityLimits.Default.WithSpotAvailable(WithZones(("us-east-1a", 0), ("us-east-1b", 0)));

        Assert.Equal(CapacityLimits.Default.DefaultSpotPoolSize, limits.SpotPoolSize(new SpotPoolKey("us-east-1a", "p3.2xlarge")));
        Assert.Equal(CapacityLimits.Default.DefaultSpotPoolSize, limits.SpotPoolSize(new SpotPoolKey("us-east-1b", "p3.2xlarge")));
    }
}
