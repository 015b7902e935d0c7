using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Compute.Simulated;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime;
using Spotwise.Runtime.Policy;
using Spotwise.Runtime.Reconciliation;
using Spotwise.Runtime.Traces;
using Spotwise.Simulation.Scenarios;
using Spotwise.Simulation.Scenarios.Policies;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Simulation.Tests.Scenarios;

/// <summary>
/// The acceptance test: what <c>simulate --policy spotwise</c> scores is what <c>serve</c> runs. A real trace (the
/// nine AWS V100 zones the sweep plays, 195-second ticks, with their spot prices) is played through both paths and they must decide the same thing
/// at every tick (spot in a zone, on-demand, or idle) and cost the same to the cent.
/// <para>
/// (a) The service: a SQLite store, the Scheduler with CP-SAT, the ReconcileLoop with its <see cref="SpotAvailabilityHistory"/>
/// fed by a <see cref="TracePriceFeed"/> over the traces, and the <see cref="SimulatedCloud"/> replaying them, on a
/// <see cref="VirtualClock"/>. The loop ticks once per trace tick from the trace's first tick (so the service has seen the
/// same week of history the engine shows its policy), the job is submitted a tick before its start and planned once.
/// (b) The engine: <see cref="ScenarioEngine"/> with policy <c>spotwise</c> over the same market.
/// </para>
/// Conditions that make the comparison exact: one job, one instance type (on-demand and spot alike), launches that
/// boot at once and interruptions with no notice (LaunchDelay and InterruptionNotice 0, launch allowance 0), continuous
/// checkpoints, no duration noise, and the changeover charged as the service charges it: on every restart, not on the
/// first start (<see cref="JobScenario.FirstStartPaysChangeover"/> false), as paid running time that saves nothing.
/// </summary>
public sealed class SameDecisionsTests : IAsyncLifetime
{
    private const double WorkHours = 20;
    private const double OverheadHours = 0.2;
    private static readonly JobKey Key = new("ml", "train");
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"spotwise-same-{Guid.NewGuid():N}");

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_folder);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>The nine V100 zones of the sweep, or one of them.</summary>
    private static ZoneTraces LoadMarket(string? zoneFile)
    {
        var errors = new List<string>();
        var folder = Path.Combine(RepoPaths.Root, "data", "traces", "aws-v100");
        var market = zoneFile is null
            ? MarketLoader.FromDirectory(folder, new MarketSource(), ShippedData.Catalog, errors)
            : MarketLoader.FromFile(Path.Combine(folder, zoneFile), new MarketSource(), ShippedData.Catalog, errors);
        Assert.Empty(errors);
        return market!;
    }

    [Theory]
    // Nine zones, 20 h due in 30 h: preempted 5 to 8 times, the job moves between zones (spot is nearly always somewhere).
    [InlineData(null, 30.0, 3200)]
    [InlineData(null, 30.0, 6200)]
    [InlineData(null, 30.0, 15700)]
    // One zone, 20 h due in 26 h: spot comes and goes; the job waits, runs on-demand, comes back to spot, and the net catches it.
    [InlineData("us-east-1a_v100_1.json", 26.0, 10400)]
    [InlineData("us-east-1a_v100_1.json", 26.0, 13700)]
    public async Task The_service_and_the_simulation_make_the_same_decision_every_tick_and_pay_the_same(string? zoneFile, double deadlineHours, int startTick)
    {
        var market = LoadMarket(zoneFile);
        var scenario = new JobScenario(WorkHours, deadlineHours, OverheadHours, startTick) { FirstStartPaysChangeover = false };

        var simulated = ScenarioEngine.Run(market, scenario, new SpotwisePolicy(), recordTimeline: true);
        var (served, servedCost) = await ServeAsync(market, scenario, simulated.Timeline!.Placement.Count);

        Assert.False(simulated.MissedDeadline);
        var expected = simulated.Timeline.Placement.Select(Name).ToList();
        var differ = Enumerable.Range(0, Math.Min(expected.Count, served.Count)).FirstOrDefault(i => expected[i] != served[i], -1);
        Assert.True(differ < 0, differ < 0 ? null : $"tick {differ}: the simulation ran {expected[differ]}, the service {served[differ]}");
        Assert.Equal(expected, served);
        Assert.Equal(simulated.CostUsd, servedCost, 2);
        // The window has something to decide: the job is preempted and changes what it runs on.
        Assert.True(simulated.Preemptions > 0 && expected.Distinct().Count() > 1, string.Join(",", expected.Distinct()));
    }

    private static string Name(int placement) => placement switch
    {
        -1 => "on-demand",
        -2 => "idle",
        _ => $"spot@{placement}",
    };

    /// <summary>Runs the job through the service's parts; returns what it ran on at each tick from its start, and the cloud's bill.</summary>
    private async Task<(List<string> Ticks, double CostUsd)> ServeAsync(ZoneTraces market, JobScenario scenario, int ticks)
    {
        var clock = new VirtualClock(market.TimeOf(0));
        await using var store = await SqliteJobStore.OpenAsync(Path.Combine(_folder, $"jobs-{scenario.StartTick}.db"), CancellationToken.None);
        var cloud = new SimulatedCloud(new SimulatedCloudOptions
        {
            Catalog = market.Catalog,
            SpotTraces = market.CloudTraces,
            LaunchDelay = TimeSpan.Zero,
            InterruptionNotice = TimeSpan.Zero,
        }, clock);
        var feed = new TracePriceFeed(market.Catalog, market.CloudTraces);
        var scheduler = new Scheduler(store, feed, new CpSatPlanner(),
            new SchedulerOptions { Limits = CapacityLimits.None, Settings = PlanningSettings.Default with { LaunchAllowance = TimeSpan.Zero } }, clock, NullLogger<Scheduler>.Instance);
        using var loop = new ReconcileLoop(store, cloud, feed, clock, NullLogger<ReconcileLoop>.Instance, interval: market.Tick,
            history: new SpotAvailabilityHistory(market.Tick), launchAllowance: TimeSpan.Zero);

        var start = market.TimeOf(scenario.StartTick);
        var job = new Job
        {
            Id = Key.Id,
            DurationHours = scenario.WorkHours,
            EarliestStart = start,
            Deadline = start.AddHours(scenario.DeadlineHours),
            Checkpointable = true,
            CheckpointIntervalHours = 0,
            RestartOverheadHours = scenario.OverheadHours,
            Resources = ResourceRequest.ForInstanceTypes([market.InstanceType.Name]),
        };
        var decisions = new List<string>();
        for (var t = 0; t < scenario.StartTick + ticks; t++)
        {
            clock.MoveTo(market.TimeOf(t));
            if (t == scenario.StartTick - 1)
            {
                await store.SubmitAsync([new Submission(job, Key.Team, Key.Id)], clock.GetUtcNow(), CancellationToken.None);
                Assert.NotNull(await scheduler.RunCycleAsync(CancellationToken.None));
                var planned = await store.GetAsync(Key, CancellationToken.None);
                Assert.Equal((JobState.Planned, Market.Spot, start), (planned!.State, planned.Placement!.Market, planned.Placement.PlannedStart));
            }
            await loop.TickAsync(CancellationToken.None);
            if (t >= scenario.StartTick)
            {
                decisions.Add(RunningOn(market, await cloud.DescribeAsync(CancellationToken.None)));
            }
        }
        // Let the last attempt finish, then read the bill.
        clock.MoveTo(market.TimeOf(scenario.StartTick + ticks + 1));
        await loop.TickAsync(CancellationToken.None);
        Assert.Equal(JobState.Succeeded, (await store.GetAsync(Key, CancellationToken.None))!.State);
        return (decisions, (await cloud.DescribeAsync(CancellationToken.None)).Sum(i => i.CostSoFarUsd));
    }

    private static string RunningOn(ZoneTraces market, IReadOnlyList<InstanceStatus> instances)
    {
        var live = instances.Where(i => i.Job == Key && !i.IsEnded).ToList();
        Assert.True(live.Count <= 1, $"{live.Count} instances live at once");
        return live.SingleOrDefault() switch
        {
            null => "idle",
            { Market: Market.OnDemand } => "on-demand",
            var spot => $"spot@{market.Zones.IndexOf(spot.Zone)}",
        };
    }
}
