using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Traces;
using static Spotwise.Runtime.Tests.SimTestData;

namespace Spotwise.Compute.Simulated.Tests;

public sealed class SimulatedCloudTests : ComputeBackendContract
{
    private readonly FakeTimeProvider _time = new(T0);
    private SimulatedCloud? _cloud;

    protected override ICompute Backend => _cloud ??= new SimulatedCloud(new SimulatedCloudOptions { Catalog = TestCatalog }, _time);

    protected override LaunchRequest OnDemandRequest(string jobId, int attempt = 1) =>
        Request(jobId, attempt, Market.OnDemand, Cpu, Zone, workHours: 2);

    protected override TimeSpan TimeToFinish => TimeSpan.FromHours(3);

    protected override Task LetTimePassAsync(TimeSpan span)
    {
        _time.Advance(span);
        return Task.CompletedTask;
    }

    private SimulatedCloud Cloud(params SpotTrace[] traces) => Cloud(new SimulatedCloudOptions { Catalog = TestCatalog, SpotTraces = traces });

    private SimulatedCloud Cloud(SimulatedCloudOptions options) => new(options, _time);

    private static SimulatedCloud Cloud(SimulatedCloudOptions options, FakeTimeProvider time) => new(options, time);

    private void At(TimeSpan sinceT0) => _time.SetUtcNow(T0 + sinceT0);

    private static async Task<InstanceStatus> Only(SimulatedCloud cloud) => Assert.Single(await cloud.DescribeAsync(Ct));

    private static LaunchRequest Spot(
        string jobId, double workHours, bool checkpointable = false, double checkpointIntervalHours = 0, int attempt = 1, string zone = Zone) =>
        Request(jobId, attempt, Market.Spot, V100, zone, workHours, checkpointable, checkpointIntervalHours);

    [Fact]
    public async Task An_instance_is_pending_for_the_launch_delay_then_runs_then_succeeds_after_its_work()
    {
        var cloud = Cloud();
        await cloud.LaunchAsync(Request("job", 1, Market.OnDemand, V100, Zone, workHours: 2), Ct);

        At(TimeSpan.FromSeconds(89));
        Assert.Equal(InstanceState.Pending, (await Only(cloud)).State);
        At(TimeSpan.FromSeconds(90));
        var running = await Only(cloud);
        Assert.Equal(InstanceState.Running, running.State);
        Assert.Equal(T0.AddSeconds(90), running.RunningSince);
        At(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(89));
        Assert.Equal(InstanceState.Running, (await Only(cloud)).State);
        At(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(90));
        var done = await Only(cloud);
        Assert.Equal(InstanceState.Succeeded, done.State);
        Assert.Equal(T0.AddHours(2).AddSeconds(90), done.EndedAt);
        Assert.Equal(2, done.SavedProgressHours);
        Assert.Equal(2 * 3.06, done.CostSoFarUsd, 9);
    }

    [Fact]
    public async Task A_client_token_reused_for_a_different_launch_is_refused()
    {
        var cloud = Cloud();
        await cloud.LaunchAsync(Spot("job", 2), Ct);

        var e = await Assert.ThrowsAsync<ArgumentException>(() => cloud.LaunchAsync(Spot("job", 3), Ct));
        Assert.Contains("ml/job#1", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Spot_is_interrupted_exactly_when_the_trace_drops_to_zero_after_a_two_minute_notice()
    {
        // 10-minute ticks: spot for an hour, then none.
        var cloud = Cloud(Trace(10, Repeat((1, 6), (0, 6), (1, 100))));
        await cloud.LaunchAsync(Spot("job", workHours: 5), Ct);

        At(TimeSpan.FromMinutes(58) - TimeSpan.FromSeconds(1));
        var before = await Only(cloud);
        Assert.Equal(InstanceState.Running, before.State);
        Assert.Null(before.InterruptionNoticeAt);

        At(TimeSpan.FromMinutes(58));
        var warned = await Only(cloud);
        Assert.Equal(InstanceState.Running, warned.State);
        Assert.Equal(T0.AddMinutes(58), warned.InterruptionNoticeAt);

        At(TimeSpan.FromMinutes(60) - TimeSpan.FromTicks(1));
        Assert.Equal(InstanceState.Running, (await Only(cloud)).State);

        At(TimeSpan.FromMinutes(60));
        var gone = await Only(cloud);
        Assert.Equal(InstanceState.Interrupted, gone.State);
        Assert.Equal(T0.AddMinutes(60), gone.EndedAt);
        Assert.Equal(T0.AddMinutes(58), gone.InterruptionNoticeAt);
        Assert.Equal(T0.AddSeconds(90), gone.RunningSince);
        Assert.NotNull(gone.Error);
    }

    [Fact]
    public async Task The_interruption_is_the_same_however_often_or_seldom_anyone_looks()
    {
        var trace = Trace(10, Repeat((1, 6), (0, 6), (1, 100)));
        var watched = Cloud(trace);
        await watched.LaunchAsync(Spot("job", workHours: 5), Ct);
        for (var m = 1; m <= 180; m++)
        {
            At(TimeSpan.FromMinutes(m));
            await watched.DescribeAsync(Ct);
        }
        var watchedEnd = await Only(watched);

        var otherClock = new FakeTimeProvider(T0);
        var unwatched = Cloud(new SimulatedCloudOptions { Catalog = TestCatalog, SpotTraces = [trace] }, otherClock);
        await unwatched.LaunchAsync(Spot("job", workHours: 5), Ct);
        otherClock.Advance(TimeSpan.FromMinutes(180));

        Assert.Equal(watchedEnd, await Only(unwatched));
    }

    [Fact]
    public async Task An_instance_launched_inside_the_notice_window_hears_of_the_interruption_when_it_happens()
    {
        var cloud = Cloud(Trace(10, Repeat((1, 6), (0, 6))));
        At(TimeSpan.FromMinutes(59));
        await cloud.LaunchAsync(Spot("job", workHours: 5), Ct);

        At(TimeSpan.FromMinutes(60));
        var gone = await Only(cloud);

        Assert.Equal(InstanceState.Interrupted, gone.State);
        Assert.Equal(T0.AddMinutes(60), gone.InterruptionNoticeAt);
        Assert.Null(gone.RunningSince); // it was still booting
        Assert.Equal(0, gone.CostSoFarUsd);
    }

    [Fact]
    public async Task Spot_without_capacity_is_refused_at_once_as_an_interruption_that_costs_nothing()
    {
        var cloud = Cloud(Trace(10, Repeat((0, 6), (1, 6))));

        var launched = await cloud.LaunchAsync(Spot("job", workHours: 1), Ct);
        At(TimeSpan.FromHours(3));
        var later = await Only(cloud);

        Assert.Equal(InstanceState.Interrupted, launched.State);
        Assert.Equal(SimulatedCloud.NoSpotCapacity, launched.Error);
        Assert.Equal(T0, launched.EndedAt);
        Assert.Equal(launched, later);
        Assert.Equal(0, later.CostSoFarUsd);
        Assert.Null(later.RunningSince);
    }

    [Fact]
    public async Task Spot_comes_back_with_the_trace()
    {
        var cloud = Cloud(Trace(10, Repeat((0, 6), (1, 6))));
        await cloud.LaunchAsync(Spot("job", workHours: 1, attempt: 1), Ct);

        At(TimeSpan.FromMinutes(60));
        var second = await cloud.LaunchAsync(Spot("job", workHours: 0.5, attempt: 2), Ct);

        Assert.Equal(InstanceState.Pending, second.State);
    }

    [Fact]
    public async Task On_demand_is_never_interrupted_nor_short()
    {
        var cloud = Cloud(Trace(10, Repeat((0, 100))));
        await cloud.LaunchAsync(Request("job", 1, Market.OnDemand, V100, Zone, workHours: 5), Ct);

        At(TimeSpan.FromHours(6));

        Assert.Equal(InstanceState.Succeeded, (await Only(cloud)).State);
    }

    [Fact]
    public async Task No_more_spot_instances_run_in_a_pool_than_the_trace_allows()
    {
        // Two can be had for an hour, then one, then two again.
        var cloud = Cloud(Trace(10, Repeat((2, 6), (1, 6), (2, 100))));
        var a = await cloud.LaunchAsync(Spot("a", 10), Ct);
        var b = await cloud.LaunchAsync(Spot("b", 10), Ct);
        var c = await cloud.LaunchAsync(Spot("c", 10), Ct);

        Assert.Equal(InstanceState.Pending, a.State);
        Assert.Equal(InstanceState.Pending, b.State);
        Assert.Equal(InstanceState.Interrupted, c.State);
        Assert.Equal(SimulatedCloud.NoSpotCapacity, c.Error);

        // Ending one frees its place.
        At(TimeSpan.FromMinutes(10));
        await cloud.TerminateAsync(a.InstanceId, Ct);
        var d = await cloud.LaunchAsync(Spot("d", 10), Ct);
        Assert.Equal(InstanceState.Pending, d.State);

        // When the pool shrinks to one, the newest goes (with notice) and the older stays.
        At(TimeSpan.FromMinutes(61));
        var statuses = (await cloud.DescribeAsync(Ct)).ToDictionary(s => s.JobId);
        Assert.Equal(InstanceState.Running, statuses["b"].State);
        Assert.Null(statuses["b"].InterruptionNoticeAt);
        Assert.Equal(InstanceState.Interrupted, statuses["d"].State);
        Assert.Equal(T0.AddMinutes(58), statuses["d"].InterruptionNoticeAt);
        Assert.Equal(T0.AddMinutes(60), statuses["d"].EndedAt);
    }

    [Fact]
    public async Task Checkpointable_work_is_saved_up_to_the_last_checkpoint_before_the_interruption()
    {
        // Runs from 90 s to 60 min: 58.5 minutes = 0.975 h of work.
        var trace = Trace(10, Repeat((3, 6), (0, 6)));
        var cloud = Cloud(trace);
        await cloud.LaunchAsync(Spot("every-quarter-hour", 5, checkpointable: true, checkpointIntervalHours: 0.25), Ct);
        await cloud.LaunchAsync(Spot("continuous", 5, checkpointable: true, checkpointIntervalHours: 0), Ct);
        await cloud.LaunchAsync(Spot("not-checkpointable", 5), Ct);

        At(TimeSpan.FromMinutes(40)); // 38.5 minutes of work so far: two quarter-hour checkpoints
        var midway = (await cloud.DescribeAsync(Ct)).ToDictionary(s => s.JobId);
        Assert.Equal(0.5, midway["every-quarter-hour"].SavedProgressHours, 9);

        At(TimeSpan.FromHours(2));
        var saved = (await cloud.DescribeAsync(Ct)).ToDictionary(s => s.JobId, s => s.SavedProgressHours);

        Assert.Equal(0.75, saved["every-quarter-hour"], 9);
        Assert.Equal(0.975, saved["continuous"], 9);
        Assert.Equal(0, saved["not-checkpointable"]);
    }

    [Fact]
    public async Task Work_that_fills_whole_checkpoints_is_saved_entirely()
    {
        var cloud = Cloud(new SimulatedCloudOptions
        {
            Catalog = TestCatalog,
            LaunchDelay = TimeSpan.Zero,
            SpotTraces = [Trace(10, Repeat((1, 6), (0, 6)))],
        });
        await cloud.LaunchAsync(Spot("job", 5, checkpointable: true, checkpointIntervalHours: 0.1), Ct);

        At(TimeSpan.FromHours(2));

        Assert.Equal(1.0, (await Only(cloud)).SavedProgressHours, 9);
    }

    [Fact]
    public async Task A_terminated_checkpointable_instance_keeps_its_checkpoints()
    {
        var cloud = Cloud(new SimulatedCloudOptions { Catalog = TestCatalog, LaunchDelay = TimeSpan.Zero });
        var launched = await cloud.LaunchAsync(Spot("job", 5, checkpointable: true, checkpointIntervalHours: 1), Ct);

        At(TimeSpan.FromHours(2.5));
        await cloud.TerminateAsync(launched.InstanceId, Ct);
        At(TimeSpan.FromHours(10));

        var status = await Only(cloud);
        Assert.Equal(InstanceState.Terminated, status.State);
        Assert.Equal(2, status.SavedProgressHours, 9);
        Assert.Equal(2.5 * 0.918, status.CostSoFarUsd, 9);
    }

    [Fact]
    public async Task Spot_costs_follow_the_trace_prices_tick_by_tick()
    {
        var cloud = Cloud(new SimulatedCloudOptions
        {
            Catalog = TestCatalog,
            LaunchDelay = TimeSpan.Zero,
            SpotTraces = [Trace(30, Repeat((1, 10)), prices: [1.0, 2.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0])],
        });
        await cloud.LaunchAsync(Spot("spot", workHours: 10), Ct);
        await cloud.LaunchAsync(Request("od", 1, Market.OnDemand, V100, Zone, workHours: 10), Ct);

        At(TimeSpan.FromMinutes(45));
        var now = (await cloud.DescribeAsync(Ct)).ToDictionary(s => s.JobId);
        Assert.Equal((0.5 * 1.0) + (0.25 * 2.0), now["spot"].CostSoFarUsd, 9);
        Assert.Equal(2.0, now["spot"].PricePerHourUsd);
        Assert.Equal(0.75 * 3.06, now["od"].CostSoFarUsd, 9);
        Assert.Equal(3.06, now["od"].PricePerHourUsd);

        At(TimeSpan.FromMinutes(90));
        Assert.Equal(0.5 + 1.0 + 2.0, (await cloud.DescribeAsync(Ct)).Single(s => s.JobId == "spot").CostSoFarUsd, 9);
    }

    [Fact]
    public async Task Spot_without_trace_prices_costs_the_catalog_spot_price_and_is_never_short()
    {
        var cloud = Cloud(new SimulatedCloudOptions { Catalog = TestCatalog, LaunchDelay = TimeSpan.Zero });
        await cloud.LaunchAsync(Request("cpu", 1, Market.Spot, Cpu, "anywhere", workHours: 4), Ct);

        At(TimeSpan.FromHours(1));

        var status = await Only(cloud);
        Assert.Equal(InstanceState.Running, status.State);
        Assert.Equal(0.04, status.CostSoFarUsd, 9);
    }

    [Fact]
    public async Task An_instance_type_missing_from_the_catalog_fails_at_launch()
    {
        var cloud = Cloud();

        var status = await cloud.LaunchAsync(Request("job", 1, Market.OnDemand, "x9.mega", Zone, workHours: 1), Ct);

        Assert.Equal(InstanceState.Failed, status.State);
        Assert.Contains("x9.mega", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Duration_noise_is_the_same_for_the_same_seed_and_stays_within_its_fraction()
    {
        async Task<IReadOnlyList<InstanceStatus>> Run(int seed, bool reversed)
        {
            var clock = new FakeTimeProvider(T0);
            var cloud = Cloud(new SimulatedCloudOptions
            {
                Catalog = TestCatalog,
                DurationNoiseFraction = 0.2,
                Seed = seed,
                LaunchDelay = TimeSpan.Zero,
            }, clock);
            var jobs = Enumerable.Range(1, 20).Select(i => $"job-{i:D2}");
            foreach (var job in reversed ? jobs.Reverse() : jobs)
            {
                await cloud.LaunchAsync(Request(job, 1, Market.OnDemand, Cpu, Zone, workHours: 10), Ct);
            }
            clock.Advance(TimeSpan.FromHours(13));
            return [.. (await cloud.DescribeAsync(Ct)).OrderBy(s => s.JobId, StringComparer.Ordinal)];
        }

        var first = await Run(seed: 7, reversed: false);
        var again = await Run(seed: 7, reversed: true);
        var other = await Run(seed: 8, reversed: false);

        static double[] Hours(IEnumerable<InstanceStatus> s) => [.. s.Select(x => (x.EndedAt!.Value - x.RunningSince!.Value).TotalHours)];
        Assert.Equal(Hours(first), Hours(again));
        Assert.NotEqual(Hours(first), Hours(other));
        Assert.All(Hours(first), h => Assert.InRange(h, 8, 12));
        Assert.True(Hours(first).Distinct().Count() > 10);
    }

    [Fact]
    public void Bad_options_are_refused_with_every_reason()
    {
        var e = Assert.Throws<ArgumentException>(() => Cloud(new SimulatedCloudOptions
        {
            Catalog = TestCatalog,
            LaunchDelay = TimeSpan.FromSeconds(-1),
            DurationNoiseFraction = 1.5,
            SpotTraces = [Trace(10, [1]), Trace(10, [0])],
        }));

        Assert.Contains("LaunchDelay", e.Message, StringComparison.Ordinal);
        Assert.Contains("DurationNoiseFraction", e.Message, StringComparison.Ordinal);
        Assert.Contains("one per pool", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_spot_job_replayed_over_45_days_of_the_real_trace_relaunches_until_its_work_is_done()
    {
        var traces = SpotTraceFile.ReadDirectory(TraceFiles.V100Directory, V100, T0);
        var trace = traces.Single(t => t.Zone == "us-west-2a");
        var cloud = Cloud(trace);
        const double work = 48;
        var done = 0.0;
        var attempt = 0;
        var interruptions = 0;
        InstanceStatus? current = null;
        var cost = 0.0;

        // A naive policy: whenever nothing runs, ask for spot again; look every 5 minutes.
        for (var t = TimeSpan.Zero; t < TimeSpan.FromDays(40) && done < work; t += TimeSpan.FromMinutes(5))
        {
            At(t);
            if (current is not null)
            {
                current = (await cloud.DescribeAsync(Ct)).Single(s => s.InstanceId == current.InstanceId);
                if (!current.IsEnded)
                {
                    continue;
                }
                done += current.SavedProgressHours;
                cost += current.CostSoFarUsd;
                if (current.State == InstanceState.Interrupted && current.Error != SimulatedCloud.NoSpotCapacity)
                {
                    interruptions++;
                    Assert.Equal(trace.NextChange(current.EndedAt!.Value - TimeSpan.FromTicks(1)), current.EndedAt);
                    Assert.Equal(0, trace.AvailableAt(current.EndedAt!.Value));
                }
            }
            if (done < work)
            {
                current = await cloud.LaunchAsync(Spot("job", work - done, checkpointable: true, attempt: ++attempt, zone: trace.Zone), Ct);
            }
        }

        Assert.Equal(work, done, 6);
        Assert.True(interruptions >= 1, "the trace loses spot within the first three hours");
        Assert.InRange(cost, work * 0.918, work * 1.1);
        Assert.Equal(attempt, (await cloud.DescribeAsync(Ct)).Count);
    }
}
