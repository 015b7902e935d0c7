using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spotwise.Core;
using Spotwise.Runtime.Alerting;
using Spotwise.Runtime.Backends;
using Spotwise.Runtime.Leadership;
using Spotwise.Runtime.Policy;

namespace Spotwise.Runtime.Reconciliation;

/// <summary>
/// The thin, acting half of the control loop: each tick reads the jobs and what the backend reports, asks
/// <see cref="Reconciler.Decide"/> what to do, and does it, writing every result through the store. One job's
/// failure is logged and the loop goes on. <see cref="TickAsync"/> is public so tests (and the simulator) drive it.
/// With replicas, the loop ticks only while this one leads (<see cref="LeaderWork"/>), and a write the store refuses as
/// stale (<see cref="StaleEpochException"/>) ends the tick: no further action of a deposed leader reaches the backend.
/// </summary>
public sealed partial class ReconcileLoop(
    IJobStore store, ICompute compute, IPriceFeed prices, TimeProvider time, ILogger<ReconcileLoop> logger, TimeSpan? interval = null,
    RuntimeCounters? counters = null, SpotBackoff? backoff = null, CapacityLimits? limits = null, SpotAvailabilityHistory? history = null,
    TimeSpan? launchAllowance = null, LearnedLimits? learned = null, double? transferGbps = null, ILeadership? leadership = null,
    Alerts? alerts = null)
    : BackgroundService
{
    // The spot policy's memory of the market; a loop given none keeps its own, a sample a minute (or per period, if longer).
    private readonly SpotAvailabilityHistory _history = history
        ?? new SpotAvailabilityHistory(interval is { } i && i > SpotAvailabilityHistory.DefaultTick ? i : SpotAvailabilityHistory.DefaultTick);

    public static TimeSpan DefaultInterval { get; } = TimeSpan.FromSeconds(5);

    // The boot the safety net must leave time for: the planner's allowance (the simulated cloud's launch delay by default).
    private readonly TimeSpan _launchAllowance = launchAllowance ?? PlanningSettings.Default.LaunchAllowance;

    private static readonly JobState[] Unfinished = [JobState.Queued, JobState.Planned, JobState.Launching, JobState.Running, JobState.Interrupted];

    /// <summary>Raised when a job went back to the queue: the scheduler should plan again soon.</summary>
    public event EventHandler? ReplanNeeded;

    public async Task<IReadOnlyList<ReconcileAction>> TickAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var catalog = await prices.PricesAtAsync(now, cancellationToken);
        var read = (await store.ListAsync(new JobQuery(States: Unfinished), cancellationToken)).ToList();
        var observed = await compute.DescribeAsync(cancellationToken);
        await AddFinishedJobsWithLiveInstancesAsync(read, observed, cancellationToken);
        // Every running attempt's cost up to now: the actions below build on it, and the rest is written at the end.
        var byToken = Reconciler.LatestByToken(observed);
        var jobs = read.Select(j => CostAccrual.Accrue(j, Reconciler.CurrentAttempt(j, byToken), catalog, now)).ToList();
        var byKey = jobs.ToDictionary(j => j.Key);
        // Only jobs due to launch ask for their prerequisites; the unfinished ones are in the tick's list already.
        var due = jobs.Where(j => j.State == JobState.Planned && j.Placement?.PlannedStart <= now);
        var findPrerequisite = await Prerequisites.FinderAsync(store, due, byKey, cancellationToken);
        // The fallback's on-demand room: the configured quotas, within what the cloud's refusals taught.
        var quotas = learned is null ? limits : learned.Apply(limits ?? CapacityLimits.None, catalog, now);
        var actions = Reconciler.Decide(jobs, observed, now, catalog, findPrerequisite, quotas, ObserveMarket(now, observed), _launchAllowance, transferGbps);
        var tick = new TickView(catalog, observed, now);
        var written = new HashSet<JobKey>();
        var replan = false;
        foreach (var action in actions)
        {
            try
            {
                var job = byKey.GetValueOrDefault(action.Job);
                if (job is not null && written.Contains(action.Job))
                {
                    // A second action for a job this tick (recorded interrupted, then relaunched) acts on what the first wrote.
                    job = await store.GetAsync(action.Job, cancellationToken) ?? job;
                }
                replan |= await ExecuteAsync(action, job, tick, written, cancellationToken);
            }
            catch (BackendUnavailableException e)
            {
                // Permissions, credentials: no job's fault, and BackendHealth says it; the job waits for the next tick.
                LogBackendUnavailable(action.Key, e.Message);
            }
            catch (Exception e) when (e is not OperationCanceledException and not StaleEpochException)
            {
                LogActionFailed(e, action.Key);
            }
        }
        await WriteAccruedAsync(read, jobs, written, now, cancellationToken);
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
                await LeaderWork.RunAsync(leadership, TickAsync, logger, stoppingToken);
            }
            catch (BackendUnavailableException e)
            {
                LogTickWaits(e.Message);
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
    private async Task<bool> ExecuteAsync(ReconcileAction action, JobRecord? job, TickView tick, HashSet<JobKey> written, CancellationToken ct)
    {
        var (catalog, _, now) = tick;
        if (job is not null && action is not Terminate)
        {
            // Every other action writes the job, built on its accrued record: no separate cost write is owed.
            written.Add(job.Key);
        }
        switch (action)
        {
            case Terminate t:
                await compute.TerminateAsync(t.InstanceId, ct);
                return false;
            case Launch l when job is not null:
                var r = l.Request;
                // Where the attempt runs (the spot policy may move it to another zone); the work saved at its launch.
                var where = job.Placement is { } planned ? planned with { Market = r.Market, InstanceType = r.InstanceType, Zone = r.Zone } : null;
                // A new attempt writes its intent first; the same attempt again (the backend did not know it) asks for the stored one.
                var intent = l.Attempt == job.Attempt ? null
                    : JobTransitions.Launch(WithNoticeTail(job, l.Noticed, catalog, now), r,
                        FormattableString.Invariant($"launching attempt {r.Attempt}: {r.Market.ToWire()} {r.InstanceType} in {r.Zone}") + NoticeCause(l.Noticed),
                        where, l.SavedHours);
                if (await LaunchAsync(job, intent, r, tick, ct))
                {
                    await ActedOnNoticeAsync(job.Key, l.Noticed, now, ct);
                }
                return false;
            case SwitchToOnDemand s when job is not null:
                var price = catalog.Find(s.Request.InstanceType)?.OnDemandPricePerHourUsd ?? 0;
                // The plan's fallback moment stays: it marks a job the spot policy owns (it may come back to spot).
                var placement = new Placement(Market.OnDemand, s.Request.InstanceType, s.Request.Zone, now, price, price * s.Request.WorkHours,
                    job.Placement?.FallbackAt)
                { Provider = s.Request.Provider };
                var fallback = JobTransitions.Launch(WithNoticeTail(job, s.Noticed, catalog, now), s.Request,
                    $"{s.By}: moving to on-demand {s.Request.InstanceType} to meet the deadline" + NoticeCause(s.Noticed), placement, s.SavedHours);
                if (await LaunchAsync(job, fallback, s.Request, tick, ct, stopFirst: s.SpotInstanceId))
                {
                    counters?.FellBack();
                    await ActedOnNoticeAsync(job.Key, s.Noticed, now, ct);
                }
                return false;
            case RecordObservation o when job is not null:
                await UpdateAsync(JobTransitions.Observe(job, o.NewState, o.Instance, o.Cause, now), now, ct);
                if (o.NewState == JobState.Interrupted && o.Instance.Market == Market.Spot)
                {
                    backoff?.Refused(o.Instance.Zone, o.Instance.InstanceType, now);
                }
                if (o.NewState == JobState.Interrupted && o.Instance.RunningSince is null)
                {
                    // A quota refusal was learnt at the launch (LaunchAsync); it says nothing of the pool's capacity.
                    if (o.Instance.Refusal?.Kind != RefusalKind.Quota)
                    {
                        counters?.SpotRefused();
                    }
                }
                else if (o.NewState == JobState.Interrupted)
                {
                    counters?.Interrupted();
                    await AlertInterruptedAsync(job.Key, o.Instance, ct);
                }
                return o.NewState == JobState.Interrupted;
            case MarkFailed f when job is not null:
                await UpdateAsync(JobTransitions.Fail(job, f.Reason, now), now, ct);
                return false;
            case Replan p when job is not null:
                await UpdateAsync(JobTransitions.Requeue(job, p.SavedHours, p.Why), now, ct);
                return true;
            case Warn w when job is not null:
                if (job.LastError != w.Why)
                {
                    LogWarned(job.Team, job.Id, w.Why);
                }
                await UpdateAsync(JobTransitions.Note(job, w.Why), now, ct);
                return false;
            default:
                return false;
        }
    }

    /// <summary>
    /// The job with its noticed instance's last minutes paid up front: once the next attempt is launched, the noticed
    /// one is no longer the job's current attempt, whose cost alone accrues each tick, yet it runs until the cloud takes
    /// it back.
    /// </summary>
    private static JobRecord WithNoticeTail(JobRecord job, InstanceStatus? noticed, Catalog catalog, DateTimeOffset now) =>
        noticed is null ? job : job with { CostSoFarUsd = job.CostSoFarUsd + CostAccrual.UntilReclaimed(job, noticed, catalog, now) };

    /// <summary>The words a launch's cause holds when it moves a job on ahead of an interruption notice (<see cref="InterruptionCount"/> reads them).</summary>
    public const string NoticePhrase = " ahead of the interruption of ";

    private static string NoticeCause(InstanceStatus? noticed) => noticed is null ? "" : FormattableString.Invariant(
        $"{NoticePhrase}{noticed.InstanceId} (notice at {noticed.InterruptionNoticeAt:u}; it checkpoints until taken back)");

    /// <summary>
    /// A notice acted on: counted (it is an interruption too: the noticed attempt's end is never recorded, the job has
    /// moved on), and the pool cools down for the planner as after an interruption.
    /// </summary>
    private async Task ActedOnNoticeAsync(JobKey job, InstanceStatus? noticed, DateTimeOffset now, CancellationToken ct)
    {
        if (noticed is null)
        {
            return;
        }
        counters?.Noticed();
        counters?.Interrupted();
        backoff?.Refused(noticed.Zone, noticed.InstanceType, now);
        await AlertInterruptedAsync(job, noticed, ct);
    }

    /// <summary>
    /// An attempt that ran was interrupted (or moved on ahead of its notice): the alerts hear the job's count, read from
    /// its events. An alert is news, not work: a failure here is logged and the tick goes on.
    /// </summary>
    private async Task AlertInterruptedAsync(JobKey job, InstanceStatus instance, CancellationToken ct)
    {
        if (alerts is null)
        {
            return;
        }
        try
        {
            var count = InterruptionCount.Of(await store.EventsAsync(job, ct));
            alerts.JobInterrupted(job, count, $"{instance.Market.ToWire()} {instance.InstanceType} in {instance.Zone}");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogAlertFailed(e, job.ToString());
        }
    }

    /// <summary>
    /// Intent, then backend, then record: the attempt and its request are stored before the backend is asked (unless
    /// <paramref name="intent"/> is null: the stored intent again), so a cancel or a re-plan that lands first stops the
    /// launch, and one that lands after finds the instance by the attempt's token. <paramref name="stopFirst"/> is an
    /// instance the new attempt replaces, stopped once the intent is stored. True when the backend was asked.
    /// </summary>
    private async Task<bool> LaunchAsync(JobRecord job, JobTransition? intent, LaunchRequest request, TickView tick, CancellationToken ct,
        string? stopFirst = null)
    {
        var now = tick.Now;
        var holder = job;
        if (intent is not null)
        {
            if (await UpdateAsync(intent, now, ct) is not { } stored)
            {
                return false;
            }
            holder = stored;
        }
        if (stopFirst is not null)
        {
            await compute.TerminateAsync(stopFirst, ct);
        }
        var launched = await compute.LaunchAsync(request, ct);
        if (launched.Refusal?.Kind == RefusalKind.Quota && learned is not null)
        {
            // Learnt now, so the next cycle and the next tick's fallbacks plan within it.
            var quota = learned.QuotaReached(launched, tick.Observed, tick.Catalog, now);
            LogQuotaLearned(job.Team, job.Id, quota.ToString());
        }
        if (holder.InstanceId != launched.InstanceId)
        {
            await UpdateAsync(JobTransitions.Launched(holder, launched.InstanceId), now, ct);
        }
        return true;
    }

    /// <summary>The cost accrued this tick on jobs no action wrote, in the store's chunks; a job changed meanwhile accrues next tick.</summary>
    private async Task WriteAccruedAsync(List<JobRecord> read, List<JobRecord> accrued, HashSet<JobKey> written, DateTimeOffset now, CancellationToken ct)
    {
        var updates = accrued.Where((j, i) => !written.Contains(j.Key) && !ReferenceEquals(j, read[i]))
            .Select(j => (j, "cost accrued")).ToList();
        foreach (var chunk in updates.Chunk(Scheduler.ApplyChunkSize))
        {
            await store.TryUpdateManyAsync(chunk, now, ct);
        }
    }

    private async Task<JobRecord?> UpdateAsync(JobTransition transition, DateTimeOffset now, CancellationToken ct)
    {
        var stored = await store.TryUpdateAsync(transition.Record, transition.Cause, now, ct);
        if (stored is null)
        {
            // Someone else (a cancel, the scheduler) changed the job first; the next tick sees their change.
            LogLostRace(transition.Record.Team, transition.Record.Id);
        }
        return stored;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Reconcile action {Action} failed; the next tick will try again")]
    private partial void LogActionFailed(Exception exception, string action);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reconcile action {Action} waits for its backend: {Why}")]
    private partial void LogBackendUnavailable(string action, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A reconcile tick waits for a backend: {Why}")]
    private partial void LogTickWaits(string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} of team {Team} was refused for a quota; planning within it from now: {Quota}")]
    private partial void LogQuotaLearned(string team, string jobId, string quota);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Counting the interruptions of {Job} for its alert failed; the tick goes on")]
    private partial void LogAlertFailed(Exception exception, string job);

    [LoggerMessage(Level = LogLevel.Error, Message = "A reconcile tick failed; the loop goes on")]
    private partial void LogTickFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} of team {Team}: {Why}")]
    private partial void LogWarned(string team, string jobId, string why);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Job {JobId} of team {Team} changed while it was reconciled; left for the next tick")]
    private partial void LogLostRace(string team, string jobId);
}

/// <summary>What one tick read: the prices of the moment, what the backends reported, and when.</summary>
internal sealed record TickView(Catalog Catalog, IReadOnlyList<InstanceStatus> Observed, DateTimeOffset Now);
