using System.Net;
using System.Text;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Aws.Fakes;
using Spotwise.Core;

namespace Spotwise.Cli.Tests;

/// <summary>
/// <c>spotwise catalog refresh</c> against a loopback Price List API (which checks every request is SigV4-signed) and a
/// loopback EC2, both found through the SDK's own endpoint variables.
/// </summary>
[Collection(AwsEnvironment.Name)]
public sealed class CatalogCommandTests
{
    private static readonly DateTimeOffset Now = CliRunner.FixedNow;

    private static async Task<(FakePriceListServer Prices, FakeEc2Server Ec2)> MarketAsync()
    {
        var prices = await FakePriceListServer.StartAsync();
        prices.AddProduct("us-east-1", "p3.2xlarge", 8, "61 GiB", 1, 3.06);
        prices.AddProduct("us-east-1", "p3.2xlarge", 8, "61 GiB", 1, 3.50, ("licenseModel", "Bring your own license")); // a dearer duplicate
        prices.AddProduct("us-east-1", "p3.2xlarge", 8, "61 GiB", 1, 4.08, ("operatingSystem", "Windows")); // filtered out
        prices.AddProduct("us-east-1", "x9.brandnew", 4, "16 GiB", 0, 0.25); // not in the shipped catalog
        // 150 more types: more than one page of 100.
        for (var i = 0; i < 150; i++)
        {
            prices.AddProduct("us-east-1", $"m9.size{i}", 2, "8 GiB", 0, 0.1 + (i / 1000.0));
        }
        prices.AddProduct("us-west-2", "p3.2xlarge", 8, "61 GiB", 1, 3.10);
        var ec2 = await FakeEc2Server.StartAsync(new FakeTimeProvider(Now), new Dictionary<string, string>());
        ec2.Offer("us-east-1a", "p3.2xlarge");
        ec2.Offer("us-east-1b", "p3.2xlarge");
        ec2.Offer("us-east-1c", "p3.2xlarge", "x9.brandnew");
        ec2.SeedSpotPrice("us-east-1a", "p3.2xlarge", Now.AddMinutes(-5), 0.90);
        ec2.SeedSpotPrice("us-east-1b", "p3.2xlarge", Now.AddMinutes(-5), 1.20);
        ec2.SeedSpotPrice("us-east-1c", "p3.2xlarge", Now.AddDays(-1), 1.00);
        ec2.SeedSpotPrice("us-east-1c", "x9.brandnew", Now.AddMinutes(-5), 0.05);
        return (prices, ec2);
    }

    private static IDisposable Endpoints(FakePriceListServer prices, FakeEc2Server ec2) => AwsEnvironment.DummyCredentials(new()
    {
        ["AWS_ENDPOINT_URL_PRICING"] = prices.BaseUri.ToString(),
        ["AWS_ENDPOINT_URL_EC2"] = ec2.BaseUri.ToString(),
        ["AWS_ENDPOINT_URL"] = null,
    });

    private static Catalog Read(string path)
    {
        using var reader = File.OpenText(path);
        return CatalogCsv.Parse(reader, path);
    }

    [Fact]
    public async Task One_region_writes_the_shipped_format_with_price_list_on_demand_and_the_median_zones_spot()
    {
        var (prices, ec2) = await MarketAsync();
        await using var _ = prices;
        await using var __ = ec2;
        using var environment = Endpoints(prices, ec2);
        var output = Path.Combine(Path.GetTempPath(), $"spotwise-catalog-{Guid.NewGuid():N}", "aws-live.csv");

        var (code, stdout, stderr) = CliRunner.Run("catalog", "refresh", "--region", "us-east-1", "--out", output);

        Assert.True(code == 0, stderr);
        Assert.Equal(output, stdout.Trim());
        Assert.Equal(File.ReadLines(RepoPaths.CatalogCsv).First(), File.ReadLines(output).First());
        var catalog = Read(output);
        Assert.Equal(152, catalog.Entries.Length);
        var p3 = catalog.Find("p3.2xlarge")!;
        Assert.Equal((8, 61.0, 1, "V100"), (p3.Type.Vcpus, p3.Type.MemoryGiB, p3.Type.Gpus, p3.Type.GpuModel));
        Assert.Equal((3.06, 1.00), (p3.OnDemandPricePerHourUsd, p3.SpotPricePerHourUsd)); // median of 0.90, 1.00 (forward-filled), 1.20
        Assert.Equal(ShippedData.Catalog.Find("p3.2xlarge")!.InterruptionBand, p3.InterruptionBand);
        var brandNew = catalog.Find("x9.brandnew")!;
        Assert.Equal((0.25, 0.05, 4), (brandNew.OnDemandPricePerHourUsd, brandNew.SpotPricePerHourUsd, brandNew.InterruptionBand));
        var unsold = catalog.Find("m9.size3")!;
        Assert.Equal(unsold.OnDemandPricePerHourUsd, unsold.SpotPricePerHourUsd); // no spot price: on-demand, no saving
        Assert.Contains("us-east-1: 152 instance types from 153 Price List products", stderr, StringComparison.Ordinal);
        Assert.Equal(2, prices.Authorizations.Count); // two pages, each signed (the server refuses anything else)
    }

    [Fact]
    public async Task Several_regions_write_one_file_each_named_after_the_region()
    {
        var (prices, ec2) = await MarketAsync();
        await using var _ = prices;
        await using var __ = ec2;
        using var environment = Endpoints(prices, ec2);
        var folder = Path.Combine(Path.GetTempPath(), $"spotwise-catalog-{Guid.NewGuid():N}");

        var (code, _, stderr) = CliRunner.Run("catalog", "refresh", "--region", "us-east-1", "--region", "us-west-2", "--out", Path.Combine(folder, "aws-live.csv"));

        Assert.True(code == 0, stderr);
        // On-demand per region from the Price List (its regionCode filter). One loopback EC2 stands for both regions'
        // endpoints here, so the spot figures are not per region in this test.
        var west = Read(Path.Combine(folder, "aws-live-us-west-2.csv"));
        Assert.Equal(3.10, Assert.Single(west.Entries).OnDemandPricePerHourUsd);
        Assert.Equal(152, Read(Path.Combine(folder, "aws-live-us-east-1.csv")).Entries.Length);
    }

    [Fact]
    public async Task The_price_list_endpoint_refuses_a_request_that_is_not_signed()
    {
        await using var prices = await FakePriceListServer.StartAsync();
        using var http = new HttpClient();
        using var content = new StringContent("{\"ServiceCode\":\"AmazonEC2\"}", Encoding.UTF8, "application/x-amz-json-1.1");
        content.Headers.ContentType!.CharSet = null;
        using var request = new HttpRequestMessage(HttpMethod.Post, prices.BaseUri) { Content = content };
        request.Headers.Add("X-Amz-Target", "AWSPriceListService.GetProducts");

        using var response = await http.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("IncompleteSignatureException", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_credentials_the_refresh_stops_with_the_sdks_message_and_writes_nothing()
    {
        await using var prices = await FakePriceListServer.StartAsync();
        using var environment = AwsEnvironment.NoCredentials(new() { ["AWS_ENDPOINT_URL_PRICING"] = prices.BaseUri.ToString() });
        var output = Path.Combine(Path.GetTempPath(), $"spotwise-catalog-{Guid.NewGuid():N}.csv");

        var (code, _, stderr) = CliRunner.Run("catalog", "refresh", "--region", "us-east-1", "--out", output);

        Assert.Equal(2, code);
        Assert.Contains("credentials", stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        Assert.Empty(prices.Authorizations);
    }

    [Fact]
    public void An_unknown_region_is_refused_naming_it()
    {
        var (code, _, stderr) = CliRunner.Run("catalog", "refresh", "--region", "mars-north-1", "--out", "x.csv");

        Assert.Equal(2, code);
        Assert.Contains("error: --region: 'mars-north-1' is not an AWS region", stderr, StringComparison.Ordinal);
    }
}
