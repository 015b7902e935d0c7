using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spotwise.Core;
using Spotwise.Runtime.Policy;

namespace Spotwise.Runtime.Reconciliation;

/// <summary>
/// The thin, acting half of the control loop: each tick reads the jobs and what the backend reports, asks
/// <see cref="Reconciler.Decide"/> what to do, and does it, writing every result through the store. One job's
/// failure is logged and the loop goes on. <see cref="TickAsync"/> is public so tests (and the simulator) drive it.
/// </summary>
public sealed partial class ReconcileLoop(
    IJobStore store, ICompute compute, IPriceFeed prices, TimeProvider time, ILogger<ReconcileLoop> logger, TimeSpan? interval = null,
    RuntimeCounters? counters = null, SpotBackoff? backoff = null, SpotAvailabilityHistory? history = null, TimeSpan? launchAllowance = null)
    : BackgroundService
{
    // The spot policy's memory of the market; a loop given none keeps its own, a sample a minute (or per period, if longer).
    private readonly SpotAvailabilityHistory _history = history
        ?? new SpotAvailabilityHistory(interval is { } i && i > SpotAvailabilityHistory.DefaultTick ? i : SpotAvailabilityHistory.DefaultTick);

    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromSeconds(5);

    // The boot the safety net must leave time for: the planner's allowance (the simulated cloud's launch delay by default).
    private readonly TimeSpan _launchAllowance = launchAllowance ?? new SchedulerOptions().LaunchAllowance;

    private static readonly JobState[] Unfinished = [JobState.Queued, JobState.Planned, JobState.Launching, JobState.Running, JobState.Interrupted];

    /// <summary>Raised when a job went back to the queue: the scheduler should plan again soon.</summary>
    public event EventHandler? ReplanNeeded;

    public async Task<IReadOnlyList<ReconcileAction>> TickAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var catalog = await prices.PricesAtAsync(now, cancellationToken);
        var jobs = (await store.ListAsync(new JobQuery(States: Unfinished), cancellationToken)).ToList();
        var observed = await compute.DescribeAsync(cancellationToken);
        await AddFinishedJobsWithLiveInstancesAsync(jobs, observed, cancellationToken);
        var byKey = jobs.ToDictionary(j => j.Key);
        // Only jobs due to launch ask for their prerequisites; the unfinished ones are in the tick's list already.
        var due = jobs.Where(j => j.State == JobState.Planned && j.Placement?.PlannedStart <= now);
        var findPrerequisite = await Prerequisites.FinderAsync(store, due, byKey, cancellationToken);
        var actions = Reconciler.Decide(jobs, observed, now, catalog, findPrerequisite, ObserveMarket(now, observed), _launchAllowance);
        var replan = false;
        var acted = new HashSet<JobKey>();
        foreach (var action in actions)
        {
            try
            {
                var job = byKey.GetValueOrDefault(action.Job);
                if (job is not null && !acted.Add(action.Job))
                {
                    // A second action for a job this tick (recorded interrupted, then relaunched) acts on what the first wrote.
                    job = await store.GetAsync(action.Job, cancellationToken) ?? job;
                }
                replan |= await ExecuteAsync(action, job, observed, catalog, now, cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogActionFailed(e, action.Key);
            }
        }
        if (replan)
        {
            ReplanNeeded?.Invoke(this, EventArgs.Empty);
        }
        return actions;
    }

    /// <summary>Feeds the spot policy's memory: the feed's capacity per pool where it knows it, and what the backend reports.</summary>
    private SpotMarketSnapshot ObserveMarket(DateTimeOffset now, IReadOnlyList<InstanceStatus> observed)
    {
        if (prices is ISpotPoolFeed feed)
        {
            _history.Record(now, feed.PoolsAt(now));
        }
        _history.Observe(now, observed);
        return _history.At(now);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(interval ?? DefaultInterval, time);
        do
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogTickFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task AddFinishedJobsWithLiveInstancesAsync(List<JobRecord> jobs, IReadOnlyList<InstanceStatus> observed, CancellationToken ct)
    {
        var known = jobs.Select(j => j.Key).ToHashSet();
        foreach (var key in observed.Where(i => !i.IsEnded && !known.Contains(i.Job)).Select(i => i.Job).Distinct())
        {
            if (await store.GetAsync(key, ct) is { } finished)
            {
                jobs.Add(finished);
            }
        }
    }

    /// <summary>Carries out one action; true when a job went back to the queue.</summary>
    private async Task<bool> ExecuteAsync(ReconcileAction action, JobRecord? job, IReadOnlyList<InstanceStatus> observed, Catalog catalog, DateTimeOffset now, CancellationToken ct)
    {
        switch (action)
        {
            case Terminate t:
                await compute.TerminateAsync(t.InstanceId, ct);
                return false;
            case Launch l when job is not null:
                var launched = await compute.LaunchAsync(l.Request, ct);
                await UpdateAsync(job with
                {
                    State = JobState.Launching,
                    Attempt = l.Attempt,
                    InstanceId = launched.InstanceId,
                    DoneHours = l.SavedHours ?? job.DoneHours,
                    // Where the attempt runs: a same-token relaunch must ask for exactly this again.
                    Placement = job.Placement is { } p ? p with { Market = l.Request.Market, InstanceType = l.Request.InstanceType, Zone = l.Request.Zone } : null,
                },
                    $"launched {launched.InstanceId}: {l.Request.Market.ToWire()} {l.Request.InstanceType} in {l.Request.Zone}", now, ct);
                return false;
            case SwitchToOnDemand s when job is not null:
                if (s.SpotInstanceId is { } spot)
                {
                    await compute.TerminateAsync(spot, ct);
                }
                var fallback = await compute.LaunchAsync(s.Request, ct);
                var price = catalog.Find(s.Request.InstanceType)?.OnDemandPricePerHourUsd ?? 0;
                await UpdateAsync(job with
                {
                    State = JobState.Launching,
                    Attempt = s.Attempt,
                    InstanceId = fallback.InstanceId,
                    DoneHours = s.SavedHours,
                    CostSoFarUsd = CostOf(job, observed),
                    // The plan's fallback moment stays: it marks a job the spot policy owns (it may come back to spot).
                    Placement = new Placement(Market.OnDemand, s.Request.InstanceType, s.Request.Zone, now, price, price * s.Request.WorkHours, job.Placement?.FallbackAt),
                }, $"spot policy: moved to on-demand {s.Request.InstanceType} ({fallback.InstanceId}) to keep the deadline", now, ct);
                counters?.FellBack();
                return false;
            case RecordObservation o when job is not null:
                await UpdateAsync(job with
                {
                    State = o.NewState,
                    StartedAt = job.StartedAt ?? o.Instance.RunningSince,
                    FinishedAt = o.NewState == JobState.Succeeded ? o.Instance.EndedAt ?? now : job.FinishedAt,
                    // The record keeps the work saved at the attempt's launch while it runs; an ended attempt adds its own.
                    DoneHours = o.NewState switch
                    {
                        JobState.Succeeded => job.Job.DurationHours,
                        JobState.Interrupted => JobProgress.SavedHours(job, o.Instance),
                        _ => job.DoneHours,
                    },
                    CostSoFarUsd = CostOf(job, observed),
                }, o.Cause, now, ct);
                if (o.NewState == JobState.Interrupted && o.Instance.Market == Market.Spot)
                {
                    backoff?.Refused(o.Instance.InstanceType, now);
                }
                if (o.NewState == JobState.Interrupted && o.Instance.RunningSince is null)
                {
                    counters?.SpotRefused();
                }
                else if (o.NewState == JobState.Interrupted)
                {
                    counters?.Interrupted();
                }
                return o.NewState == JobState.Interrupted;
            case MarkFailed f when job is not null:
                await UpdateAsync(job with { State = JobState.Failed, LastError = f.Reason, FinishedAt = now, CostSoFarUsd = CostOf(job, observed) }, f.Reason, now, ct);
                return false;
            case Replan r when job is not null:
                await UpdateAsync(job with { State = JobState.Queued, Placement = null, InstanceId = null, DoneHours = r.SavedHours }, r.Why, now, ct);
                return true;
            default:
                return false;
        }
    }

    /// <summary>What a job has cost: every attempt the backend still reports, never less than recorded before.</summary>
    private static double CostOf(JobRecord job, IReadOnlyList<InstanceStatus> observed) =>
        Math.Max(job.CostSoFarUsd, observed.Where(i => i.Job == job.Key).Sum(i => i.CostSoFarUsd));

    private async Task UpdateAsync(JobRecord updated, string cause, DateTimeOffset now, CancellationToken ct)
    {
        if (await store.TryUpdateAsync(updated, cause, now, ct) is null)
        {
            // Someone else (a cancel, the scheduler) changed the job first; the next tick sees their change.
            LogLostRace(updated.Team, updated.Id);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconcile action {Action} failed; the next tick will try again")]
    private partial void LogActionFailed(Exception exception, string action);

    [LoggerMessage(Level = LogLevel.Error, Message = "A reconcile tick failed; the loop goes on")]
    private partial void LogTickFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} of team {Team} changed while it was reconciled; left for the next tick")]
    private partial void LogLostRace(string team, string jobId);
}
