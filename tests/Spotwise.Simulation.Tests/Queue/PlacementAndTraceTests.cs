using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Simulated;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Traces;
using Spotwise.Simulation.Queue;
using static Spotwise.Runtime.Tests.SimTestData;

namespace Spotwise.Simulation.Tests.Queue;

/// <summary>The pieces the queue simulation adds around the simulated cloud: zone placement, band traces, next change.</summary>
public sealed class PlacementAndTraceTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;
    private readonly FakeTimeProvider _time = new(T0);

    private static LaunchRequest Launch(string jobId, Market market, string type, string zone, double workHours = 2) =>
        new(ClientTokens.For(new JobKey("t", jobId), 1), "t", jobId, 1, market, type, zone, workHours, false, 0, null);

    /// <summary>Zone a: 1 instance at $1.00; zone b: 1 instance at $0.90 for an hour, then none.</summary>
    private (SimulatedCloud Cloud, RegionalSpotPlacement Placement) World()
    {
        SpotTrace[] traces =
        [
            Trace(60, [1, 1, 1], [1.0, 1.0, 1.0], zone: "us-test-1a"),
            Trace(60, [1, 0, 0], [0.9, 0.9, 0.9], zone: "us-test-1b"),
        ];
        var cloud = new SimulatedCloud(new SimulatedCloudOptions { Catalog = TestCatalog, SpotTraces = traces }, _time);
        return (cloud, new RegionalSpotPlacement(cloud, traces, _time));
    }

    [Fact]
    public async Task A_regional_spot_launch_lands_in_the_cheapest_zone_with_a_free_instance_and_is_refused_when_none_has()
    {
        var (_, placement) = World();
        const string region = "us-test-1";

        var first = await placement.LaunchAsync(Launch("a", Market.Spot, V100, region), Ct);
        var second = await placement.LaunchAsync(Launch("b", Market.Spot, V100, region), Ct);
        var third = await placement.LaunchAsync(Launch("c", Market.Spot, V100, region), Ct);

        Assert.Equal(("us-test-1b", InstanceState.Pending), (first.Zone, first.State));
        Assert.Equal(("us-test-1a", InstanceState.Pending), (second.Zone, second.State));
        Assert.Equal(InstanceState.Interrupted, third.State);
        Assert.Equal(SimulatedCloud.NoSpotCapacity, third.Error);
    }

    [Fact]
    public async Task A_repeated_launch_lands_where_the_first_did_and_other_launches_pass_through()
    {
        var (cloud, placement) = World();
        var first = await placement.LaunchAsync(Launch("a", Market.Spot, V100, "us-test-1"), Ct);
        _time.Advance(TimeSpan.FromMinutes(30));

        var again = await placement.LaunchAsync(Launch("a", Market.Spot, V100, "us-test-1"), Ct);
        var onDemand = await placement.LaunchAsync(Launch("d", Market.OnDemand, V100, "us-test-1"), Ct);
        var cpu = await placement.LaunchAsync(Launch("e", Market.Spot, Cpu, "us-test-1"), Ct);

        Assert.Equal(first.InstanceId, again.InstanceId);
        Assert.Equal("us-test-1", onDemand.Zone);
        Assert.Equal("us-test-1", cpu.Zone);
        Assert.Equal(3, (await cloud.DescribeAsync(Ct)).Count);
    }

    [Fact]
    public async Task The_cloud_names_its_next_change_boot_done_notice_capacity_and_finish_and_none_when_idle()
    {
        var (cloud, _) = World();
        Assert.Null(cloud.NextChange());

        await cloud.LaunchAsync(Launch("a", Market.Spot, V100, "us-test-1b", workHours: 3), Ct);
        Assert.Equal(T0.AddSeconds(90), cloud.NextChange());
        _time.SetUtcNow(T0.AddSeconds(90));
        // Zone b empties at 1:00; the notice goes 2 minutes before.
        Assert.Equal(T0.AddMinutes(58), cloud.NextChange());
        _time.SetUtcNow(T0.AddMinutes(58));
        Assert.Equal(T0.AddHours(1), cloud.NextChange());
        _time.SetUtcNow(T0.AddHours(1));
        Assert.Null(cloud.NextChange());

        await cloud.LaunchAsync(Launch("d", Market.OnDemand, V100, "us-test-1", workHours: 2), Ct);
        _time.SetUtcNow(T0.AddHours(1).AddSeconds(90));
        Assert.Equal(T0.AddHours(3).AddSeconds(90), cloud.NextChange());
    }

    [Fact]
    public void Band_traces_are_drawn_for_untraced_types_that_serve_the_queue_the_same_for_a_seed()
    {
        List<Job> jobs = [new Job { Id = "j", DurationHours = 1, Resources = ResourceRequest.ForInstanceTypes([Cpu, V100]) }];
        var until = T0.AddYears(10);

        var traces = BandInterruptionTraces.For(TestCatalog, jobs, new HashSet<string> { V100 }, T0, until, TimeSpan.FromHours(1), seed: 3);
        var again = BandInterruptionTraces.For(TestCatalog, jobs, new HashSet<string> { V100 }, T0, until, TimeSpan.FromHours(1), seed: 3);
        var other = BandInterruptionTraces.For(TestCatalog, jobs, new HashSet<string> { V100 }, T0, until, TimeSpan.FromHours(1), seed: 4);

        var trace = Assert.Single(traces);
        Assert.Equal((Cpu, "us-test-1"), (trace.InstanceType, trace.Zone));
        Assert.Equal(trace.Available.ToArray(), again[0].Available.ToArray());
        Assert.NotEqual(trace.Available.ToArray(), other[0].Available.ToArray());
    }

    [Fact]
    public void Band_trace_outages_come_at_the_band_rate_and_last_the_outage()
    {
        // The test V100 is band 2 (12.5% a month): over 20 years about 32 reclaims are expected.
        List<Job> jobs = [new Job { Id = "j", DurationHours = 1, Resources = ResourceRequest.ForInstanceTypes([V100]) }];
        var until = T0.AddYears(20);
        var trace = BandInterruptionTraces.For(TestCatalog, jobs, new HashSet<string>(), T0, until, TimeSpan.FromHours(1), seed: 1)[0];

        var outageTicks = trace.Available.Count(a => a == 0);
        var starts = Enumerable.Range(1, trace.TickCount - 1).Count(i => trace.Available[i] == 0 && trace.Available[i - 1] != 0);
        var expected = InterruptionBands.HourlyRate(2) * (until - T0).TotalHours;

        Assert.InRange(starts, expected / 2, expected * 2);
        Assert.True(outageTicks >= starts * 12, $"{outageTicks} ticks without capacity for {starts} reclaims");
        Assert.All(trace.Available.Where(a => a != 0), a => Assert.Equal(CapacityLimits.Unlimited, a));
    }
}
