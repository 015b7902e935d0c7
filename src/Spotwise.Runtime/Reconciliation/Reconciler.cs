using Spotwise.Core;
using Spotwise.Runtime.Policy;

namespace Spotwise.Runtime.Reconciliation;

/// <summary>
/// Decide, then act (controller-runtime's shape): a pure function from the desired state (each job's record and
/// placement) and the observed state (what the backend reports, and the spot market the service has seen) to the
/// actions that bring them together. It keeps no memory between calls, so a missed, repeated or reordered observation
/// is harmless: the next call sees the world as it is.
/// <para>
/// The plan picks a job's instance type and its first market, zone and start; once a spot-planned job is due, the spot
/// policy (<see cref="SpotPolicy"/>, the one <c>simulate --policy spotwise</c> scores) owns its market and zone, every
/// tick: stay on spot, wait for spot, move to on-demand (the safety net among others), come back to spot, move zone.
/// </para>
/// </summary>
public static class Reconciler
{
    /// <param name="jobs">The desired state: every job not finished (and finished ones whose instances still run).</param>
    /// <param name="observed">What the backend reports.</param>
    /// <param name="now">The moment of the decision.</param>
    /// <param name="catalog">Prices and types of the moment (for a fallback).</param>
    /// <param name="findPrerequisite">
    /// A job's prerequisite by id (null when there is none): a job launches only after its prerequisites have succeeded.
    /// Without it, prerequisites are not consulted.
    /// </param>
    /// <param name="limits">The on-demand quotas the planner plans with: a move to on-demand stays within them.</param>
    /// <param name="market">
    /// The spot market as the service has seen it (<see cref="SpotAvailabilityHistory.At"/>), for the spot policy.
    /// Without it, every pool is taken to have capacity and the policy decides on its prior, a minute ahead.
    /// </param>
    /// <param name="launchAllowance">How long a launch takes to boot (the planner's allowance): the safety net leaves it free.</param>
    /// <param name="transferGbps">
    /// The bandwidth a job's input moves between regions at (the planner's <see cref="PlanningSettings.TransferGbps"/>): a
    /// launch outside the job's data region asks for that much more running time, and the safety net leaves it free.
    /// </param>
    public static IReadOnlyList<ReconcileAction> Decide(
        IReadOnlyList<JobRecord> jobs, IReadOnlyList<InstanceStatus> observed, DateTimeOffset now, Catalog catalog,
        Func<JobRecord, string, JobRecord?>? findPrerequisite = null, CapacityLimits? limits = null, SpotMarketSnapshot? market = null,
        TimeSpan launchAllowance = default, double? transferGbps = null)
    {
        var context = new PolicyContext(
            market ?? SpotMarketSnapshot.Empty(SpotAvailabilityHistory.DefaultTick), launchAllowance,
            OnDemandCapacity.Left(jobs, catalog, limits ?? CapacityLimits.None, now), catalog, transferGbps ?? PlanningSettings.Default.TransferGbps);
        var actions = new List<ReconcileAction>();
        var byToken = LatestByToken(observed);
        var known = new HashSet<JobKey>();
        foreach (var job in jobs)
        {
            known.Add(job.Key);
            var current = CurrentAttempt(job, byToken);
            try
            {
                DecideFor(job, current, now, catalog, findPrerequisite, context, actions);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One job's impossible numbers (stored before today's bounds) must not stop the loop for every job.
                actions.Add(new MarkFailed(job.Key, job.Attempt, $"quarantined: deciding for this job failed ({e.GetType().Name}: {e.Message})"));
            }
            TerminateStale(job, observed, now, actions);
        }
        // An instance for a job nobody knows (deleted, or from another store) only costs money.
        foreach (var orphan in observed.Where(i => !i.IsEnded && !known.Contains(i.Job)))
        {
            actions.Add(new Terminate(orphan.Job, orphan.Attempt, orphan.InstanceId, "no such job"));
        }
        return actions;
    }

    /// <summary>What the backend reports per client token: the latest instance launched under it.</summary>
    public static Dictionary<string, InstanceStatus> LatestByToken(IReadOnlyList<InstanceStatus> observed) =>
        observed.GroupBy(i => i.ClientToken, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.OrderByDescending(i => i.LaunchedAt).First(), StringComparer.Ordinal);

    /// <summary>The instance of the job's current attempt, found by its client token; null before the first launch or when unknown.</summary>
    public static InstanceStatus? CurrentAttempt(JobRecord job, IReadOnlyDictionary<string, InstanceStatus> byToken) =>
        job.Attempt > 0 ? byToken.GetValueOrDefault(ClientTokens.For(job.Key, job.Attempt)) : null;

    private static void DecideFor(
        JobRecord job, InstanceStatus? current, DateTimeOffset now, Catalog catalog, Func<JobRecord, string, JobRecord?>? findPrerequisite,
        PolicyContext market, List<ReconcileAction> actions)
    {
        switch (job.State)
        {
            case JobState.Planned when job.Job.Deadline < now:
            case JobState.Queued when job.Job.Deadline < now:
                actions.Add(new MarkFailed(job.Key, job.Attempt, "the deadline passed before the job could start"));
                break;
            case JobState.Planned when job.Placement is { } due && due.PlannedStart <= now && HoldFor(job, findPrerequisite) is { } hold:
                actions.Add(hold);
                break;
            case JobState.Planned when job.Placement is { } due && due.PlannedStart <= now && OutsideWindow(job, due.Zone, now, market) is { } late:
                actions.Add(late);
                break;
            case JobState.Planned when job.Placement is { Market: Market.Spot } p && p.PlannedStart <= now:
                // The plan chose spot and the moment: from here the policy owns market and zone (it may wait for spot).
                FollowPolicy(job, null, now, catalog, market, actions);
                break;
            case JobState.Planned when job.Placement is { } p && p.PlannedStart <= now:
                actions.Add(new Launch(job.Key, job.Attempt + 1, Request(job, job.Attempt + 1, p.Market, p.InstanceType, p.Zone, job.DoneHours, market)));
                break;
            case JobState.Launching or JobState.Running:
                DecideActive(job, current, now, catalog, market, actions);
                break;
            case JobState.Interrupted when PolicyOwns(job):
                FollowPolicy(job, current, now, catalog, market, actions);
                break;
            case JobState.Interrupted:
                DecideInterrupted(job, now, market, actions);
                break;
            case JobState.Succeeded or JobState.Failed or JobState.Cancelled when current is { IsEnded: false }:
                actions.Add(new Terminate(job.Key, job.Attempt, current.InstanceId, $"the job is {job.State.ToWire()}"));
                break;
        }
    }

    /// <summary>
    /// Nothing launches before its prerequisites have succeeded: a prerequisite that never will fails the job; one still
    /// on its way sends the job back to be planned after it.
    /// </summary>
    private static ReconcileAction? HoldFor(JobRecord job, Func<JobRecord, string, JobRecord?>? findPrerequisite)
    {
        if (findPrerequisite is null)
        {
            return null;
        }
        foreach (var dep in job.Job.DependsOn)
        {
            var prerequisite = findPrerequisite(job, dep);
            if (Prerequisites.Blocker(dep, prerequisite) is { } why)
            {
                return new MarkFailed(job.Key, job.Attempt, why);
            }
            if (prerequisite!.State != JobState.Succeeded)
            {
                return new Replan(job.Key, job.Attempt, job.DoneHours, $"prerequisite '{dep}' has not succeeded yet (it is {prerequisite.State.ToWire()})");
            }
        }
        return null;
    }

    /// <summary>
    /// A job with scheduling windows launches only while its whole run still fits inside one allowed interval: the plan
    /// put its start inside, but a launch delayed past that (the loop was down, a prerequisite was late) goes back to the
    /// planner for the next window instead of running outside.
    /// </summary>
    private static Replan? OutsideWindow(JobRecord job, string zone, DateTimeOffset now, PolicyContext context) =>
        WindowMiss(job, JobProgress.LaunchWorkHours(job.Job, job.Attempt + 1, job.DoneHours) + context.TransferHours(job.Job, zone), now, context, "a launch")
            is { } why ? new Replan(job.Key, job.Attempt, job.DoneHours, why) : null;

    /// <summary>
    /// Why a launch of <paramref name="workHours"/> (its transfer included) made now would leave the job's windows, or null
    /// when the job has none or the run, with the boot, ends inside the allowed interval it starts in. One rule for every
    /// launch: the plan's, a relaunch after an interruption, the spot policy's moves and the safety net.
    /// </summary>
    private static string? WindowMiss(JobRecord job, double workHours, DateTimeOffset now, PolicyContext context, string what)
    {
        if (ScheduleWindows.Of(job.Job) is not { } windows)
        {
            return null;
        }
        var end = now.AddHours(workHours + context.LaunchAllowance.TotalHours);
        return windows.Holds(now, end) ? null : FormattableString.Invariant(
            $"window: {what} now would run to {end:yyyy-MM-ddTHH:mm:sszzz}, outside its windows {windows}; back to the planner for the next window");
    }

    /// <summary>
    /// A new attempt the spot policy or the safety net asks for, kept only when it fits the job's windows. One that does
    /// not is replaced: a job with no live instance goes back to the planner with the <c>window:</c> reason; one whose
    /// instance still runs keeps it (that run started inside its interval), and nothing is stopped for a move it cannot make.
    /// </summary>
    private static ReconcileAction? InsideWindows(JobRecord job, InstanceStatus? current, ReconcileAction action, DateTimeOffset now, PolicyContext context)
    {
        var (request, what, saved) = action switch
        {
            Launch l => (l.Request, "a relaunch on spot", l.SavedHours ?? job.DoneHours),
            SwitchToOnDemand s => (s.Request, $"the {s.By}'s move to on-demand", s.SavedHours),
            _ => (null, "", job.DoneHours),
        };
        if (request is null || WindowMiss(job, request.WorkHours, now, context, what) is not { } why)
        {
            return action;
        }
        return current is { IsEnded: false } ? null : new Replan(job.Key, job.Attempt, saved, why);
    }

    /// <summary>
    /// A run still going when its window has closed ran longer than estimated (the plan launches only runs that end inside
    /// their interval). It finishes: stopping it would lose the work since its last checkpoint (all of it for a job that
    /// cannot checkpoint) and pay a restart at the next window, which may lie past the deadline. The team is told once.
    /// </summary>
    private static Warn? OverranWindow(JobRecord job, InstanceStatus current, DateTimeOffset now)
    {
        if (current.State != InstanceState.Running || ScheduleWindows.Of(job.Job) is not { } windows || windows.Holds(now, now))
        {
            return null;
        }
        var why = $"window: the run is past the end of its windows {windows} (it ran longer than estimated); it finishes rather than lose its work";
        return job.LastError == why ? null : new Warn(job.Key, job.Attempt, why);
    }

    /// <summary>A launched attempt: follow what the backend says, then ask the policy whether to stay, move or fall back.</summary>
    private static void DecideActive(
        JobRecord job, InstanceStatus? current, DateTimeOffset now, Catalog catalog, PolicyContext market, List<ReconcileAction> actions)
    {
        if (current is null)
        {
            // Recorded as launched but unknown to the backend (it lost it, forgot it, or the call never got there): the
            // stored intent is asked for again, exactly, under its token; the backend returns the instance if it has it.
            actions.Add(new Launch(job.Key, job.Attempt, StoredIntent(job)));
            return;
        }
        switch (current.State)
        {
            case InstanceState.Running when job.State == JobState.Launching:
                actions.Add(new RecordObservation(job.Key, job.Attempt, JobState.Running, current,
                    current.Admission is { } admission ? $"the instance is running ({admission})" : "the instance is running"));
                break;
            case InstanceState.Succeeded:
                actions.Add(new RecordObservation(job.Key, job.Attempt, JobState.Succeeded, current, "the work finished"));
                return;
            case InstanceState.Failed:
                actions.Add(new MarkFailed(job.Key, job.Attempt, current.Error ?? "the instance failed"));
                return;
            case InstanceState.Interrupted or InstanceState.Terminated:
                actions.Add(new RecordObservation(job.Key, job.Attempt, JobState.Interrupted, current,
                    current.Error ?? (current.State == InstanceState.Interrupted ? "spot capacity was taken back" : "the instance was stopped")));
                // The policy decides in the same tick, as if the job were idle: waiting, spot elsewhere, or on-demand.
                break;
        }
        var before = actions.Count;
        if (PolicyOwns(job))
        {
            FollowPolicy(job, current, now, catalog, market, actions);
        }
        if (actions.Count == before && OverranWindow(job, current, now) is { } overran)
        {
            actions.Add(overran);
        }
    }

    /// <summary>
    /// The spot policy owns a job the plan put on spot (the plan gave it a fallback moment, which a move to on-demand
    /// keeps), and every job it has moved since (a later attempt). A job the plan put on on-demand, and that never ran
    /// elsewhere, keeps the plan's choice: the planner found spot unsafe or not worth it there.
    /// </summary>
    private static bool PolicyOwns(JobRecord job) =>
        job.Placement is { } p && (p.Market == Market.Spot || p.FallbackAt is not null || job.Attempt > 1);

    /// <summary>A job planned on on-demand lost its instance: fall back to on-demand if waiting is no longer safe, else let the scheduler re-plan.</summary>
    private static void DecideInterrupted(JobRecord job, DateTimeOffset now, PolicyContext market, List<ReconcileAction> actions)
    {
        // The fallback runs where the job was placed: moving its input there again comes before the work, like a restart.
        var restart = job.Job with { RestartOverheadHours = job.Job.RestartOverheadHours + market.TransferHours(job.Job, job.Placement?.Zone) };
        if (SafetyNet.FallbackMoment(restart, job.DoneHours, market.LaunchAllowance) <= now)
        {
            actions.Add(InsideWindows(job, null, Switch(job, null, job.DoneHours, market, "safety net"), now, market)!);
        }
        else
        {
            actions.Add(new Replan(job.Key, job.Attempt, job.DoneHours, "the instance was lost; slack remains to plan it again"));
        }
    }

    /// <summary>
    /// Asks the spot policy what the job should run on for the coming tick and turns a change into actions: on-demand
    /// is <see cref="SwitchToOnDemand"/>; spot in a zone is a new attempt there (the live instance, if any, stopped
    /// first); idle is waiting for spot, which needs no action. A spot instance under an interruption notice is shown to
    /// the policy as ending (<see cref="JobPolicyInputs.Noticed"/>): the move is made now and the instance is not stopped.
    /// </summary>
    private static void FollowPolicy(
        JobRecord job, InstanceStatus? current, DateTimeOffset now, Catalog catalog, PolicyContext market, List<ReconcileAction> actions)
    {
        var inputs = new JobPolicyInputs(job, current, now, market.Market, catalog, market.LaunchAllowance,
            market.TransferHours(job.Job, job.Placement?.Zone));
        var choice = SpotPolicy.Decide(inputs);
        if (choice == inputs.Current || choice.Kind == ChoiceKind.Idle)
        {
            // Idle from a live instance does not happen (the policy leaves an instance only for another); keep it if it did.
            return;
        }
        var live = inputs.Current.IsRunning ? current : null;
        var saved = inputs.DoneHours;
        if (choice.Kind == ChoiceKind.OnDemand)
        {
            var move = inputs.Noticed is { } noticed ? AheadOfNotice(job, noticed, saved, market) : Switch(job, live, saved, market, "spot policy");
            if (InsideWindows(job, current, move, now, market) is { } allowed)
            {
                actions.Add(allowed);
            }
            return;
        }
        var zone = inputs.ZoneName(choice.Zone);
        var attempt = job.Attempt + 1;
        var launch = new Launch(job.Key, attempt, Request(job, attempt, Market.Spot, inputs.InstanceType, zone, saved, market))
        {
            SavedHours = saved,
            Noticed = inputs.Noticed,
        };
        if (InsideWindows(job, current, launch, now, market) is not { } kept)
        {
            return;
        }
        if (live is not null && kept is Launch)
        {
            actions.Add(new Terminate(job.Key, job.Attempt, live.InstanceId, $"moving to spot in {zone}"));
        }
        actions.Add(kept);
    }

    /// <summary>
    /// The move to on-demand for a job whose spot instance has its interruption notice: the noticed instance is not
    /// stopped (it checkpoints in its last minutes and the cloud takes it back). With no on-demand room left the job stays
    /// on its instance, saying so, until the instance ends; then it follows the interrupted path.
    /// </summary>
    private static ReconcileAction AheadOfNotice(JobRecord job, InstanceStatus noticed, double saved, PolicyContext context) =>
        Switch(job, noticed, saved, context, "spot policy") switch
        {
            SwitchToOnDemand move => move with { SpotInstanceId = null, Noticed = noticed },
            var stay => stay,
        };

    /// <summary>
    /// A move to on-demand (<paramref name="by"/> says who asked: the safety net or the spot policy), on the cheapest type
    /// the on-demand quota still has room for. With none left, a job without a live instance goes back to the planner and
    /// a running one stays where it is; either way the job says why.
    /// </summary>
    private static ReconcileAction Switch(JobRecord job, InstanceStatus? live, double saved, PolicyContext context, string by)
    {
        var onDemand = context.OnDemand;
        if (onDemand.Take(job.Job.Resources) is not { } fallback)
        {
            var why = $"{by}: {onDemand.NoneLeft(job.Job.Resources)}";
            return live is { IsEnded: false }
                ? new Warn(job.Key, job.Attempt, why + "; staying on spot")
                : new Replan(job.Key, job.Attempt, saved, why + "; back to the planner");
        }
        // On-demand is bought per region (its offer and quota are regional), not in the spot pool's zone: a zone whose spot
        // pool refused may have no capacity for the type at all, and asking there again refused the fallback every tick.
        var zone = job.Placement?.Zone is { } placed ? context.Catalog.RegionOfZone(placed) ?? onDemand.Region : onDemand.Region;
        var request = Request(job, job.Attempt + 1, Market.OnDemand, fallback.Type.Name, zone, saved, context);
        return new SwitchToOnDemand(job.Key, job.Attempt + 1, live?.InstanceId, saved, request) { By = by };
    }

    /// <summary>
    /// The launch the job's current attempt asked for. A record written before intents were stored (schema 3) has none:
    /// its request is rebuilt from the record.
    /// </summary>
    private static LaunchRequest StoredIntent(JobRecord job) =>
        job.LaunchIntent is { } intent && intent.Attempt == job.Attempt && intent.Job == job.Key
            ? intent
            : Request(job, job.Attempt, job.Placement!.Market, job.Placement.InstanceType, job.Placement.Zone, job.DoneHours, null);

    /// <summary>
    /// A job's instances of any attempt but its current one are stopped: earlier ones (a switch whose terminate was lost,
    /// say) and later ones, which no launch intent holds (a launch made without one, before intents were stored).
    /// </summary>
    private static void TerminateStale(JobRecord job, IReadOnlyList<InstanceStatus> observed, DateTimeOffset now, List<ReconcileAction> actions)
    {
        foreach (var stale in observed.Where(i => i.Job == job.Key && !i.IsEnded && i.Attempt != job.Attempt && !KeepsItsLastMinutes(job, i, now)))
        {
            actions.Add(new Terminate(job.Key, stale.Attempt, stale.InstanceId, stale.Attempt < job.Attempt
                ? FormattableString.Invariant($"attempt {stale.Attempt} was replaced by attempt {job.Attempt}")
                : FormattableString.Invariant($"attempt {stale.Attempt} is not the job's (it is at attempt {job.Attempt})")));
        }
    }

    /// <summary>
    /// A noticed spot instance of an earlier attempt of a job still under way is left to the cloud: it checkpoints in its
    /// last minutes, and EC2 does not charge a spot instance it interrupts in its first hour, where it charges one we
    /// terminate. Past the notice's lead and grace it is stopped like any stale instance; a finished job's at once.
    /// </summary>
    private static bool KeepsItsLastMinutes(JobRecord job, InstanceStatus instance, DateTimeOffset now) =>
        !job.State.IsFinal() && instance.Attempt < job.Attempt && SpotNotice.IsUnder(instance, now) && !SpotNotice.IsOverdue(instance, now);

    /// <summary>A launch of <paramref name="attempt"/> with <paramref name="savedHours"/> done: the work left, and its changeover.</summary>
    /// <remarks>
    /// A launch outside the job's data region first moves its input there (<see cref="LaunchRequest.TransferHours"/>): the
    /// instance is asked for that much more running time. <paramref name="context"/> is null only for a request rebuilt for a
    /// record from before intents were stored, which predates data regions too.
    /// </remarks>
    private static LaunchRequest Request(JobRecord job, int attempt, Market market, string instanceType, string zone, double savedHours,
        PolicyContext? context)
    {
        var transfer = context?.TransferHours(job.Job, zone) ?? 0;
        return new(ClientTokens.For(job.Key, attempt), job.Team, job.Id, attempt, market, instanceType, zone,
            JobProgress.LaunchWorkHours(job.Job, attempt, savedHours) + transfer, job.Job.Checkpointable,
            job.Job.CheckpointIntervalHours ?? Job.DefaultCheckpointIntervalHours, job.Job.Command)
        {
            // A fallback or a move stays with the provider of the job's placement.
            Provider = job.Placement?.Provider,
            TransferHours = transfer,
            Deadline = job.Job.Deadline,
            Image = job.Job.Image,
        };
    }

    /// <summary>What the spot policy needs besides the job: the market seen, the boot a launch takes, the on-demand room left.</summary>
    private sealed record PolicyContext(SpotMarketSnapshot Market, TimeSpan LaunchAllowance, OnDemandCapacity OnDemand, Catalog Catalog, double TransferGbps)
    {
        /// <summary>Hours a launch in <paramref name="zone"/> spends moving the job's input there first (0 in its data region, or for no zone).</summary>
        public double TransferHours(Job job, string? zone) =>
            zone is null ? 0 : DataTransfer.HoursInto(job, Catalog.RegionOfZone(zone) ?? Catalog.Region, Catalog, TransferGbps);
    }
}
