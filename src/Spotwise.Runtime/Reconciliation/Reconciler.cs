using Spotwise.Core;

namespace Spotwise.Runtime.Reconciliation;

/// <summary>
/// Decide, then act (controller-runtime's shape): a pure function from the desired state (each job's record and
/// placement) and the observed state (what the backend reports) to the actions that bring them together. It keeps
/// no memory between calls, so a missed, repeated or reordered observation is harmless: the next call sees the
/// world as it is.
/// </summary>
public static class Reconciler
{
    /// <param name="jobs">The desired state: every job not finished (and finished ones whose instances still run).</param>
    /// <param name="observed">What the backend reports.</param>
    /// <param name="now">The moment of the decision.</param>
    /// <param name="catalog">Prices and types of the moment (for a fallback).</param>
    /// <param name="limits">
    /// The capacity the planner plans with: a safety-net fallback takes on-demand capacity only where the quota has room
    /// after the jobs that hold it. Null: unlimited.
    /// </param>
    /// <param name="findPrerequisite">
    /// A job's prerequisite by id (null when there is none): a job launches only after its prerequisites have succeeded.
    /// Without it, prerequisites are not consulted.
    /// </param>
    public static IReadOnlyList<ReconcileAction> Decide(
        IReadOnlyList<JobRecord> jobs, IReadOnlyList<InstanceStatus> observed, DateTimeOffset now, Catalog catalog,
        Func<JobRecord, string, JobRecord?>? findPrerequisite = null, CapacityLimits? limits = null)
    {
        var actions = new List<ReconcileAction>();
        var byToken = LatestByToken(observed);
        var onDemand = OnDemandCapacity.Left(jobs, catalog, limits ?? CapacityLimits.None, now);
        var known = new HashSet<JobKey>();
        foreach (var job in jobs)
        {
            known.Add(job.Key);
            var current = CurrentAttempt(job, byToken);
            try
            {
                DecideFor(job, current, now, onDemand, findPrerequisite, actions);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // One job's impossible numbers (stored before today's bounds) must not stop the loop for every job.
                actions.Add(new MarkFailed(job.Key, job.Attempt, $"quarantined: deciding for this job failed ({e.GetType().Name}: {e.Message})"));
            }
            TerminateStale(job, observed, actions);
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
        JobRecord job, InstanceStatus? current, DateTimeOffset now, OnDemandCapacity onDemand, Func<JobRecord, string, JobRecord?>? findPrerequisite,
        List<ReconcileAction> actions)
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
            case JobState.Planned when job.Placement is { } p && p.PlannedStart <= now:
                actions.Add(new Launch(job.Key, job.Attempt + 1, Request(job, job.Attempt + 1, p.Market, p.InstanceType, p.Zone)));
                break;
            case JobState.Launching or JobState.Running:
                DecideActive(job, current, now, onDemand, actions);
                break;
            case JobState.Interrupted:
                DecideInterrupted(job, current, now, onDemand, actions);
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

    /// <summary>A launched attempt: follow what the backend says, and pull the safety net when its moment comes.</summary>
    private static void DecideActive(JobRecord job, InstanceStatus? current, DateTimeOffset now, OnDemandCapacity onDemand, List<ReconcileAction> actions)
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
                actions.Add(new RecordObservation(job.Key, job.Attempt, JobState.Running, current, "the instance is running"));
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
                return;
        }
        if (MustFallBack(job, current, now))
        {
            actions.Add(Switch(job, current, onDemand));
        }
    }

    /// <summary>
    /// The launch the job's current attempt asked for. A record written before intents were stored (schema 3) has none:
    /// its request is rebuilt from the record as it was then built.
    /// </summary>
    private static LaunchRequest StoredIntent(JobRecord job) =>
        job.LaunchIntent is { } intent && intent.Attempt == job.Attempt && intent.Job == job.Key
            ? intent
            : Request(job, job.Attempt, job.Placement!.Market, job.Placement.InstanceType, job.Placement.Zone);

    /// <summary>Lost its instance: fall back to on-demand if waiting is no longer safe, else let the scheduler re-plan.</summary>
    private static void DecideInterrupted(JobRecord job, InstanceStatus? current, DateTimeOffset now, OnDemandCapacity onDemand, List<ReconcileAction> actions)
    {
        var saved = Math.Max(job.DoneHours, current?.SavedProgressHours ?? 0);
        if (job.Job.Deadline is not null && FallbackMoment(job, saved) <= now)
        {
            actions.Add(Switch(job, current, onDemand));
        }
        else
        {
            actions.Add(new Replan(job.Key, job.Attempt, saved, "interrupted; slack remains to wait for spot"));
        }
    }

    /// <summary>
    /// The safety net for a spot attempt: past the plan's fallback moment, moved later by every hour of progress
    /// saved, staying on spot could miss the deadline.
    /// </summary>
    private static bool MustFallBack(JobRecord job, InstanceStatus current, DateTimeOffset now) =>
        current.Market == Market.Spot && !current.IsEnded && job.Job.Deadline is not null
        && FallbackMoment(job, Math.Max(job.DoneHours, current.SavedProgressHours)) <= now;

    /// <summary>CostModel.FallbackAt for the work left: deadline − restart overhead − the work not yet saved.</summary>
    private static DateTimeOffset FallbackMoment(JobRecord job, double savedHours) =>
        CostModel.FallbackAt(job.Job)!.Value.AddHours(Math.Min(savedHours, job.Job.DurationHours));

    /// <summary>
    /// The safety net's move to on-demand, on the cheapest type the on-demand quota still has room for. With none left,
    /// an interrupted job goes back to the planner and a running one stays on spot; either way the job says why.
    /// </summary>
    private static ReconcileAction Switch(JobRecord job, InstanceStatus? current, OnDemandCapacity onDemand)
    {
        var saved = Math.Max(job.DoneHours, current?.SavedProgressHours ?? 0);
        if (onDemand.Take(job.Job.Resources) is not { } fallback)
        {
            var why = "safety net: " + onDemand.NoneLeft(job.Job.Resources);
            return current is { IsEnded: false }
                ? new Warn(job.Key, job.Attempt, why + "; staying on spot")
                : new Replan(job.Key, job.Attempt, saved, why + "; back to the planner");
        }
        var zone = job.Placement?.Zone ?? onDemand.Region;
        var request = Request(job, job.Attempt + 1, Market.OnDemand, fallback.Type.Name, zone) with
        {
            WorkHours = Math.Max(0, job.Job.DurationHours - saved),
        };
        return new SwitchToOnDemand(job.Key, job.Attempt + 1, current is { IsEnded: false } ? current.InstanceId : null, saved, request);
    }

    /// <summary>
    /// A job's instances of any attempt but its current one are stopped: earlier ones (a switch whose terminate was lost,
    /// say) and later ones, which no launch intent holds (a launch made without one, before intents were stored).
    /// </summary>
    private static void TerminateStale(JobRecord job, IReadOnlyList<InstanceStatus> observed, List<ReconcileAction> actions)
    {
        foreach (var stale in observed.Where(i => i.Job == job.Key && !i.IsEnded && i.Attempt != job.Attempt))
        {
            actions.Add(new Terminate(job.Key, stale.Attempt, stale.InstanceId, stale.Attempt < job.Attempt
                ? FormattableString.Invariant($"attempt {stale.Attempt} was replaced by attempt {job.Attempt}")
                : FormattableString.Invariant($"attempt {stale.Attempt} is not the job's (it is at attempt {job.Attempt})")));
        }
    }

    /// <summary>A launch on the placement's provider (a fallback to on-demand stays with the provider it falls back from).</summary>
    private static LaunchRequest Request(JobRecord job, int attempt, Market market, string instanceType, string zone) => new(
        ClientTokens.For(job.Key, attempt), job.Team, job.Id, attempt, market, instanceType, zone, job.RemainingHours, job.Job.Checkpointable,
        job.Job.CheckpointIntervalHours ?? Job.DefaultCheckpointIntervalHours, job.Job.Command)
    {
        Provider = job.Placement?.Provider,
    };
}
