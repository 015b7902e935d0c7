using Amazon.EC2;
using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Aws.Prices;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime;

namespace Spotwise.Compute.Aws.Tests;

/// <summary>
/// The live price feed through the real AWS SDK client against the loopback EC2's DescribeSpotPriceHistory and
/// DescribeInstanceTypeOfferings, on the shipped catalog, with the test's clock.
/// </summary>
public sealed class AwsPriceFeedTests : IAsyncLifetime
{
    private const string SpotHistory = "DescribeSpotPriceHistory";
    private const string Offerings = "DescribeInstanceTypeOfferings";
    private const string P3 = "p3.2xlarge";
    private const string G5 = "g5.xlarge";

    private static readonly DateTimeOffset Now = new(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly FakeTimeProvider _time = new(Now);
    private FakeEc2Server _server = null!;
    private IAmazonEC2 _client = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeEc2Server.StartAsync(_time, new Dictionary<string, string>(StringComparer.Ordinal));
        _client = Ec2Clients.Create("us-east-1", _server.BaseUri, new BasicAWSCredentials("AKIDEXAMPLE", "secret"));
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private AwsPriceFeed Feed(TimeSpan? ttl = null, params string[] types) => new(_client, new AwsPriceFeedOptions
    {
        Region = "us-east-1",
        Catalog = ShippedData.Catalog,
        InstanceTypes = types.Length == 0 ? [P3, G5] : types,
        Ttl = ttl ?? AwsPriceFeedOptions.DefaultTtl,
    }, _time);

    /// <summary>p3.2xlarge in three zones, g5.xlarge in two of them; each zone's price changed 10 minutes ago.</summary>
    private void ThreeZones()
    {
        _server.Offer("us-east-1a", P3, G5);
        _server.Offer("us-east-1b", P3, G5);
        _server.Offer("us-east-1c", P3);
        _server.SeedSpotPrice("us-east-1a", P3, Now.AddMinutes(-10), 1.10);
        _server.SeedSpotPrice("us-east-1b", P3, Now.AddMinutes(-10), 0.95);
        _server.SeedSpotPrice("us-east-1c", P3, Now.AddMinutes(-10), 1.30);
        _server.SeedSpotPrice("us-east-1a", G5, Now.AddMinutes(-10), 0.40);
        _server.SeedSpotPrice("us-east-1b", G5, Now.AddMinutes(-10), 0.35);
    }

    private static Dictionary<string, double> Zones(Catalog catalog, string type) =>
        catalog.Find(type)!.SpotZones.ToDictionary(z => z.Zone, z => z.PricePerHourUsd, StringComparer.Ordinal);

    [Fact]
    public async Task Each_zone_that_offers_a_type_is_a_spot_offer_at_its_own_price_and_the_region_takes_the_cheapest()
    {
        ThreeZones();
        using var feed = Feed();

        var catalog = await feed.PricesAtAsync(Now, Ct);

        Assert.Equal(new Dictionary<string, double> { ["us-east-1a"] = 1.10, ["us-east-1b"] = 0.95, ["us-east-1c"] = 1.30 }, Zones(catalog, P3));
        Assert.Equal(0.95, catalog.Find(P3)!.SpotPricePerHourUsd);
        Assert.Equal(ShippedData.Catalog.Find(P3)!.OnDemandPricePerHourUsd, catalog.Find(P3)!.OnDemandPricePerHourUsd);
        Assert.Equal(Now, feed.AsOf);
    }

    [Fact]
    public async Task A_zone_that_does_not_offer_a_type_gets_no_offer_even_when_ec2_lists_a_price_there()
    {
        ThreeZones();
        // A price for g5.xlarge in us-east-1c, which does not offer it (an old listing): no offer there.
        _server.SeedSpotPrice("us-east-1c", G5, Now.AddMinutes(-5), 0.01);
        using var feed = Feed();

        var catalog = await feed.PricesAtAsync(Now, Ct);

        Assert.Equal(["us-east-1a", "us-east-1b"], Zones(catalog, G5).Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0.35, catalog.Find(G5)!.SpotPricePerHourUsd);
    }

    [Fact]
    public async Task A_zone_whose_last_change_came_before_the_window_is_forward_filled_from_it()
    {
        _server.Offer("us-east-1a", P3);
        _server.Offer("us-east-1b", P3);
        // us-east-1a last changed three days ago (long before the hour asked); us-east-1b changed inside the hour.
        _server.SeedSpotPrice("us-east-1a", P3, Now.AddDays(-5), 2.00);
        _server.SeedSpotPrice("us-east-1a", P3, Now.AddDays(-3), 0.91);
        _server.SeedSpotPrice("us-east-1b", P3, Now.AddDays(-2), 1.50);
        _server.SeedSpotPrice("us-east-1b", P3, Now.AddMinutes(-30), 1.20);
        using var feed = Feed();

        var catalog = await feed.PricesAtAsync(Now, Ct);

        Assert.Equal(new Dictionary<string, double> { ["us-east-1a"] = 0.91, ["us-east-1b"] = 1.20 }, Zones(catalog, P3));
    }

    [Fact]
    public async Task Price_history_and_offerings_are_read_across_every_page()
    {
        // 1,200 offerings (six zones x 200 catalog types) and 2,500 changes in one zone: more than one page of 1,000 each.
        var types = ShippedData.Catalog.Entries.Select(e => e.Type.Name).Where(t => t != P3).Take(199).Append(P3).ToArray();
        var zones = Enumerable.Range(0, 6).Select(i => $"us-east-1{(char)('a' + i)}").ToArray();
        foreach (var zone in zones)
        {
            _server.Offer(zone, types);
        }
        for (var i = 0; i < 2500; i++)
        {
            _server.SeedSpotPrice("us-east-1a", P3, Now.AddMinutes(-50).AddSeconds(i), 1.0 + (i / 10_000.0));
        }
        using var feed = Feed(types: types);

        var catalog = await feed.PricesAtAsync(Now, Ct);

        Assert.Equal(2, _server.CallsOf(Offerings));
        Assert.Equal(3 + (zones.Length - 1), _server.CallsOf(SpotHistory));
        Assert.Equal(1.2499, Zones(catalog, P3)["us-east-1a"], precision: 6);
    }

    [Fact]
    public async Task A_call_within_the_ttl_answers_from_memory_and_after_it_a_refresh_brings_the_new_prices()
    {
        ThreeZones();
        using var feed = Feed(TimeSpan.FromMinutes(5));
        await feed.PricesAtAsync(Now, Ct);
        var calls = _server.Actions.Count;

        _time.Advance(TimeSpan.FromMinutes(4));
        _server.SeedSpotPrice("us-east-1b", P3, _time.GetUtcNow(), 0.80);
        var within = await feed.PricesAtAsync(_time.GetUtcNow(), Ct);

        Assert.Equal(calls, _server.Actions.Count);
        Assert.Equal(0.95, within.Find(P3)!.SpotPricePerHourUsd);

        _time.Advance(TimeSpan.FromMinutes(1));
        var stale = await feed.PricesAtAsync(_time.GetUtcNow(), Ct);
        Assert.Equal(0.95, stale.Find(P3)!.SpotPricePerHourUsd); // served while the refresh runs
        await feed.Refreshing;
        var fresh = await feed.PricesAtAsync(_time.GetUtcNow(), Ct);

        Assert.True(_server.Actions.Count > calls);
        Assert.Equal(0.80, fresh.Find(P3)!.SpotPricePerHourUsd);
        Assert.Equal(_time.GetUtcNow(), feed.AsOf);
    }

    [Fact]
    public async Task A_failed_refresh_keeps_the_last_snapshot_and_is_tried_again_one_ttl_later()
    {
        ThreeZones();
        using var feed = Feed(TimeSpan.FromMinutes(5));
        await feed.PricesAtAsync(Now, Ct);

        _server.FailPriceCalls();
        _time.Advance(TimeSpan.FromMinutes(5));
        await feed.PricesAtAsync(_time.GetUtcNow(), Ct);
        await feed.Refreshing;
        var kept = await feed.PricesAtAsync(_time.GetUtcNow(), Ct);
        var failedCalls = _server.Actions.Count;

        Assert.Equal(0.95, kept.Find(P3)!.SpotPricePerHourUsd);
        Assert.Equal(Now, feed.AsOf);

        _time.Advance(TimeSpan.FromMinutes(1));
        await feed.PricesAtAsync(_time.GetUtcNow(), Ct);
        Assert.Equal(failedCalls, _server.Actions.Count); // no retry before the next staleness

        _server.FailPriceCalls(null);
        _server.SeedSpotPrice("us-east-1b", P3, _time.GetUtcNow(), 0.70);
        _time.Advance(TimeSpan.FromMinutes(4));
        await feed.PricesAtAsync(_time.GetUtcNow(), Ct);
        await feed.Refreshing;

        Assert.Equal(0.70, (await feed.PricesAtAsync(_time.GetUtcNow(), Ct)).Find(P3)!.SpotPricePerHourUsd);
    }

    [Fact]
    public async Task The_first_call_waits_for_the_first_snapshot_and_fails_clearly_when_ec2_cannot_be_read()
    {
        ThreeZones();
        _server.FailPriceCalls();
        using var feed = Feed();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => feed.PricesAtAsync(Now, Ct));
        Assert.Contains("us-east-1", error.Message, StringComparison.Ordinal);
        Assert.Contains("not authorized", error.Message, StringComparison.Ordinal);

        _server.FailPriceCalls(null);
        Assert.Equal(0.95, (await feed.PricesAtAsync(Now, Ct)).Find(P3)!.SpotPricePerHourUsd);
    }

    [Fact]
    public async Task The_planner_puts_a_spot_job_in_the_cheapest_zone_the_feed_priced()
    {
        ThreeZones();
        using var feed = Feed();
        var catalog = await feed.PricesAtAsync(Now, Ct);
        var job = new Job
        {
            Id = "train",
            DurationHours = 1,
            Deadline = Now.AddHours(12),
            Resources = ResourceRequest.ForInstanceTypes([P3]),
        };
        var problem = new PlanningProblem(Now, [job], catalog, CapacityLimits.Default);

        var plan = await new CpSatPlanner().SolveAsync(problem, new SolveOptions { TimeLimit = TimeSpan.FromSeconds(5), Workers = 1 }, Ct);

        Assert.Empty(PlanValidator.Validate(plan, problem));
        var assignment = Assert.Single(plan.Schedule);
        Assert.Equal((Market.Spot, "us-east-1b", 0.95), (assignment.Market, assignment.Offer.Zone, assignment.Offer.PricePerHourUsd));
    }

    [Fact]
    public void AddAwsPriceFeed_makes_the_live_feed_the_services_price_feed()
    {
        var services = new ServiceCollection().AddSingleton<TimeProvider>(_time).AddAwsPriceFeed(_ => new AwsPriceFeedOptions
        {
            Region = "us-east-1",
            Catalog = ShippedData.Catalog,
            ServiceUrl = _server.BaseUri,
            Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
        });
        using var provider = services.BuildServiceProvider();

        Assert.IsType<AwsPriceFeed>(provider.GetRequiredService<IPriceFeed>());
        Assert.Same(provider.GetRequiredService<AwsPriceFeed>(), provider.GetRequiredService<IPriceFeed>());
    }
}
