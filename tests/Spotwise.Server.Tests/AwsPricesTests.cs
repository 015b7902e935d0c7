using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Compute.Aws.Prices;
using Spotwise.Runtime;

namespace Spotwise.Server.Tests;

/// <summary>The price feed <c>serve</c> uses on EC2, and the <c>Spotwise:Aws</c> settings it reads.</summary>
[Collection(AwsEnvironment.Name)]
public sealed class AwsPricesTests
{
    private static IConfiguration Settings(params (string Key, string Value)[] pairs) =>
        new ConfigurationBuilder().AddInMemoryCollection(pairs.Select(p => new KeyValuePair<string, string?>(p.Key, p.Value))).Build();

    /// <summary>The section as the service binds it (<see cref="AwsSettings"/>, the one reader), asked for one region's feed.</summary>
    private static AwsPriceFeedOptions FeedOptions(IConfiguration configuration, Spotwise.Core.Catalog catalog) =>
        (configuration.GetSection("Spotwise:Aws").Get<AwsSettings>() ?? new AwsSettings()).PriceFeedOptions(catalog, credentials: null);

    [Fact]
    public void Region_types_and_ttl_come_from_the_Spotwise_Aws_section()
    {
        var options = FeedOptions(
            Settings(("Spotwise:Aws:Region", "us-west-2"), ("Spotwise:Aws:PriceTypes", "p3.2xlarge, g5.xlarge"), ("Spotwise:Aws:PriceTtl", "00:02:00")),
            new Spotwise.Core.Catalog(ShippedData.Catalog.Provider, "us-west-2", ShippedData.Catalog.Entries));

        Assert.Equal("us-west-2", options.Region);
        Assert.Equal(["p3.2xlarge", "g5.xlarge"], options.InstanceTypes!);
        Assert.Equal(TimeSpan.FromMinutes(2), options.Ttl);
    }

    [Fact]
    public void Without_settings_the_feed_watches_every_catalog_type_in_the_catalogs_region_for_five_minutes()
    {
        var options = FeedOptions(Settings(), ShippedData.Catalog);

        Assert.Equal((ShippedData.Catalog.Region, null, TimeSpan.FromMinutes(5)), (options.Region, options.InstanceTypes, options.Ttl));
    }

    [Theory]
    [InlineData("Spotwise:Aws:PriceTtl", "five minutes", "Spotwise:Aws:PriceTtl is 'five minutes'")]
    [InlineData("Spotwise:Aws:PriceTtl", "-00:01:00", "Spotwise:Aws:PriceTtl is '-00:01:00'")]
    [InlineData("Spotwise:Aws:PriceTypes", "p3.2xlarge,p9.huge", "Spotwise:Aws:PriceTypes names 'p9.huge'")]
    public void A_bad_setting_is_refused_naming_its_key_and_value(string key, string value, string message)
    {
        var e = Assert.Throws<InvalidOperationException>(() => FeedOptions(Settings((key, value)), ShippedData.Catalog));

        Assert.StartsWith(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void With_backend_aws_the_services_price_feed_is_the_live_ec2_feed()
    {
        using var environment = AwsEnvironment.DummyCredentials();
        using var services = Services(Settings(("Spotwise:Backend", "aws"), ("Spotwise:Aws:PriceTypes", "p3.2xlarge")));

        var feed = Assert.IsType<AwsPriceFeed>(services.GetRequiredService<IPriceFeed>());
        Assert.Null(feed.AsOf); // nothing asked of EC2 until the first cycle
    }

    [Fact]
    public void Any_other_backend_keeps_the_catalogs_prices()
    {
        using var services = Services(Settings(("Spotwise:Backend", "simulated")));

        Assert.IsType<CatalogPriceFeed>(services.GetRequiredService<IPriceFeed>());
    }

    [Fact]
    public void With_several_regions_the_services_price_feed_combines_a_live_feed_per_region()
    {
        using var environment = AwsEnvironment.DummyCredentials();
        using var services = Services(Settings(("Spotwise:Backend", "aws"), ("Spotwise:Aws:Regions:0", "us-east-1"), ("Spotwise:Aws:Regions:1", "us-west-2")),
            new RegionCatalogs([ShippedData.Catalog, new Spotwise.Core.Catalog(ShippedData.Catalog.Provider, "us-west-2", ShippedData.Catalog.Entries)]));

        Assert.IsType<CombinedPriceFeed>(services.GetRequiredService<IPriceFeed>());
    }

    /// <summary>What <c>SpotwiseApp</c> registers for the price feed, over the services it reads.</summary>
    private static ServiceProvider Services(IConfiguration configuration, RegionCatalogs? catalogs = null)
    {
        catalogs ??= new RegionCatalogs([ShippedData.Catalog]);
        return SpotwiseApp.AddPriceFeed(new ServiceCollection()
                .AddSingleton(TimeProvider.System)
                .AddSingleton(catalogs)
                .AddSingleton(catalogs.Combined)
                .AddSingleton(new ReplayedTraces([]))
                .Configure<SpotwiseOptions>(configuration.GetSection(SpotwiseOptions.Section)))
            .BuildServiceProvider();
    }
}
