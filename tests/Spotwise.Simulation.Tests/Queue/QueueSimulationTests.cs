using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Planning;
using Spotwise.Runtime;
using Spotwise.Runtime.Traces;
using Spotwise.Simulation.Queue;
using static Spotwise.Runtime.Tests.SimTestData;

namespace Spotwise.Simulation.Tests.Queue;

/// <summary>Whole queues through the real Scheduler, ReconcileLoop and SimulatedCloud in virtual time.</summary>
public sealed class QueueSimulationTests
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    /// <summary>V100 jobs due <paramref name="deadlineHours"/> after their arrival, arriving every 10 minutes.</summary>
    private static List<Job> V100Jobs(int count, double hours, double deadlineHours, bool checkpointable = true) =>
        [.. Enumerable.Range(0, count).Select(i => new Job
        {
            Id = $"job-{i:D2}",
            EarliestStart = T0.AddMinutes(10 * i),
            Deadline = T0.AddMinutes(10 * i).AddHours(deadlineHours),
            DurationHours = hours,
            Resources = ResourceRequest.ForInstanceTypes([V100]),
            Checkpointable = checkpointable,
        })];

    /// <summary>Two zones of V100 spot with <paramref name="available"/> per 5-minute tick, and prices.</summary>
    private static List<SpotTrace> TwoZones(int[] available) =>
    [
        Trace(5, available, [.. available.Select(_ => 1.0)], zone: "us-test-1a"),
        Trace(5, available, [.. available.Select(_ => 0.9)], zone: "us-test-1b"),
    ];

    private static QueueScenario Scenario(IReadOnlyList<Job> jobs, IReadOnlyList<SpotTrace> traces) => new()
    {
        Jobs = jobs,
        Catalog = TestCatalog,
        SpotTraces = traces,
        Planner = GreedyPlanner.PlannerName,
        Limits = CapacityLimits.None,
        Start = T0,
    };

    [Fact]
    public async Task A_small_queue_finishes_every_job_on_spot_by_its_deadline()
    {
        // Too little slack to wait 3 h for the cheaper zone to free up.
        var jobs = V100Jobs(6, hours: 3, deadlineHours: 5);

        var result = await QueueSimulation.RunAsync(Scenario(jobs, TwoZones(Repeat((4, 24 * 12)))), null, Ct);

        Assert.All(result.Outcomes, o => Assert.Equal(JobState.Succeeded, o.State));
        Assert.Equal(0, result.DeadlineMisses);
        Assert.All(result.Outcomes, o => Assert.Equal([Market.Spot], o.Markets));
        // The planner fills the cheaper zone first (its trace holds 4 instances), then the other.
        Assert.Equal(4, result.Outcomes.Count(o => o.Zone == "us-test-1b"));
        Assert.Equal(2, result.Outcomes.Count(o => o.Zone == "us-test-1a"));
        Assert.InRange(result.TotalCostUsd, (4 * 3 * 0.9) + (2 * 3 * 1.0) - 1e-6, (4 * 3 * 0.9) + (2 * 3 * 1.0) + 1e-6);
        Assert.True(result.TotalCostUsd < result.OnDemandBaselineCostUsd);
        Assert.True(result.VirtualDuration >= TimeSpan.FromHours(3.8), $"virtual {result.VirtualDuration}");
        Assert.True(result.Cycles > 0);
    }

    [Fact]
    public async Task With_slack_to_wait_the_planner_keeps_every_job_in_the_cheaper_zone()
    {
        // The same queue due 8 h after arrival: the last two wait for the cheaper zone's instances instead of the dearer zone.
        var jobs = V100Jobs(6, hours: 3, deadlineHours: 8);

        var result = await QueueSimulation.RunAsync(Scenario(jobs, TwoZones(Repeat((4, 24 * 12)))), null, Ct);

        Assert.Equal(0, result.DeadlineMisses);
        Assert.All(result.Outcomes, o => Assert.Equal("us-test-1b", o.Zone));
        Assert.All(result.Outcomes, o => Assert.Equal([Market.Spot], o.Markets));
        Assert.Equal(0, result.SpotRefusals);
    }

    [Fact]
    public async Task Spot_taken_away_mid_run_interrupts_jobs_that_finish_on_on_demand_by_their_deadlines()
    {
        // Spot for the first 2 hours only, in both zones; 4 h of work each, due 6 h after arrival.
        var jobs = V100Jobs(4, hours: 4, deadlineHours: 6, checkpointable: true);

        var result = await QueueSimulation.RunAsync(Scenario(jobs, TwoZones(Repeat((2, 24), (0, 24 * 12)))), null, Ct);

        Assert.Equal(0, result.DeadlineMisses);
        Assert.Equal(4, result.Interruptions);
        Assert.All(result.Outcomes, o => Assert.Equal([Market.Spot, Market.OnDemand], o.Markets));
        Assert.All(result.Outcomes, o => Assert.True(o.Finish <= o.Deadline, $"{o.JobId} finished {o.Finish}, due {o.Deadline}"));
        // Each kept its checkpointed work: the on-demand part is less than the whole job.
        Assert.True(result.TotalCostUsd < 4 * 4 * 3.06, $"cost {result.TotalCostUsd}");
    }

    [Fact]
    public async Task A_spot_job_that_falls_behind_its_safety_net_moment_moves_to_on_demand_and_meets_the_deadline()
    {
        // 4 h of work, checkpoints every hour, due exactly when a spot start still is safe (4 h + 0.1 h restart + 1 h
        // of work that can be lost). With no launch allowance the planner ignores the 90 s boot, which puts the job
        // behind: at 1:00 its first checkpoint is 90 s away and the safety-net moment (deadline - restart - work not
        // saved) has come. Spot never goes; the net moves it anyway.
        List<Job> jobs = [new Job
        {
            Id = "train", DurationHours = 4, Deadline = T0.AddHours(5.1), Checkpointable = true, CheckpointIntervalHours = 1,
            Resources = ResourceRequest.ForInstanceTypes([V100]),
        }];

        var result = await QueueSimulation.RunAsync(Scenario(jobs, TwoZones(Repeat((1, 24 * 12)))) with { LaunchAllowance = TimeSpan.Zero }, null, Ct);

        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal([Market.Spot, Market.OnDemand], outcome.Markets);
        Assert.Equal((0, 1), (result.Interruptions, result.Fallbacks));
        Assert.True(outcome.MetDeadline, $"finished {outcome.Finish}, due {outcome.Deadline}");
        // The net moves it half a decision tick (30 s) before the fallback moment less the 90 s boot, at 0:58: 56.5 minutes
        // of spot (nothing saved), then the whole job on on-demand after the restart's changeover (0.1 h, paid).
        Assert.Equal((56.5 / 60 * 0.9) + ((4 + 0.1) * 3.06), outcome.CostUsd, 6);
    }

    [Fact]
    public async Task Jobs_due_right_after_their_work_meet_the_deadline_because_the_planner_allows_for_the_boot()
    {
        // Due 5 minutes after their work would end if it started at once: a 90 s boot the planner ignored made such
        // jobs miss by the boot time; with the launch allowance they start on time and finish before the deadline.
        var jobs = V100Jobs(4, hours: 2, deadlineHours: 2 + (5.0 / 60));

        var ignored = await QueueSimulation.RunAsync(Scenario(jobs, TwoZones(Repeat((4, 24 * 12)))) with { LaunchAllowance = TimeSpan.Zero, LaunchDelay = TimeSpan.FromMinutes(6) }, null, Ct);
        var allowed = await QueueSimulation.RunAsync(Scenario(jobs, TwoZones(Repeat((4, 24 * 12)))) with { LaunchAllowance = TimeSpan.FromMinutes(2) }, null, Ct);

        Assert.Equal(4, ignored.DeadlineMisses);
        Assert.Equal(0, allowed.DeadlineMisses);
    }

    [Fact]
    public async Task The_on_demand_policy_costs_the_on_demand_price_of_every_job_for_its_duration()
    {
        var jobs = V100Jobs(5, hours: 2, deadlineHours: 6);
        jobs.Add(new Job { Id = "cpu", DurationHours = 1.5, Resources = ResourceRequest.ForInstanceTypes([Cpu]), Deadline = T0.AddHours(5) });

        var result = await QueueSimulation.RunAsync(Scenario(jobs, TwoZones(Repeat((4, 24 * 12)))) with { Policy = QueuePolicy.OnDemand }, null, Ct);

        var expected = (5 * 2 * 3.06) + (1.5 * 0.096);
        Assert.Equal(expected, result.OnDemandBaselineCostUsd, 9);
        Assert.Equal(expected, result.TotalCostUsd, 9);
        Assert.Equal(0, result.SavingsPct, 9);
        Assert.All(result.Outcomes, o => Assert.Equal([Market.OnDemand], o.Markets));
        Assert.Equal(0, result.DeadlineMisses);
    }

    [Theory]
    [InlineData(GreedyPlanner.PlannerName)]
    [InlineData(CpSatPlanner.PlannerName)]
    public async Task A_run_is_the_same_for_the_same_seed_and_differs_for_another(string planner)
    {
        var jobs = V100Jobs(8, hours: 2, deadlineHours: 5);
        var traces = TwoZones(Repeat((3, 10), (1, 7), (0, 5), (2, 30), (0, 20), (3, 24 * 12)));
        var scenario = Scenario(jobs, traces) with { DurationNoiseFraction = 0.2, Seed = 7, Planner = planner };

        var first = await QueueSimulation.RunAsync(scenario, null, Ct);
        var second = await QueueSimulation.RunAsync(scenario, null, Ct);
        var other = await QueueSimulation.RunAsync(scenario with { Seed = 8 }, null, Ct);

        Assert.Equal(Describe(first), Describe(second));
        Assert.NotEqual(Describe(first), Describe(other));
    }

    [Fact]
    public async Task The_run_stops_at_the_horizon_and_reports_every_unfinished_job_as_missed()
    {
        // 10 hours of work due in 2 cannot be planned; 10 hours with no deadline is still running at the horizon.
        List<Job> jobs =
        [
            new Job { Id = "hopeless", DurationHours = 10, Deadline = T0.AddHours(2), Resources = ResourceRequest.ForInstanceTypes([V100]) },
            new Job { Id = "endless", DurationHours = 10, Resources = ResourceRequest.ForInstanceTypes([Cpu]) },
        ];

        var result = await QueueSimulation.RunAsync(Scenario(jobs, TwoZones(Repeat((4, 12)))) with { Horizon = T0.AddHours(4) }, null, Ct);

        Assert.Equal(TimeSpan.FromHours(4), result.VirtualDuration);
        Assert.Equal(2, result.DeadlineMisses);
        var hopeless = result.Outcomes.Single(o => o.JobId == "hopeless");
        var endless = result.Outcomes.Single(o => o.JobId == "endless");
        Assert.Equal((JobState.Failed, false), (hopeless.State, hopeless.MetDeadline));
        Assert.Equal((JobState.Running, false), (endless.State, endless.MetDeadline));
        Assert.Contains("still running", endless.LastError, StringComparison.Ordinal);
        // Billed up to the horizon: 4 h less the boot, on spot (the cheaper market for a job with all the time it needs).
        Assert.Equal((4 - 0.025) * 0.04, endless.CostUsd, 6);
    }

    [Fact]
    public async Task Progress_is_reported_up_to_every_job_done()
    {
        var seen = new List<QueueProgress>();
        var progress = new SyncProgress(seen.Add);

        await QueueSimulation.RunAsync(Scenario(V100Jobs(3, 1, 4), TwoZones(Repeat((4, 24 * 12)))), progress, Ct);

        Assert.Equal(3, seen[^1].JobsDone);
        Assert.Equal(3, seen[^1].Jobs);
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First.JobsDone <= p.Second.JobsDone && p.First.VirtualNow <= p.Second.VirtualNow));
    }

    [Fact]
    public async Task A_bad_scenario_is_refused_naming_each_field()
    {
        var bad = Scenario([], []) with { Planner = "magic", CycleInterval = TimeSpan.Zero };

        var e = await Assert.ThrowsAsync<ArgumentException>(() => QueueSimulation.RunAsync(bad, null, Ct));

        Assert.Contains("Jobs", e.Message, StringComparison.Ordinal);
        Assert.Contains("'magic'", e.Message, StringComparison.Ordinal);
        Assert.Contains("CycleInterval", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task On_the_alibaba_sample_and_the_v100_traces_spotwise_costs_less_than_on_demand()
    {
        var start = new DateTimeOffset(2023, 2, 15, 0, 0, 0, TimeSpan.Zero);
        var jobs = JobsFile.Parse(File.ReadAllText(RepoPaths.Sample("alibaba-200.json")), start, ShippedData.Catalog).Value;
        var traces = SpotTraceFile.ReadDirectory(TraceFiles.V100Directory, V100, start);
        var scenario = new QueueScenario { Jobs = jobs, Catalog = ShippedData.Catalog, SpotTraces = traces, Start = start, Planner = GreedyPlanner.PlannerName };

        var result = await QueueSimulation.RunAsync(scenario, null, Ct);

        Assert.Equal(200, result.Jobs);
        Assert.True(result.TotalCostUsd < result.OnDemandBaselineCostUsd, $"{result.TotalCostUsd} vs {result.OnDemandBaselineCostUsd}");
        Assert.True(result.SavingsPct > 20, $"savings {result.SavingsPct:0.0}%");
    }

    private static string Describe(QueueSimulationResult r) => string.Join("\n",
        r.Outcomes.Select(o => FormattableString.Invariant(
            $"{o.JobId} {o.State} {string.Join("/", o.Markets)} {o.Zone} {o.Start:O} {o.Finish:O} {o.CostUsd:R} {o.Attempts}")));

    /// <summary>Reports on the caller's thread (Progress&lt;T&gt; posts to the thread pool).</summary>
    private sealed class SyncProgress(Action<QueueProgress> report) : IProgress<QueueProgress>
    {
        public void Report(QueueProgress value) => report(value);
    }
}
