using System.Text.Json;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Aws.Fakes;

namespace Spotwise.Cli.Tests;

/// <summary><c>spotwise prices</c> from the shipped catalog, and <c>--live</c> from a loopback EC2 the SDK finds by its own settings.</summary>
[Collection(AwsEnvironment.Name)]
public sealed class PricesCommandTests
{
    private static readonly DateTimeOffset Now = CliRunner.FixedNow;

    [Fact]
    public void Without_live_the_shipped_catalog_prices_each_market_for_the_region()
    {
        var (code, stdout, stderr) = CliRunner.Run("prices", "--types", "p3.2xlarge", "--format", "json");

        Assert.True(code == 0, stderr);
        var rows = JsonDocument.Parse(stdout).RootElement.EnumerateArray().ToList();
        Assert.Equal(["spot", "on-demand"], rows.Select(r => r.GetProperty("market").GetString()));
        Assert.All(rows, r => Assert.Equal(("us-east-1", "us-east-1", "p3.2xlarge", JsonValueKind.Null),
            (r.GetProperty("region").GetString(), r.GetProperty("zone").GetString(), r.GetProperty("instanceType").GetString(), r.GetProperty("asOf").ValueKind)));
        Assert.Equal(ShippedData.Catalog.Find("p3.2xlarge")!.OnDemandPricePerHourUsd, rows[1].GetProperty("pricePerHourUsd").GetDouble());
    }

    [Fact]
    public void An_unknown_instance_type_is_refused_naming_it()
    {
        var (code, _, stderr) = CliRunner.Run("prices", "--types", "p3.2xlarge,p9.huge");

        Assert.Equal(2, code);
        Assert.Contains("error: --types: 'p9.huge' is not an instance type of the catalog", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_region_without_live_is_refused()
    {
        var (code, _, stderr) = CliRunner.Run("prices", "--region", "us-west-2", "--types", "p3.2xlarge");

        Assert.Equal(2, code);
        Assert.Contains("--region: the catalog prices us-east-1 only; 'us-west-2' needs --live", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Live_prices_come_per_zone_and_market_from_the_endpoint_AWS_ENDPOINT_URL_EC2_names()
    {
        await using var ec2 = await FakeEc2Server.StartAsync(new FakeTimeProvider(Now), new Dictionary<string, string>());
        ec2.Offer("us-east-1a", "p3.2xlarge", "g5.xlarge");
        ec2.Offer("us-east-1b", "p3.2xlarge");
        ec2.SeedSpotPrice("us-east-1a", "p3.2xlarge", Now.AddDays(-2), 0.92);
        ec2.SeedSpotPrice("us-east-1b", "p3.2xlarge", Now.AddMinutes(-5), 1.05);
        ec2.SeedSpotPrice("us-east-1a", "g5.xlarge", Now.AddMinutes(-5), 0.41);
        using var environment = AwsEnvironment.DummyCredentials(new() { ["AWS_ENDPOINT_URL_EC2"] = ec2.BaseUri.ToString(), ["AWS_ENDPOINT_URL"] = null });

        var (code, stdout, stderr) = CliRunner.Run("prices", "--live", "--region", "us-east-1", "--types", "p3.2xlarge,g5.xlarge", "--format", "json");

        Assert.True(code == 0, stderr);
        var rows = JsonDocument.Parse(stdout).RootElement.EnumerateArray()
            .Select(r => (Zone: r.GetProperty("zone").GetString(), Type: r.GetProperty("instanceType").GetString(), Market: r.GetProperty("market").GetString(),
                Price: r.GetProperty("pricePerHourUsd").GetDouble(), AsOf: r.GetProperty("asOf").GetDateTimeOffset()))
            .ToList();
        var onDemandP3 = ShippedData.Catalog.Find("p3.2xlarge")!.OnDemandPricePerHourUsd;
        var onDemandG5 = ShippedData.Catalog.Find("g5.xlarge")!.OnDemandPricePerHourUsd;
        Assert.Equal(
        [
            ("us-east-1a", "p3.2xlarge", "spot", 0.92, Now),
            ("us-east-1a", "p3.2xlarge", "on-demand", onDemandP3, Now),
            ("us-east-1b", "p3.2xlarge", "spot", 1.05, Now),
            ("us-east-1b", "p3.2xlarge", "on-demand", onDemandP3, Now),
            ("us-east-1a", "g5.xlarge", "spot", 0.41, Now),
            ("us-east-1a", "g5.xlarge", "on-demand", onDemandG5, Now),
        ], rows);
        Assert.All(JsonDocument.Parse(stdout).RootElement.EnumerateArray(), r => Assert.Equal("us-east-1", r.GetProperty("region").GetString()));
        Assert.Contains("DescribeSpotPriceHistory", ec2.Actions);
    }

    [Fact]
    public async Task Live_prices_take_the_region_from_AWS_REGION_and_print_a_table()
    {
        await using var ec2 = await FakeEc2Server.StartAsync(new FakeTimeProvider(Now), new Dictionary<string, string>());
        ec2.Offer("us-west-2a", "p3.2xlarge");
        ec2.SeedSpotPrice("us-west-2a", "p3.2xlarge", Now.AddMinutes(-5), 0.88);
        using var environment = AwsEnvironment.DummyCredentials(new() { ["AWS_ENDPOINT_URL_EC2"] = ec2.BaseUri.ToString(), ["AWS_REGION"] = "us-west-2" });

        var (code, stdout, stderr) = CliRunner.Run("prices", "--live", "--types", "p3.2xlarge");

        Assert.True(code == 0, stderr);
        Assert.Matches(@"us-west-2\s+us-west-2a\s+p3\.2xlarge\s+spot\s+0\.8800\s+2026-11-24 12:00:00Z", stdout);
    }

    [Fact]
    public async Task Without_credentials_live_prices_stop_with_the_sdks_message_and_no_stack_trace()
    {
        // The endpoint is loopback: whatever the SDK does, nothing leaves the machine.
        await using var ec2 = await FakeEc2Server.StartAsync(new FakeTimeProvider(Now), new Dictionary<string, string>());
        using var environment = AwsEnvironment.NoCredentials(new() { ["AWS_ENDPOINT_URL_EC2"] = ec2.BaseUri.ToString() });

        var (code, stdout, stderr) = CliRunner.Run("prices", "--live", "--region", "us-east-1", "--types", "p3.2xlarge");

        Assert.Equal(2, code);
        Assert.Empty(stdout);
        Assert.StartsWith("error: ", stderr, StringComparison.Ordinal);
        Assert.Contains("credentials", stderr, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        Assert.Empty(ec2.Actions);
    }
}
