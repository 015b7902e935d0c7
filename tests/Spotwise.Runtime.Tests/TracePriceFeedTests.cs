using Spotwise.Core;
using Spotwise.Runtime.Traces;
using static Spotwise.Runtime.Tests.SimTestData;

namespace Spotwise.Runtime.Tests;

public class TracePriceFeedTests
{
    private static CancellationToken Ct => CancellationToken.None;

    [Fact]
    public async Task The_traced_spot_price_replaces_the_catalog_one_and_nothing_else_changes()
    {
        var feed = new TracePriceFeed(TestCatalog, [Trace(10, [1, 1, 1], [1.5, 2.5, 3.5])]);

        var catalog = await feed.PricesAtAsync(T0.AddMinutes(15), Ct);

        Assert.Equal(2.5, catalog.Find(V100)!.SpotPricePerHourUsd);
        Assert.Equal(3.06, catalog.Find(V100)!.OnDemandPricePerHourUsd);
        Assert.Equal(TestCatalog.Find(Cpu), catalog.Find(Cpu));
        Assert.Equal(0.918, TestCatalog.Find(V100)!.SpotPricePerHourUsd); // the shipped catalog is untouched
    }

    [Fact]
    public async Task One_catalog_serves_a_whole_tick()
    {
        var feed = new TracePriceFeed(TestCatalog, [Trace(10, [1, 1, 1], [1.5, 2.5, 3.5])]);

        var a = await feed.PricesAtAsync(T0.AddMinutes(10), Ct);
        var b = await feed.PricesAtAsync(T0.AddMinutes(19), Ct);
        var c = await feed.PricesAtAsync(T0.AddMinutes(20), Ct);

        Assert.Same(a, b);
        Assert.NotSame(b, c);
        Assert.Equal(3.5, c.Find(V100)!.SpotPricePerHourUsd);
        Assert.Equal(2.5, (await feed.PricesAtAsync(T0.AddMinutes(12), Ct)).Find(V100)!.SpotPricePerHourUsd);
    }

    [Fact]
    public async Task With_several_zones_the_price_is_the_cheapest_where_spot_can_be_had()
    {
        var feed = new TracePriceFeed(TestCatalog,
        [
            Trace(10, [0, 1], [1.0, 1.0], zone: "cheap-but-often-gone"),
            Trace(10, [1, 1], [2.0, 2.0], zone: "dearer"),
        ]);

        Assert.Equal(2.0, (await feed.PricesAtAsync(T0, Ct)).Find(V100)!.SpotPricePerHourUsd);
        Assert.Equal(1.0, (await feed.PricesAtAsync(T0.AddMinutes(10), Ct)).Find(V100)!.SpotPricePerHourUsd);
    }

    [Fact]
    public async Task Each_traced_zone_is_sold_at_its_own_price_with_what_it_holds_now()
    {
        var feed = new TracePriceFeed(TestCatalog,
        [
            Trace(10, [1, 1], [2.0, 2.0], zone: "us-test-1b"),
            Trace(10, [0, 3], [1.0, 1.0], zone: "us-test-1a"),
        ]);

        Assert.Equal([new ZoneSpotPrice("us-test-1a", 1.0) { Available = 0 }, new ZoneSpotPrice("us-test-1b", 2.0) { Available = 1 }],
            (await feed.PricesAtAsync(T0, Ct)).Find(V100)!.SpotZones.ToArray());
        Assert.Equal([new ZoneSpotPrice("us-test-1a", 1.0) { Available = 3 }, new ZoneSpotPrice("us-test-1b", 2.0) { Available = 1 }],
            (await feed.PricesAtAsync(T0.AddMinutes(10), Ct)).Find(V100)!.SpotZones.ToArray());
        Assert.Empty((await feed.PricesAtAsync(T0, Ct)).Find(Cpu)!.SpotZones);
    }

    [Fact]
    public async Task A_zone_with_nothing_now_is_not_planned_on_and_one_with_one_instance_takes_one_job()
    {
        var feed = new TracePriceFeed(TestCatalog,
        [
            Trace(10, [1], [2.0], zone: "us-test-1b"),
            Trace(10, [0], [1.0], zone: "us-test-1a"),
        ]);

        var limits = CapacityLimits.Default.WithSpotAvailable(await feed.PricesAtAsync(T0, Ct));

        Assert.Equal(0, limits.SpotPoolSize(new SpotPoolKey("us-test-1a", V100)));
        Assert.Equal(1, limits.SpotPoolSize(new SpotPoolKey("us-test-1b", V100)));
        Assert.Equal(CapacityLimits.Default.DefaultSpotPoolSize, limits.SpotPoolSize(new SpotPoolKey("us-test-1b", Cpu)));
    }

    [Fact]
    public async Task Traces_without_prices_leave_the_catalog_as_it_is()
    {
        var feed = new TracePriceFeed(TestCatalog, [Trace(10, [1, 0])]);

        Assert.Same(TestCatalog, await feed.PricesAtAsync(T0, Ct));
    }

    [Fact]
    public async Task The_real_V100_prices_move_the_p3_spot_price()
    {
        var feed = new TracePriceFeed(TestCatalog, SpotTraceFile.ReadDirectory(TraceFiles.V100Directory, V100, T0));

        var prices = new HashSet<double>();
        for (var t = T0; t < T0.AddDays(45); t = t.AddHours(6))
        {
            prices.Add((await feed.PricesAtAsync(t, Ct)).Find(V100)!.SpotPricePerHourUsd);
        }

        Assert.True(prices.Count > 1);
        Assert.All(prices, p => Assert.InRange(p, 0.918, 1.9));
    }

    [Fact]
    public void A_traced_type_missing_from_the_catalog_is_refused() =>
        Assert.Throws<ArgumentException>(() => new TracePriceFeed(TestCatalog,
            [new SpotTrace(Zone, "x9.mega", T0, TimeSpan.FromMinutes(1), [1], [1.0])]));
}
