using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime.Policy;
using Spotwise.Runtime.Reconciliation;
using Spotwise.Runtime.Traces;

namespace Spotwise.Simulation.Queue;

/// <summary>
/// One run of <see cref="QueueSimulation"/>: the service's parts wired as <c>spotwise serve</c> wires them (the traces'
/// prices fed to the planner through <see cref="TracePriceFeed"/>), on a <see cref="VirtualClock"/>, and the loop that
/// moves the clock. At each moment it does what the service's loops would have done by then: submit the jobs that
/// arrived, reconcile, plan when something asks for it, reconcile again.
/// </summary>
internal sealed class QueueRun : IDisposable
{
    private static readonly JobState[] Unfinished = [JobState.Queued, JobState.Planned, JobState.Launching, JobState.Running, JobState.Interrupted];

    private readonly QueueScenario _scenario;
    private readonly IJobStore _store;
    private readonly IProgress<QueueProgress>? _progress;
    private readonly VirtualClock _clock;
    private readonly DateTimeOffset _horizon;
    private readonly SimulatedCloud _cloud;
    private readonly RegionalSpotPlacement _compute;
    private readonly Scheduler _scheduler;
    private readonly ReconcileLoop _loop;
    private readonly RuntimeCounters _counters = new();
    private readonly ILookup<string, SpotTrace> _tracesByType;
    private readonly TimeSpan _policyTick;
    private readonly Queue<(DateTimeOffset At, Job Job)> _arrivals;
    private readonly List<double> _solveSeconds = [];

    /// <summary>
    /// Jobs (by planning id) the plans have left unplanned since they last placed them, with the first such plan's
    /// reason: the one <c>spotwise plan</c> gives at that clock (later cycles only repeat it, at a later moment).
    /// </summary>
    private readonly Dictionary<string, string> _unplanned = new(StringComparer.Ordinal);
    private bool _replan;
    private bool _acted;
    private DateTimeOffset? _lastCycle;
    private int _done = -1;

    public QueueRun(QueueScenario scenario, IJobStore store, IProgress<QueueProgress>? progress)
    {
        _scenario = scenario;
        _store = store;
        _progress = progress;
        _clock = new VirtualClock(scenario.Start);
        _horizon = scenario.EffectiveHorizon;
        _arrivals = new(Arrivals(scenario));

        var tracedTypes = scenario.SpotTraces.Select(t => t.InstanceType).ToHashSet(StringComparer.Ordinal);
        var drawn = scenario.BandInterruptions
            ? BandInterruptionTraces.For(scenario.Catalog, [.. scenario.Jobs], tracedTypes, scenario.Start, _horizon, scenario.BandOutage, scenario.Seed)
            : [];
        _cloud = new SimulatedCloud(new SimulatedCloudOptions
        {
            Catalog = scenario.Catalog,
            SpotTraces = [.. scenario.SpotTraces, .. drawn],
            LaunchDelay = scenario.LaunchDelay,
            DurationNoiseFraction = scenario.DurationNoiseFraction,
            Seed = scenario.Seed,
        }, _clock);
        _compute = new RegionalSpotPlacement(_cloud, scenario.SpotTraces.Where(t => t.Zone != scenario.Catalog.Region), _clock);

        var prices = new TracePriceFeed(scenario.Catalog, scenario.SpotTraces);
        var backoff = new SpotBackoff();
        var limits = scenario.Policy == QueuePolicy.OnDemand ? QueueSimulation.WithoutSpot(scenario.Limits) : scenario.Limits;
        _scheduler = new Scheduler(_store, prices, Planners.Create(scenario.Planner)!, new SchedulerOptions { Limits = limits, Solve = scenario.Solve, Settings = scenario.PlanningSettings },
            _clock, NullLogger<Scheduler>.Instance, _counters, backoff);
        var history = new SpotAvailabilityHistory(SpotAvailabilityHistory.DefaultTick);
        _policyTick = history.Tick;
        _tracesByType = scenario.SpotTraces.ToLookup(t => t.InstanceType, StringComparer.Ordinal);
        // The safety net leaves the cloud's real boot free, whatever allowance the planner was told to make.
        _loop = new ReconcileLoop(_store, _compute, prices, _clock, NullLogger<ReconcileLoop>.Instance, counters: _counters, backoff: backoff,
            limits: limits, history: history, launchAllowance: scenario.LaunchDelay);
        _loop.ReplanNeeded += (_, _) => _replan = true;
    }

    public void Dispose() => _loop.Dispose();

    public async Task PlayAsync(CancellationToken ct)
    {
        var now = _scenario.Start;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            _clock.MoveTo(now);
            await StepAsync(now, ct);
            var unfinished = await _store.ListAsync(new JobQuery(States: Unfinished), ct);
            await ReportAsync(now, ct);
            if ((_arrivals.Count == 0 && unfinished.Count == 0) || now >= _horizon)
            {
                return;
            }
            var next = await NextMomentAsync(now, unfinished, ct);
            now = next < _horizon ? next : _horizon;
        }
    }

    /// <summary>What the service's loops would have done by <paramref name="now"/>.</summary>
    private async Task StepAsync(DateTimeOffset now, CancellationToken ct)
    {
        var arrived = new List<Job>();
        while (_arrivals.TryPeek(out var next) && next.At <= now)
        {
            arrived.Add(_arrivals.Dequeue().Job);
        }
        if (arrived.Count > 0)
        {
            await _store.SubmitAsync([.. arrived.Select(j => new Submission(j, KeyOf(j).Team, j.Id))], now, ct);
        }
        await _loop.TickAsync(ct);
        if (arrived.Count > 0 || _replan || await PeriodicCycleDueAsync(now, ct))
        {
            _replan = false;
            _lastCycle = now;
            if (await _scheduler.RunCycleAsync(ct) is { } plan)
            {
                _solveSeconds.Add(plan.Totals.SolveSeconds);
                Remember(plan);
            }
        }
        _acted = (await _loop.TickAsync(ct)).Count > 0;
    }

    private void Remember(Plan plan)
    {
        foreach (var a in plan.Schedule)
        {
            _unplanned.Remove(a.JobId);
        }
        foreach (var u in plan.Unplanned)
        {
            _unplanned.TryAdd(u.JobId, u.Reason);
        }
    }

    // The service plans on a timer too; only jobs still waiting for a place can gain from it.
    private async Task<bool> PeriodicCycleDueAsync(DateTimeOffset now, CancellationToken ct) =>
        (_lastCycle is null || now >= _lastCycle + _scenario.CycleInterval)
        && (await _store.ListAsync(new JobQuery(States: [JobState.Queued, JobState.Planned]), ct)).Any(j => IsWaiting(j, now));

    /// <summary>Not placed yet, or placed to start later: what a planning cycle may still move.</summary>
    private static bool IsWaiting(JobRecord job, DateTimeOffset now) =>
        job.State == JobState.Queued || (job.State == JobState.Planned && job.Placement!.PlannedStart > now);

    /// <summary>
    /// The next moment anything can happen: an arrival, a planned start, a change in the cloud (boot done, work done,
    /// notice, capacity change), a safety-net moment, a deadline that fails a waiting job, the next planning cycle while
    /// jobs wait, or the reconciler's next look after it acted. Always after <paramref name="now"/>.
    /// </summary>
    private async Task<DateTimeOffset> NextMomentAsync(DateTimeOffset now, IReadOnlyList<JobRecord> unfinished, CancellationToken ct)
    {
        var candidates = new List<DateTimeOffset?> { _horizon, _cloud.NextChange() };
        if (_arrivals.TryPeek(out var arrival))
        {
            candidates.Add(arrival.At);
        }
        if (_acted || _replan)
        {
            candidates.Add(now + _scenario.ReconcileInterval);
        }
        var instances = (await _compute.DescribeAsync(ct)).ToDictionary(i => i.ClientToken, StringComparer.Ordinal);
        var waiting = false;
        foreach (var job in unfinished)
        {
            switch (job.State)
            {
                case JobState.Queued or JobState.Planned:
                    waiting |= IsWaiting(job, now);
                    candidates.Add(job.Placement?.PlannedStart);
                    // The reconciler fails a waiting job once its deadline has passed.
                    candidates.Add(job.Job.Deadline?.AddTicks(1));
                    if (job.State == JobState.Planned && job.Placement is { Market: Market.Spot } due && due.PlannedStart <= now)
                    {
                        AddPolicyMoments(candidates, job, null, now);
                    }
                    break;
                case JobState.Launching or JobState.Running or JobState.Interrupted:
                    AddPolicyMoments(candidates, job, instances.GetValueOrDefault(ClientTokens.For(job.Key, job.Attempt)), now);
                    break;
            }
        }
        if (waiting)
        {
            candidates.Add((_lastCycle ?? now) + _scenario.CycleInterval);
        }
        return candidates.Where(c => c > now).Select(c => c!.Value).DefaultIfEmpty(_horizon).Min();
    }

    /// <summary>
    /// When the spot policy may change its mind about a job it owns: a change of capacity in a pool of its type (spot
    /// comes back, or goes), and the safety net's moment (one decision ahead of the fallback moment, and the moment).
    /// </summary>
    private void AddPolicyMoments(List<DateTimeOffset?> candidates, JobRecord job, InstanceStatus? instance, DateTimeOffset now)
    {
        foreach (var trace in _tracesByType[job.Placement?.InstanceType ?? ""])
        {
            candidates.Add(trace.NextChange(now));
        }
        if (SafetyNet.FallbackMoment(job.Job, JobProgress.SavedHours(job, instance), _scenario.LaunchDelay) is { } fallback)
        {
            // The net moves a job when the next decision (a tick on) would come too late: looking half a tick before
            // the fallback moment catches it with margin; the moment itself is the backstop.
            candidates.Add(fallback - (_policyTick / 2));
            candidates.Add(fallback);
        }
    }

    private async Task ReportAsync(DateTimeOffset now, CancellationToken ct)
    {
        if (_progress is null)
        {
            return;
        }
        var counts = await _store.CountByStateAsync(null, ct);
        var done = counts.Where(c => c.Key.IsFinal()).Sum(c => c.Value);
        if (done != _done)
        {
            _done = done;
            _progress.Report(new QueueProgress(now, done, _scenario.Jobs.Count));
        }
    }

    public async Task<QueueSimulationResult> ResultAsync(TimeSpan wallTime, CancellationToken ct)
    {
        var end = _clock.GetUtcNow();
        var instances = (await _cloud.DescribeAsync(ct)).ToLookup(i => i.Job);
        var records = (await _store.ListAsync(new JobQuery(), ct)).ToDictionary(r => r.Key);
        var outcomes = _scenario.Jobs.Select(j => Outcome(j, records.GetValueOrDefault(KeyOf(j)), [.. instances[KeyOf(j)].OrderBy(i => i.Attempt)], end) with
        {
            UnplannedReason = !instances[KeyOf(j)].Any() && _unplanned.GetValueOrDefault(KeyOf(j).ToString()) is { } why ? JobKey.ForTeam(why, KeyOf(j).Team) : null,
        }).ToList();
        return new QueueSimulationResult(
            _scenario.Policy,
            _scenario.Planner,
            _scenario.Jobs.Count,
            outcomes.Sum(o => o.CostUsd),
            QueueSimulation.OnDemandBaselineCostUsd(_scenario.Jobs, _scenario.Catalog),
            outcomes.Count(o => o.State == JobState.Succeeded),
            outcomes.Count(o => !o.MetDeadline),
            (int)_counters.Interruptions,
            (int)_counters.SpotRefusals,
            (int)_counters.Fallbacks,
            (int)_counters.Cycles,
            QueueSimulation.Percentile(_solveSeconds, 0.50),
            QueueSimulation.Percentile(_solveSeconds, 0.95),
            end - _scenario.Start,
            wallTime,
            outcomes);
    }

    private static JobOutcome Outcome(Job job, JobRecord? record, List<InstanceStatus> attempts, DateTimeOffset end)
    {
        var ran = attempts.Where(i => i.RunningSince is not null).ToList();
        var last = ran.LastOrDefault() ?? attempts.LastOrDefault();
        var state = record?.State ?? JobState.Queued;
        var finish = state == JobState.Succeeded ? record!.FinishedAt : null;
        var met = state == JobState.Succeeded && (job.Deadline is null || finish <= job.Deadline);
        return new JobOutcome(
            job.Id,
            state,
            [.. ran.Select(i => i.Market)],
            last?.InstanceType ?? record?.Placement?.InstanceType,
            last?.Zone ?? record?.Placement?.Zone,
            ran.FirstOrDefault()?.RunningSince,
            finish,
            job.Deadline,
            met,
            attempts.Sum(i => i.CostSoFarUsd),
            attempts.Count,
            ran.Count(i => i.State == InstanceState.Interrupted),
            record?.LastError ?? (state.IsFinal() ? null : $"still {state.ToWire()} when the simulation stopped at {end:O}"));
    }

    /// <summary>The key a scenario's job is stored under: its own team, or the default one.</summary>
    private static JobKey KeyOf(Job job) => new(job.Team ?? "default", job.Id);

    /// <summary>Each job arrives at its earliest start (the start, without one), and never before its prerequisites.</summary>
    private static List<(DateTimeOffset At, Job Job)> Arrivals(QueueScenario scenario)
    {
        var byId = scenario.Jobs.ToDictionary(j => j.Id, StringComparer.Ordinal);
        var at = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
        DateTimeOffset ArrivalOf(Job job)
        {
            if (!at.TryGetValue(job.Id, out var when))
            {
                var own = job.EarliestStart is { } e && e > scenario.Start ? e : scenario.Start;
                when = job.DependsOn.Where(byId.ContainsKey).Select(d => ArrivalOf(byId[d])).Append(own).Max();
                at[job.Id] = when;
            }
            return when;
        }
        // OrderBy is stable: jobs arriving together keep the file's order.
        return scenario.Jobs.Select(j => (ArrivalOf(j), j)).OrderBy(a => a.Item1).ToList();
    }
}
