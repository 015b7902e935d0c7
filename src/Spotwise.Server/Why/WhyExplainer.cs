using System.Globalization;
using Microsoft.Extensions.Options;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;
using Spotwise.Runtime.History;

namespace Spotwise.Server.Why;

/// <summary>
/// Answers "why is my job here, or why is it waiting?" for one job, from what the service already knows: the job's
/// record and events, the latest plan's reason for it (its unplanned reasons carry a tag: <c>budget:</c>,
/// <c>window:</c>, <c>fair share:</c>, <c>reservation:</c>), its options priced now with the limits the next cycle plans
/// with, the other jobs' holds on the pools it fits, the spot pools cooling down, the quotas the cloud taught, and the
/// backends' health. The one explainer: <c>GET /api/jobs/{id}/why</c> and the job page both ask it.
/// </summary>
public sealed class WhyExplainer(
    IJobStore store, IPriceFeed prices, Scheduler scheduler, SchedulerOptions scheduling, SpotBackoff backoff, LearnedLimits learned,
    BackendHealth health, IOptions<SpotwiseOptions> options, TimeProvider time, PoolInterruptionTracker? pools = null)
{
    /// <summary>A planned start later than the job could start by more than this is explained.</summary>
    private static readonly TimeSpan Tolerance = TimeSpan.FromMinutes(1);

    /// <summary>The job of <paramref name="key"/> explained, or null when the team has no such job.</summary>
    public async Task<WhyView?> ExplainAsync(JobKey key, CancellationToken ct)
    {
        if (await store.GetAsync(key, ct) is not { } record)
        {
            return null;
        }
        var events = await store.EventsAsync(key, ct);
        if (record.State.IsFinal())
        {
            return new WhyView(record.Id, record.State.ToWire(), Final(record), record.Placement is { } p ? Recorded(p, LastPlannedCause(events)) : null, []);
        }
        var now = time.GetUtcNow();
        // Priced as the scheduler prices: each spot pool at the rate its history taught, where it has enough.
        var poolRates = pools?.Current ?? PoolInterruptionHistory.Empty;
        var catalog = poolRates.Apply(await prices.PricesAtAsync(now, ct));
        var limits = scheduler.LimitsAt(catalog, now);
        var job = record.Job with { Id = Scheduler.PlanningId(record), DurationHours = Scheduler.WorkLeftHours(record) };
        var problem = new PlanningProblem(now, [job], catalog, limits, scheduling.Settings);
        var holds = await PoolHolds.ReadAsync(store, key, catalog, limits, now, scheduling.Settings.LaunchAllowance, ct);
        var plan = await store.LatestPlanAsync(ct);
        var c = new Context(record, now, problem, OptionBuilder.ForJob(problem, job), holds, poolRates);
        var placement = record.Placement is { } placed ? Placement(c, placed, PlanReason(plan, record) ?? LastPlannedCause(events)) : null;
        var waiting = await WaitingAsync(c, plan, ct);
        return new WhyView(record.Id, record.State.ToWire(), Summary(record, placement, waiting), placement, waiting);
    }

    /// <summary>What the explanation is built from.</summary>
    private sealed record Context(JobRecord Record, DateTimeOffset Now, PlanningProblem Problem, JobOptions Options, PoolHolds Holds,
        PoolInterruptionHistory PoolRates)
    {
        /// <summary>The rate spot in <paramref name="zone"/> on <paramref name="instanceType"/> is priced with; null on demand or for a type the catalog lacks.</summary>
        public SpotRateWhy? SpotRate(string market, string instanceType, string zone) =>
            market == Market.Spot.ToWire() && Catalog.Find(instanceType) is { } entry
                ? SpotRateWhy.From(PoolRates.RateFor(Catalog.Provider, entry, zone))
                : null;

        /// <summary>When the job could start at the soonest, its own bounds only.</summary>
        public DateTimeOffset Ready => Record.Job.EarliestStart is { } es && es > Now ? es : Now;

        public Catalog Catalog => Problem.Catalog;

        public CapacityLimits Limits => Problem.Limits;

        public IEnumerable<CatalogEntry> Fits => Catalog.Entries.Where(e => Record.Job.Resources.IsSatisfiedBy(e.Type));
    }

    private static PlacementWhy Placement(Context c, Placement p, string reason)
    {
        var options = c.Options.Options;
        var chosen = options.FirstOrDefault(o => Same(o, p));
        var rows = options.Select(o => new OptionWhy(o.Offer.Market.ToWire(), o.Offer.InstanceType.Name, o.Offer.Zone, o.Offer.PricePerHourUsd,
            PlanBuilder.Round(o.ExpectedCostUsd), ReferenceEquals(o, chosen), ReferenceEquals(o, chosen) ? null : Note(c, o, p))
        {
            SpotRate = c.SpotRate(o.Offer.Market.ToWire(), o.Offer.InstanceType.Name, o.Offer.Zone),
        }).ToList();
        return Recorded(p, reason) with
        {
            SpotRate = c.SpotRate(p.Market.ToWire(), p.InstanceType, p.Zone),
            CheapestSpotExpectedCostUsd = Cheapest(options, Market.Spot),
            CheapestOnDemandExpectedCostUsd = Cheapest(options, Market.OnDemand),
            Options = rows,
            DataTransfer = chosen is { TransferHours: > 0 } ? Transfer(c, chosen) : null,
        };
    }

    private static PlacementWhy Recorded(Placement p, string reason) => new(p.Market.ToWire(), p.InstanceType, p.Zone, p.PlannedStart,
        p.PricePerHourUsd, p.ExpectedCostUsd, p.FallbackAt, reason, null, null, [], null);

    private static bool Same(JobOption o, Placement p) =>
        o.Offer.Market == p.Market && o.Offer.InstanceType.Name == p.InstanceType && o.Offer.Zone == p.Zone;

    private static double? Cheapest(IReadOnlyList<JobOption> options, Market market) =>
        options.Where(o => o.Offer.Market == market).Select(o => (double?)PlanBuilder.Round(o.ExpectedCostUsd)).FirstOrDefault();

    /// <summary>Why an option cheaper than the placement was not taken, when its pool says so.</summary>
    private static string? Note(Context c, JobOption o, Placement p)
    {
        if (o.ExpectedCostUsd >= p.ExpectedCostUsd - 1e-9)
        {
            return null;
        }
        var free = c.Holds.FreeFrom(o.Pool, o.EarliestStart, o.RunHours);
        return free is null ? Invariant($"cheaper, but its pool ({Pool(o.Pool)}) has no room for it")
            : free > o.EarliestStart + Tolerance ? Invariant($"cheaper, but its pool ({Pool(o.Pool)}) is full until {free:u}")
            : o.LatestStart is { } latest && latest < c.Ready ? "cheaper, but too late to start safely"
            : null;
    }

    private static TransferWhy Transfer(Context c, JobOption o)
    {
        var job = c.Record.Job;
        var move = DataTransfer.For(c.Options.Job, o.Offer, c.Catalog, c.Problem.Settings) ?? DataTransfer.None;
        return new TransferWhy(job.InputDataSizeGB ?? 0, job.DataRegion ?? c.Catalog.Region, o.Offer.Region, Math.Round(move.Hours, 4), PlanBuilder.Round(move.CostUsd));
    }

    private async Task<List<WaitingWhy>> WaitingAsync(Context c, PlanDocument? plan, CancellationToken ct)
    {
        var r = c.Record;
        var waiting = new List<WaitingWhy>();
        if (r.State == JobState.Running)
        {
            return waiting;
        }
        if (r.State is JobState.Queued or JobState.Planned or JobState.Interrupted)
        {
            waiting.AddRange(await PrerequisitesAsync(r, c.Now, ct));
            waiting.AddRange(r.State switch
            {
                JobState.Queued => Queued(c, UnplannedReason(plan, r) ?? StoredReason(r), plan),
                JobState.Planned => Later(c),
                _ => [],
            });
            waiting.AddRange(Backoff(c));
            waiting.AddRange(Quotas(c));
        }
        waiting.AddRange(health.Problems.Select(p => new WaitingWhy(WaitingKinds.Backend, $"{p} (since {Invariant($"{p.Since:u}")})")));
        return waiting;
    }

    /// <summary>Why a queued job is not planned: the latest plan's reason for it, classified; none yet: the next cycle.</summary>
    private IEnumerable<WaitingWhy> Queued(Context c, string? reason, PlanDocument? plan)
    {
        if (reason is null)
        {
            var cycle = options.Value.CycleInterval;
            yield return new WaitingWhy(WaitingKinds.Queued, Invariant(
                $"not yet planned: the scheduler plans it in its next cycle (on every submission, and at least every {cycle.TotalSeconds:0.#} s)")
                + (c.Record.LastError is { } last ? $"; last: {last}" : ""));
            yield break;
        }
        if (WaitingKinds.OfTag(reason) is WaitingKinds.FairShare && plan?.FairShare?.Describe(c.Record.Team) is { } figures)
        {
            // The shares the plan divided capacity by, as it stored them: the team's deficit in bands says how far behind it stood.
            yield return new WaitingWhy(WaitingKinds.FairShare, Invariant($"{reason}; the plan of {plan.Now:u} shared by: {figures}"));
        }
        else if (WaitingKinds.OfTag(reason) is { } kind)
        {
            yield return new WaitingWhy(kind, reason);
        }
        else if (IsCapacity(reason))
        {
            yield return Capacity(c, reason);
        }
        else if (!reason.Contains("prerequisite", StringComparison.Ordinal) && !reason.Contains("depends on", StringComparison.Ordinal))
        {
            yield return new WaitingWhy(WaitingKinds.Unplannable, reason);
        }
    }

    /// <summary>The planners' words for "every pool is full" (CP-SAT's, through the plan builder, and greedy's).</summary>
    private static bool IsCapacity(string reason) =>
        reason.Contains("no capacity", StringComparison.Ordinal) || reason.Contains("pool is full", StringComparison.Ordinal);

    /// <summary>Every pool the job fits, and when each has room for it: the soonest is when capacity may come.</summary>
    private static WaitingWhy Capacity(Context c, string reason)
    {
        var pools = c.Options.Options.GroupBy(o => o.Pool.Pool.Id).Select(g => g.First())
            .Select(o => (Option: o, Free: c.Holds.FreeFrom(o.Pool, o.EarliestStart, o.RunHours))).ToList();
        var soonest = pools.Where(p => p.Free is not null).Select(p => p.Free).Min();
        var figures = string.Join("; ", pools.Take(6).Select(p => Invariant(
            $"{Pool(p.Option.Pool)}: {c.Holds.InUse(p.Option.Pool.Pool.Id, c.Ready)} in use, ") + (p.Free is { } f ? Invariant($"room from {f:u}") : "no room")));
        var deadline = c.Record.Job.Deadline is { } d ? Invariant($" (deadline {d:u})") : "";
        return new WaitingWhy(WaitingKinds.Capacity, $"{reason}{deadline}: {figures}", soonest);
    }

    /// <summary>Why a planned job starts later than it could: its earliest start, its windows, or its pool full until then.</summary>
    private static IEnumerable<WaitingWhy> Later(Context c)
    {
        var p = c.Record.Placement!;
        if (p.PlannedStart <= c.Ready + Tolerance)
        {
            if (c.Record.Job.EarliestStart is { } es && es > c.Now)
            {
                yield return new WaitingWhy(WaitingKinds.EarliestStart, Invariant($"its earliestStart is {es:u}"), es);
            }
            yield break;
        }
        var chosen = c.Options.Options.FirstOrDefault(o => Same(o, p));
        var runHours = chosen?.RunHours ?? c.Record.Job.DurationHours;
        // Scheduling windows: a run that could start now but would not lie inside one allowed interval waits for the next.
        if (ScheduleWindows.Of(c.Record.Job) is { } windows && !windows.Holds(c.Ready, c.Ready.AddHours(runHours)))
        {
            yield return new WaitingWhy(WaitingKinds.Window, Invariant(
                $"its windows ({windows}) hold no run of {runHours:0.##} h from {c.Ready:u}; the plan starts it at {p.PlannedStart:u}"), p.PlannedStart);
            yield break;
        }
        if (chosen is not null && c.Holds.FreeFrom(chosen.Pool, c.Ready, chosen.RunHours) is { } free
            && free > c.Ready + Tolerance)
        {
            yield return new WaitingWhy(WaitingKinds.Capacity, Invariant(
                $"its pool ({Pool(chosen.Pool)}) is full until {free:u}: {c.Holds.InUse(chosen.Pool.Pool.Id, c.Ready)} in use by other jobs"), free);
        }
    }

    /// <summary>The prerequisites not yet done, each with where it is and when it is expected to end.</summary>
    private async Task<List<WaitingWhy>> PrerequisitesAsync(JobRecord r, DateTimeOffset now, CancellationToken ct)
    {
        var parts = new List<string>();
        DateTimeOffset? until = null;
        var known = true;
        foreach (var key in r.PrerequisiteKeys)
        {
            var dep = await store.GetAsync(key, ct);
            if (dep is { State: JobState.Succeeded })
            {
                continue;
            }
            var end = dep is { Placement: not null } && !dep.State.IsFinal() ? Scheduler.ExpectedEnd(dep, now, scheduling.Settings.LaunchAllowance) : (DateTimeOffset?)null;
            parts.Add(dep is null ? $"'{key.Id}' does not exist"
                : Prerequisites.Blocker(key.Id, dep) is { } never ? never
                : $"'{key.Id}' is {dep.State.ToWire()}" + (end is { } e ? Invariant($", expected to end at {e:u}") : ""));
            known &= end is not null;
            until = end > until || until is null ? end : until;
        }
        return parts.Count == 0 ? [] : [new WaitingWhy(WaitingKinds.Prerequisites, "prerequisites not done: " + string.Join("; ", parts), known ? until : null)];
    }

    /// <summary>Spot pools the job fits that cool down after a refusal or an interruption.</summary>
    private IEnumerable<WaitingWhy> Backoff(Context c)
    {
        var fits = c.Fits.Select(e => e.Type.Name).ToHashSet(StringComparer.Ordinal);
        return backoff.BlockedUntil(c.Now).Where(b => fits.Contains(b.Pool.InstanceType)).Select(b => new WaitingWhy(WaitingKinds.SpotBackoff,
            Invariant($"spot {b.Pool} refused a launch or took an instance back; it is planned with no capacity until {b.Until:u}"), b.Until));
    }

    /// <summary>Quotas the cloud refused launches for, in a class the job fits.</summary>
    private IEnumerable<WaitingWhy> Quotas(Context c)
    {
        var classes = c.Fits.Select(e => e.Type.QuotaClass).ToHashSet(StringComparer.Ordinal);
        return learned.At(c.Now).Where(q => classes.Contains(q.QuotaClass)).Select(q => new WaitingWhy(WaitingKinds.Quota,
            Invariant($"{q} (learnt at {q.At:u} from a refused launch; planned within it until {q.At + learned.Memory:u})"), q.At + learned.Memory));
    }

    private static string Summary(JobRecord r, PlacementWhy? placement, List<WaitingWhy> waiting)
    {
        var where = placement is null ? "" : $"{placement.Market} {placement.InstanceType} in {placement.Zone}";
        var head = r.State switch
        {
            JobState.Planned => Invariant($"planned on {where} from {placement!.Start:u}: {placement.Reason}"),
            JobState.Launching => $"launching on {where}",
            JobState.Running => Invariant($"running on {where} since {r.StartedAt:u}"),
            JobState.Interrupted => $"interrupted ({r.LastError}); the spot policy decides where it goes next",
            _ => "waiting",
        };
        return waiting.Count == 0 ? head : $"{head}; waits for {string.Join(", ", waiting.Select(w => w.Kind).Distinct())}: {waiting[0].Detail}";
    }

    private static string Final(JobRecord r) => r.State switch
    {
        JobState.Succeeded => Invariant($"succeeded at {r.FinishedAt:u}, cost {r.CostSoFarUsd:0.00} USD"),
        JobState.Failed => $"failed: {r.LastError}",
        _ => "cancelled",
    };

    /// <summary>The latest plan's reason for the job's placement, as its team reads it.</summary>
    private static string? PlanReason(PlanDocument? plan, JobRecord r) =>
        plan?.Schedule.FirstOrDefault(a => a.JobId == Scheduler.PlanningId(r)) is { } a ? JobKey.ForTeam(a.Reason, r.Team) : null;

    /// <summary>The latest plan's reason for leaving the job out, as its team reads it.</summary>
    private static string? UnplannedReason(PlanDocument? plan, JobRecord r) =>
        plan?.Unplanned.FirstOrDefault(u => u.JobId == Scheduler.PlanningId(r)) is { } u ? JobKey.ForTeam(u.Reason, r.Team) : null;

    /// <summary>
    /// The reason the last plan that saw the job wrote into it (<c>JobTransitions.Unplan</c>), when it is one a planner
    /// gives: a cycle that did not see the job yet may have stored the latest plan after the one that left it out.
    /// </summary>
    private static string? StoredReason(JobRecord r) =>
        r.LastError is { } e && (WaitingKinds.OfTag(e) is not null || IsCapacity(e)) ? e : null;

    /// <summary>Why the job was last placed, as its events tell (the scheduler's cause is the plan's reason).</summary>
    private static string LastPlannedCause(IReadOnlyList<JobEvent> events) =>
        events.LastOrDefault(e => e.To == JobState.Planned)?.Cause ?? (events.Count > 0 ? events[^1].Cause : "");

    private static string Pool(PoolUse use) => use.Pool.IsUnlimited ? use.Pool.Id
        : Invariant($"{use.Pool.Id}, {use.Pool.Capacity} {(use.Pool.Id.StartsWith("spot:", StringComparison.Ordinal) ? "instances" : "vCPUs")}");

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
