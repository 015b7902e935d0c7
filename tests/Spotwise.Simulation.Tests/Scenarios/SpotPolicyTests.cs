using Spotwise.Runtime.Policy;
using Spotwise.Runtime.Traces;
using Spotwise.Simulation.Scenarios;
using Spotwise.Simulation.Scenarios.Policies;

namespace Spotwise.Simulation.Tests.Scenarios;

/// <summary>
/// The shipped policy (<see cref="SpotPolicy"/>, what <c>serve</c> runs) on the real V100 traces: it decides from the past
/// alone, misses no deadline, is not costlier than uniform progress, and its patience never outruns the safety net.
/// </summary>
public class SpotPolicyTests
{
    private static readonly string Folder = Path.Combine(RepoPaths.Root, "data", "traces", "aws-v100");

    private static SpotTrace Zone(string zone) =>
        SpotTraceFile.Read(Path.Combine(Folder, $"{zone}_v100_1.json"), Markets.Type.Name, ZoneTraces.Origin);

    private static ZoneTraces Market(SpotTrace trace) => new([trace], Markets.Type, 3.06, 0.9731);

    private static RunResult Play(ZoneTraces market, JobScenario scenario) =>
        ScenarioEngine.Run(market, scenario, new SpotwisePolicy(), recordTimeline: true);

    [Theory]
    [InlineData("us-east-1c", 52)]
    [InlineData("us-east-1d", 70)]
    [InlineData("us-east-2b", 70)]
    public void A_scrambled_future_leaves_every_decision_before_it_unchanged(string zone, double deadlineHours)
    {
        var trace = Zone(zone);
        var market = Market(trace);
        var starts = SimulationSweep.DrawStarts(market, deadlineHours, 6, seed: 5);
        var differedAfterTheCut = 0;
        foreach (var start in starts)
        {
            var scenario = new JobScenario(48, deadlineHours, 0.05, start);
            var played = Play(market, scenario).Timeline!;
            foreach (var cut in new[] { 40, 300, 700 })
            {
                // Everything from the cut on (absolute tick start + cut) is shuffled: the same share of spot, another future.
                var scrambled = Market(Scramble(trace, start + cut, seed: cut + start));
                var replayed = Play(scrambled, scenario).Timeline!;

                var before = Math.Min(cut, Math.Min(played.Placement.Count, replayed.Placement.Count));
                Assert.Equal(played.Placement.Take(before), replayed.Placement.Take(before));
                Assert.Equal(played.DoneHours.Take(before), replayed.DoneHours.Take(before));
                if (!played.Placement.SequenceEqual(replayed.Placement))
                {
                    differedAfterTheCut++;
                }
            }
        }
        // The scrambling did change the future: otherwise the test above would prove nothing.
        Assert.True(differedAfterTheCut > 0);
    }

    [Theory]
    [InlineData(52, 0.1)]
    [InlineData(70, 0.02)]
    [InlineData(70, 0.1)]
    public void On_a_sweep_of_real_zones_it_misses_no_deadline_and_costs_no_more_than_uniform_progress(double deadlineHours, double overheadHours)
    {
        double spotwise = 0, uniform = 0;
        foreach (var zone in new[] { "us-east-1a", "us-east-1f", "us-east-2a", "us-west-2b" })
        {
            var market = Market(Zone(zone));
            var scenarios = SimulationSweep.DrawStarts(market, deadlineHours, 12, seed: 1).Select(s => new JobScenario(48, deadlineHours, overheadHours, s)).ToList();
            var results = SimulationSweep.Run(market, scenarios, [SpotwisePolicy.Name, UniformProgressPolicy.Name]);

            Assert.All(results[SpotwisePolicy.Name], r => Assert.False(r.MissedDeadline, $"{zone}: finished at {r.FinishHours:0.00} h"));
            spotwise += results[SpotwisePolicy.Name].Sum(r => r.CostUsd);
            uniform += results[UniformProgressPolicy.Name].Sum(r => r.CostUsd);
        }
        Assert.True(spotwise <= uniform * 1.01, $"spotwise ${spotwise:0.00} against uniform progress ${uniform:0.00}");
    }

    [Fact]
    public void A_patient_job_waiting_out_an_outage_is_still_caught_by_the_safety_net()
    {
        // Lots of slack (a 70 h deadline for 48 h of work), spot for 30 h and then never again: the policy waits while it
        // may, and the net must move it to on-demand in time.
        var ticks = (int)Math.Ceiling(24 * 8 / 0.25) + 400;
        var history = new string('1', 24 * 7 * 4);
        var market = Markets.Of(history + new string('1', 30 * 4) + new string('0', ticks - history.Length - (30 * 4)), tickHours: 0.25);
        var scenario = new JobScenario(48, 70, 0.1, history.Length);

        var run = Play(market, scenario);

        Assert.False(run.MissedDeadline, $"finished at {run.FinishHours:0.00} h");
        Assert.True(run.OnDemandHours > 17, $"on-demand {run.OnDemandHours:0.00} h: the 18 h spot could not give must come from on-demand");
        var timeline = run.Timeline!;
        // It waited after spot went (slack to spend), then ran on on-demand to the end without leaving it.
        var firstOnDemand = timeline.Placement.ToList().IndexOf(-1);
        Assert.True(firstOnDemand > 30 * 4 + 1, $"moved to on-demand at tick {firstOnDemand}, as soon as spot went");
        Assert.All(timeline.Placement.Skip(firstOnDemand), p => Assert.Equal(-1, p));
    }

    [Fact]
    public void A_patience_longer_than_the_slack_still_waits_at_the_start_of_an_outage()
    {
        // A week of 4 h spells and 4 h outages, then 10 h of work due in 14 h, starting as an outage begins. Half of the
        // time ahead is spot, so about 3 h must come from on-demand; θ for that is near 7 h of outage, more than the 3.7 h
        // of slack. Covering at once whenever θ ≥ slack was measured and left out: most outages end long before θ, and at
        // 70 h it gave back 12 points of the gap closed (docs/benchmarks.md). The job waits, and misses nothing.
        var cycle = new string('1', 16) + new string('0', 16);
        var week = string.Concat(Enumerable.Repeat(cycle, 21));
        var market = Markets.Of(week + string.Concat(Enumerable.Repeat(cycle, 4)), tickHours: 0.25);
        var scenario = new JobScenario(10, 14, 0.05, week.Length + 16);

        var run = Play(market, scenario);

        Assert.False(run.MissedDeadline, $"finished at {run.FinishHours:0.00} h");
        Assert.Equal([-2, -2], run.Timeline!.Placement.Take(2));
    }

    private static SpotTrace Scramble(SpotTrace trace, int from, int seed)
    {
        var available = trace.Available.ToArray();
        new Random(seed).Shuffle(available.AsSpan(from));
        return new SpotTrace(trace.Zone, trace.InstanceType, trace.StartTime, trace.Tick, [.. available], trace.SpotPricesPerHourUsd);
    }
}
