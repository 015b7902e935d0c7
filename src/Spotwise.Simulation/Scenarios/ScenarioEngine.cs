using System.Diagnostics;
using Spotwise.Core;
using Spotwise.Runtime.Policy;

namespace Spotwise.Simulation.Scenarios;

/// <summary>
/// Plays one policy through one scenario on the real <see cref="SimulatedCloud"/> in virtual time. At each tick boundary
/// the policy decides; a change becomes a Terminate and a Launch on the cloud (the launch carries the changeover as
/// work that saves nothing, so the cloud charges it like any running time). Preemptions, progress, finish and cost
/// are what the cloud reports. The engine asks the cloud only when something can have happened (a launch or
/// terminate, the running pool's capacity changing, the job finishing) — the cloud's answers do not depend on how
/// often it is asked — so a 70-hour job plays in well under a millisecond. See docs/simulation.md.
/// </summary>
public static class ScenarioEngine
{
    private const double Epsilon = 1e-9;

    public static RunResult Run(ZoneTraces market, JobScenario scenario, ISpotPolicy policy, bool recordTimeline = false)
    {
        var clock = new VirtualClock(market.TimeOf(scenario.StartTick));
        var cloud = new SimulatedCloud(new SimulatedCloudOptions
        {
            Catalog = market.Catalog,
            SpotTraces = market.CloudTraces,
            LaunchDelay = TimeSpan.Zero,
            InterruptionNotice = TimeSpan.Zero,
        }, clock);
        var run = new JobOnCloud(market, scenario, cloud, clock);
        var view = new PolicyView(market, scenario) { Current = Choice.Idle };
        var tickHours = market.TickHours;
        var plannerTicks = 0L;
        var placements = recordTimeline ? new List<int>() : null;
        var done = recordTimeline ? new List<double>() : null;
        var missed = false;

        for (var t = 0; ; t++)
        {
            var absolute = scenario.StartTick + t;
            if (absolute >= market.TickCount)
            {
                throw new InvalidOperationException($"the run reached the trace's end (tick {market.TickCount}) unfinished");
            }
            clock.MoveTo(market.TimeOf(absolute));
            run.ObserveBoundary(absolute);
            if (run.Finished)
            {
                break;
            }

            view.Tick = t;
            view.DoneHours = run.DoneHours(t);
            view.Current = run.Current;
            view.RemainingOverheadHours = run.RemainingOverheadHours(t);
            Choice choice;
            if (view.ElapsedHours >= scenario.DeadlineHours - Epsilon)
            {
                // Past the deadline the run is a miss whatever happens; finish it on on-demand so its cost is known.
                missed = true;
                choice = Choice.OnDemand;
            }
            else
            {
                var before = Stopwatch.GetTimestamp();
                choice = policy.Decide(view);
                plannerTicks += Stopwatch.GetTimestamp() - before;
            }
            run.Apply(choice, t);
            placements?.Add(run.Current.Kind switch { ChoiceKind.Spot => run.Current.Zone, ChoiceKind.OnDemand => -1, _ => -2 });
            done?.Add(view.DoneHours);
            run.PlayTick(t);
        }

        var finish = run.FinishHours;
        var onDemandCost = OnDemandCostUsd(market, scenario);
        return new RunResult(
            run.TotalCostUsd(),
            onDemandCost,
            AllSpotCostUsd(market, scenario),
            finish,
            missed || finish > scenario.DeadlineHours + 1e-6,
            run.Preemptions,
            run.Changeovers,
            run.SpotHours,
            run.OnDemandHours,
            Stopwatch.GetElapsedTime(0, plannerTicks).TotalSeconds,
            recordTimeline ? new RunTimeline(scenario.StartTick, placements!, done!) : null);
    }

    /// <summary>What running on on-demand from start to finish costs: the work and one changeover.</summary>
    public static double OnDemandCostUsd(ZoneTraces market, JobScenario scenario) =>
        (scenario.WorkHours + scenario.OverheadHours) * market.OnDemandPricePerHourUsd;

    /// <summary>
    /// The job's work at the spot price with no interruption: the mean spot price over the job's window in the zone
    /// that is cheapest on average there, times the work.
    /// </summary>
    public static double AllSpotCostUsd(ZoneTraces market, JobScenario scenario)
    {
        var from = scenario.StartTick;
        var to = Math.Min(market.TickCount, from + scenario.TicksToDeadline(market));
        var best = double.MaxValue;
        for (var z = 0; z < market.ZoneCount; z++)
        {
            var sum = 0.0;
            for (var t = from; t < to; t++)
            {
                sum += market.SpotPrice(z, t);
            }
            best = Math.Min(best, sum / Math.Max(1, to - from));
        }
        return best * scenario.WorkHours;
    }

    /// <summary>The job's side of the conversation with the cloud: the live instance, progress, counters.</summary>
    private sealed class JobOnCloud(ZoneTraces market, JobScenario scenario, SimulatedCloud cloud, VirtualClock clock)
    {
        /// <summary>The one job a scenario plays, as the cloud knows it.</summary>
        private static readonly JobKey Job = new("scenario", "job");

        private readonly double _tick = market.TickHours;
        private string? _instanceId;
        private int _launchTick;
        private double _doneAtLaunch;
        private double _done;
        private int _attempt;
        private double _changeover;
        private bool _finishesThisTick;

        public Choice Current { get; private set; } = Choice.Idle;

        public bool Finished { get; private set; }

        public double FinishHours { get; private set; }

        public int Preemptions { get; private set; }

        public int Changeovers { get; private set; }

        public double SpotHours { get; private set; }

        public double OnDemandHours { get; private set; }

        /// <summary>Work kept as of the start of tick <paramref name="t"/>.</summary>
        public double DoneHours(int t) =>
            _instanceId is null ? _done : Math.Min(scenario.WorkHours, _doneAtLaunch + Math.Max(0, ((t - _launchTick) * _tick) - _changeover));

        public double RemainingOverheadHours(int t) =>
            _instanceId is null ? 0 : Math.Max(0, _changeover - ((t - _launchTick) * _tick));

        /// <summary>At a tick boundary: learn from the cloud what ended (a preemption as capacity went, or the work finishing).</summary>
        public void ObserveBoundary(int absoluteTick)
        {
            if (_instanceId is null)
            {
                return;
            }
            var capacityWent = Current.Kind == ChoiceKind.Spot && absoluteTick > 0
                && market.Available(Current.Zone, absoluteTick - 1) && !market.Available(Current.Zone, absoluteTick);
            if (!capacityWent && !_finishesThisTick)
            {
                return;
            }
            var status = Status();
            if (_finishesThisTick && status.State == InstanceState.Running)
            {
                // The finish moment is the boundary give or take TimeSpan's 100 ns rounding: look a moment later.
                clock.MoveTo(clock.GetUtcNow() + TimeSpan.FromMilliseconds(1));
                status = Status();
            }
            if (status.State == InstanceState.Succeeded)
            {
                Close(status);
                Finished = true;
                FinishHours = (status.EndedAt!.Value - market.TimeOf(scenario.StartTick)).TotalHours;
            }
            else if (status.State == InstanceState.Interrupted)
            {
                Preemptions++;
                Close(status);
            }
        }

        public void Apply(Choice choice, int t)
        {
            if (choice.Kind == ChoiceKind.Spot && (uint)choice.Zone >= (uint)market.ZoneCount)
            {
                throw new InvalidOperationException($"the policy chose spot in zone {choice.Zone}; the market has {market.ZoneCount}");
            }
            if (choice == Current)
            {
                return;
            }
            if (_instanceId is not null)
            {
                cloud.Terminate(_instanceId);
                Close(Status());
            }
            if (!choice.IsRunning)
            {
                return;
            }
            _attempt++;
            _changeover = _attempt == 1 && !scenario.FirstStartPaysChangeover ? 0 : scenario.OverheadHours;
            var zone = choice.Kind == ChoiceKind.Spot ? market.Zones[choice.Zone] : market.OnDemandZone;
            var kind = choice.Kind == ChoiceKind.Spot ? Market.Spot : Market.OnDemand;
            var request = new LaunchRequest(ClientTokens.For(Job, _attempt), Job.Team, Job.Id, _attempt, kind, market.InstanceType.Name, zone,
                WorkHours: scenario.WorkHours - _done + _changeover, Checkpointable: true, CheckpointIntervalHours: 0, Command: null);
            var status = cloud.Launch(request);
            if (status.IsEnded)
            {
                // No spot capacity: the cloud refused at once and charged nothing; the job stays idle.
                return;
            }
            Changeovers++;
            _instanceId = status.InstanceId;
            _launchTick = t;
            _doneAtLaunch = _done;
            Current = choice;
        }

        /// <summary>Plays the coming tick: only whether the work finishes within it matters to the engine.</summary>
        public void PlayTick(int t)
        {
            _finishesThisTick = _instanceId is not null && DoneHours(t + 1) >= scenario.WorkHours - Epsilon;
        }

        public double TotalCostUsd() =>
            cloud.Describe().Sum(s => s.CostSoFarUsd);

        private InstanceStatus Status() =>
            cloud.Describe().Single(s => s.InstanceId == _instanceId);

        // The instance ended (preempted, stopped, or done): keep the progress it saved beyond its changeover.
        private void Close(InstanceStatus status)
        {
            var running = status.RunningSince is { } since ? ((status.EndedAt ?? clock.GetUtcNow()) - since).TotalHours : 0;
            if (Current.Kind == ChoiceKind.Spot)
            {
                SpotHours += running;
            }
            else
            {
                OnDemandHours += running;
            }
            _done = Math.Min(scenario.WorkHours, _doneAtLaunch + Math.Max(0, status.SavedProgressHours - _changeover));
            _instanceId = null;
            _finishesThisTick = false;
            Current = Choice.Idle;
        }
    }
}
