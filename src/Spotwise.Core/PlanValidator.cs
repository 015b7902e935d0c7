namespace Spotwise.Core;

public enum ViolationKind
{
    UnknownJob,
    DuplicateAssignment,
    MissingJob,
    UnknownInstanceType,
    ResourceMismatch,
    PriceMismatch,
    CostMismatch,
    StartsTooEarly,
    WrongDuration,
    MissesDeadline,
    UnsafeSpot,
    DependencyOrder,
    OverCapacity,
    TotalsMismatch,
    FallbackOnOnDemand,
    UnknownZone,

    /// <summary>An assignment in a region the job's data cannot be moved to: the transfer table has no price for the pair.</summary>
    NoTransferPrice,

    /// <summary>
    /// An assignment a model proposed that cannot be read: an unknown market, a start that is not a time, or one
    /// beyond the planning horizon.
    /// </summary>
    MalformedAssignment,

    /// <summary>An assignment whose run does not lie inside one allowed interval of the job's scheduling windows.</summary>
    OutsideWindow,

    /// <summary>An assignment of a job no plan may hold: numbers beyond the planning model, or dependencies that cannot be met.</summary>
    Unplannable,

    /// <summary>A team's assignments cost more than its budget has left (<see cref="PlanningProblem.Budgets"/>).</summary>
    OverBudget,
    /// <summary>An assignment under a commitment the limits do not declare or that does not cover it (spot on the savings plan).</summary>
    UnknownCommitment,
}

/// <summary>One way a plan breaks the rules, naming the job where there is one.</summary>
public sealed record Violation(ViolationKind Kind, string? JobId, string Message)
{
    public override string ToString() => JobId is null ? $"{Kind}: {Message}" : $"{Kind} [{JobId}]: {Message}";
}

/// <summary>
/// Checks any plan, from any planner or model, against the jobs, the catalog and the limits. Nothing is launched
/// from a plan with violations. Times are compared to the second, money to a tenth of a cent.
/// </summary>
public static class PlanValidator
{
    private static readonly TimeSpan TimeTolerance = TimeSpan.FromSeconds(1);
    private const double MoneyToleranceUsd = 0.001;

    public static IReadOnlyList<Violation> Validate(Plan plan, PlanningProblem problem)
    {
        var violations = new List<Violation>();
        var jobs = new Dictionary<string, Job>(StringComparer.Ordinal);
        foreach (var job in problem.Jobs)
        {
            // Judged as planned: an assignment holds its instance for the work and the launch allowance.
            jobs.TryAdd(job.Id, problem.Settings.AsPlanned(job));
        }
        var dependencies = DependencyGraph.Of(problem.Jobs);
        var placed = new Dictionary<string, Assignment>(StringComparer.Ordinal);
        foreach (var a in plan.Schedule)
        {
            if (!jobs.TryGetValue(a.JobId, out var job))
            {
                violations.Add(new(ViolationKind.UnknownJob, a.JobId, "the plan assigns a job that is not in the queue"));
                continue;
            }
            if (!placed.TryAdd(a.JobId, a))
            {
                violations.Add(new(ViolationKind.DuplicateAssignment, a.JobId, "the job is assigned more than once"));
                continue;
            }
            if (WhyUnplannable(a, job, problem, dependencies) is { } why)
            {
                violations.Add(why);
                continue;
            }
            CheckAssignment(a, job, problem, violations);
        }
        CheckEveryJobAccountedFor(plan, problem, placed, violations);
        CheckDependencies(jobs, placed, violations);
        CheckCapacity(placed.Values, problem.Reservations, problem.Limits, violations);
        CheckBudgets(placed, jobs, problem, violations);
        CheckTotals(plan, placed.Values, violations);
        return violations;
    }

    /// <summary>
    /// An assignment no plan may make, checked before any arithmetic on it: the job's numbers or dependencies rule it
    /// out, or its start is so far off that adding the duration would overflow.
    /// </summary>
    private static Violation? WhyUnplannable(Assignment a, Job job, PlanningProblem problem, DependencyGraph dependencies)
    {
        if ((PlanningBounds.WhyOutOfBounds(job, problem) ?? dependencies.WhyBlocked(dependencies.IndexOf(job.Id))) is { } why)
        {
            return new(ViolationKind.Unplannable, a.JobId, "the job cannot be planned: " + why);
        }
        return PlanningBounds.IsWithinHorizon(a.Start, problem) ? null
            : new(ViolationKind.MalformedAssignment, a.JobId, $"starts {Fmt(a.Start)}, beyond the planning horizon");
    }

    private static void CheckAssignment(Assignment a, Job job, PlanningProblem problem, List<Violation> violations)
    {
        var entry = problem.Catalog.Find(a.Offer.InstanceType.Name);
        if (entry is null)
        {
            violations.Add(new(ViolationKind.UnknownInstanceType, a.JobId, $"instance type '{a.Offer.InstanceType.Name}' is not in the catalog"));
            return;
        }
        if (!job.Resources.IsSatisfiedBy(entry.Type))
        {
            violations.Add(new(ViolationKind.ResourceMismatch, a.JobId,
                $"instance type '{entry.Type.Name}' does not satisfy {job.Resources.Describe()}"));
        }
        if (ExpectedOffer(a, entry, problem, violations) is not { } offer)
        {
            return;
        }
        if (DataTransfer.For(job, offer, problem.Catalog, problem.Settings) is not { } move)
        {
            violations.Add(new(ViolationKind.NoTransferPrice, a.JobId,
                $"runs in {offer.Region}, but the transfer table has no price from dataRegion '{job.DataRegion ?? problem.Catalog.Region}' to it"));
            return;
        }
        if (Math.Abs(offer.PricePerHourUsd - a.Offer.PricePerHourUsd) > MoneyToleranceUsd)
        {
            violations.Add(new(ViolationKind.PriceMismatch, a.JobId,
                FormattableString.Invariant($"price {a.Offer.PricePerHourUsd:0.####} $/h differs from the catalog's {offer.PricePerHourUsd:0.####} $/h")));
        }
        var fallbackPrice = problem.Catalog.CheapestOnDemandPricePerHourUsd(job.Resources) ?? offer.PricePerHourUsd;
        var cost = move.ExpectedCostUsd(job, offer, fallbackPrice);
        if (Math.Abs(cost - a.ExpectedCostUsd) > MoneyToleranceUsd)
        {
            violations.Add(new(ViolationKind.CostMismatch, a.JobId,
                FormattableString.Invariant($"expected cost {a.ExpectedCostUsd:0.####} USD differs from the cost model's {cost:0.####} USD")));
        }
        var ready = job.EarliestStart is { } es && es > problem.Now ? es : problem.Now;
        if (a.Start < ready - TimeTolerance)
        {
            violations.Add(new(ViolationKind.StartsTooEarly, a.JobId, $"starts {Fmt(a.Start)}, before it may ({Fmt(ready)})"));
        }
        // From here the job is judged as it runs there: moving its data holds the instance before the work.
        var run = move.Onto(job);
        if ((a.End - a.Start.AddHours(run.DurationHours)).Duration() > TimeTolerance)
        {
            violations.Add(new(ViolationKind.WrongDuration, a.JobId, move.Hours > 0
                ? FormattableString.Invariant(
                    $"runs {(a.End - a.Start).TotalHours:0.###} h but needs {run.DurationHours:0.###} h, {move.Hours:0.###} h of it moving its input from {job.DataRegion ?? problem.Catalog.Region} to {offer.Region}")
                : FormattableString.Invariant($"runs {(a.End - a.Start).TotalHours:0.###} h but needs {job.DurationHours:0.###} h")));
        }
        if (job.Deadline is { } deadline && a.End > deadline + TimeTolerance)
        {
            violations.Add(new(ViolationKind.MissesDeadline, a.JobId, $"ends {Fmt(a.End)}, after its deadline {Fmt(deadline)}"));
        }
        CheckWindows(a, job, violations);
        if (a.Market == Market.Spot)
        {
            CheckSpotSafety(a, run, violations);
        }
        else if (a.FallbackAt is not null)
        {
            violations.Add(new(ViolationKind.FallbackOnOnDemand, a.JobId, "an on-demand assignment has nothing to fall back from, yet carries a fallbackAt"));
        }
    }

    /// <summary>
    /// The offer the assignment must match: the catalog's in its zone, or, under a commitment, the commitment's (reserved
    /// at 0 $/h in its zone, the savings plan at its discount), as the option builder made it. Null (and why) when none.
    /// </summary>
    private static Offer? ExpectedOffer(Assignment a, CatalogEntry entry, PlanningProblem problem, List<Violation> violations)
    {
        if (a.Commitment is { } commitment)
        {
            var committed = problem.Limits.Commitments.OfferFor(problem.Catalog, entry, a.Market, a.Offer.Zone, commitment);
            if (committed.Offer is null)
            {
                violations.Add(new(ViolationKind.UnknownCommitment, a.JobId, committed.WhyNone!));
            }
            return committed.Offer;
        }
        if (problem.Catalog.OfferFor(entry, a.Market, a.Offer.Zone) is { } offer)
        {
            return offer;
        }
        var zones = string.Join(", ", (a.Market == Market.Spot ? problem.Catalog.SpotOffersFor(entry) : problem.Catalog.OnDemandOffersFor(entry))
            .Select(o => $"'{o.Zone}'"));
        violations.Add(new(ViolationKind.UnknownZone, a.JobId,
            $"zone '{a.Offer.Zone}' does not offer {entry.Type.Name} on {a.Market.ToWire()}; the catalog's: {zones}"));
        return null;
    }

    /// <summary>A job with scheduling windows starts inside one allowed interval and runs to its end inside the same one.</summary>
    private static void CheckWindows(Assignment a, Job job, List<Violation> violations)
    {
        if (job.Windows.IsDefaultOrEmpty)
        {
            return;
        }
        var (windows, errors) = ScheduleWindows.Parse(job.Windows);
        if (windows is null)
        {
            violations.Add(new(ViolationKind.OutsideWindow, a.JobId, $"its windows cannot be read: {string.Join("; ", errors.Select(e => $"{e.Field} {e.Message}"))}"));
        }
        else if (!windows.Holds(a.Start + TimeTolerance, a.End - TimeTolerance))
        {
            violations.Add(new(ViolationKind.OutsideWindow, a.JobId, $"runs {Fmt(a.Start)} to {Fmt(a.End)}, not inside one allowed interval of its windows {windows}"));
        }
    }

    private static void CheckSpotSafety(Assignment a, Job job, List<Violation> violations)
    {
        if (CostModel.LatestSafeSpotStart(job) is { } latest && a.Start > latest + TimeTolerance)
        {
            violations.Add(new(ViolationKind.UnsafeSpot, a.JobId,
                $"on spot from {Fmt(a.Start)}, but after {Fmt(latest)} an interruption leaves no time to finish on on-demand"));
        }
        var fallback = CostModel.FallbackAt(job);
        if (fallback != a.FallbackAt && (fallback is null || a.FallbackAt is null || (fallback.Value - a.FallbackAt.Value).Duration() > TimeTolerance))
        {
            violations.Add(new(ViolationKind.UnsafeSpot, a.JobId,
                $"fallbackAt {(a.FallbackAt is { } f ? Fmt(f) : "missing")} should be {(fallback is { } g ? Fmt(g) : "absent")}"));
        }
    }

    private static void CheckEveryJobAccountedFor(Plan plan, PlanningProblem problem, Dictionary<string, Assignment> placed, List<Violation> violations)
    {
        var unplanned = new HashSet<string>(StringComparer.Ordinal);
        foreach (var u in plan.Unplanned)
        {
            if (placed.ContainsKey(u.JobId))
            {
                violations.Add(new(ViolationKind.DuplicateAssignment, u.JobId, "the job is both planned and reported unplanned"));
            }
            unplanned.Add(u.JobId);
        }
        foreach (var job in problem.Jobs)
        {
            if (!placed.ContainsKey(job.Id) && !unplanned.Contains(job.Id))
            {
                violations.Add(new(ViolationKind.MissingJob, job.Id, "the job is neither planned nor reported unplanned"));
            }
        }
    }

    private static void CheckDependencies(Dictionary<string, Job> jobs, Dictionary<string, Assignment> placed, List<Violation> violations)
    {
        foreach (var (id, a) in placed)
        {
            if (!jobs.TryGetValue(id, out var job))
            {
                continue;
            }
            foreach (var dep in job.DependsOn)
            {
                if (!placed.TryGetValue(dep, out var before))
                {
                    violations.Add(new(ViolationKind.DependencyOrder, id, $"depends on '{dep}', which is not planned"));
                }
                else if (before.End > a.Start + TimeTolerance)
                {
                    violations.Add(new(ViolationKind.DependencyOrder, id, $"starts {Fmt(a.Start)}, before '{dep}' ends {Fmt(before.End)}"));
                }
            }
        }
    }

    /// <summary>
    /// Sweeps each pool's starts and ends in time order, reservations included; an end frees capacity before a start
    /// at the same moment. Only a planned start can break capacity: reservations are the world as it is.
    /// </summary>
    private static void CheckCapacity(IEnumerable<Assignment> assignments, IEnumerable<CapacityReservation> reservations, CapacityLimits limits,
        List<Violation> violations)
    {
        // Every pool an instance draws on: reserved instances and the savings plan's commitment are pools too.
        var holds = assignments.Select(a => (a.JobId, a.Offer, From: a.Start, To: a.End, Planned: true))
            .Concat(reservations.Select(r => (r.JobId, r.Offer, r.From, r.To, Planned: false)))
            .SelectMany(h => limits.PoolsOf(h.Offer).Select(use => (h.JobId, Use: use, h.From, h.To, h.Planned)));
        foreach (var pool in holds.GroupBy(h => h.Use.Pool))
        {
            if (pool.Key.IsUnlimited || !pool.Any(h => h.Planned))
            {
                continue;
            }
            var events = pool
                .SelectMany(h => new[] { (Time: h.From, Delta: h.Use.Demand, h.JobId, h.Planned), (Time: h.To, Delta: -h.Use.Demand, h.JobId, h.Planned) })
                .OrderBy(e => e.Time).ThenBy(e => e.Delta)
                .ToList();
            var inUse = 0L;
            foreach (var e in events)
            {
                inUse += e.Delta;
                if (e.Delta > 0 && e.Planned && inUse > pool.Key.Capacity)
                {
                    violations.Add(new(ViolationKind.OverCapacity, e.JobId, OverCapacity(pool.Key, inUse, e.Time)));
                }
            }
        }
    }

    /// <summary>
    /// Each budgeted team's assignments, most urgent first (priority, then deadline), may add up to what it has left; every
    /// assignment past that point is named, so a repair drops the least urgent ones and keeps the rest.
    /// </summary>
    private static void CheckBudgets(Dictionary<string, Assignment> placed, Dictionary<string, Job> jobs, PlanningProblem problem, List<Violation> violations)
    {
        foreach (var budget in problem.Budgets)
        {
            var taken = 0L;
            var ofTeam = placed.Values.Where(a => jobs.TryGetValue(a.JobId, out var j) && string.Equals(j.Team, budget.Team, StringComparison.Ordinal))
                .OrderByDescending(a => jobs[a.JobId].Priority).ThenBy(a => jobs[a.JobId].Deadline ?? DateTimeOffset.MaxValue)
                .ThenBy(a => a.JobId, StringComparer.Ordinal);
            foreach (var a in ofTeam)
            {
                taken += TeamBudget.Units(a.ExpectedCostUsd);
                if (taken > budget.LeftUnits)
                {
                    violations.Add(new(ViolationKind.OverBudget, a.JobId, FormattableString.Invariant(
                        $"team {budget.Team} has {budget.LeftUsd:0.00} USD left {budget.Period}; with this job its assignments cost {taken / TeamBudget.UnitsPerUsd:0.00} USD")));
                }
            }
        }
    }

    private static string OverCapacity(Pool pool, long inUse, DateTimeOffset at) => pool.Id == SavingsPlan.Name
        ? FormattableString.Invariant(
            $"the savings plan covers {inUse / SavingsPlan.UnitsPerUsdPerHour:0.####} $/h at {Fmt(at)}, over its commitment of {pool.Capacity / SavingsPlan.UnitsPerUsdPerHour:0.####} $/h")
        : pool.Id.StartsWith("reserved:", StringComparison.Ordinal)
            ? $"{inUse} jobs use reserved pool {pool.Id} at {Fmt(at)}, but only {pool.Capacity} instances are reserved"
            : $"pool {pool.Id} holds {inUse} at {Fmt(at)}, over its capacity of {pool.Capacity}";

    private static void CheckTotals(Plan plan, IEnumerable<Assignment> placed, List<Violation> violations)
    {
        if (plan.Totals.JobsPlanned != plan.Schedule.Length || plan.Totals.JobsUnplanned != plan.Unplanned.Length)
        {
            violations.Add(new(ViolationKind.TotalsMismatch, null,
                $"totals count {plan.Totals.JobsPlanned} planned and {plan.Totals.JobsUnplanned} unplanned, the plan lists {plan.Schedule.Length} and {plan.Unplanned.Length}"));
        }
        var sum = placed.Sum(a => a.ExpectedCostUsd);
        if (Math.Abs(sum - plan.Totals.ExpectedCostUsd) > MoneyToleranceUsd * Math.Max(1, plan.Schedule.Length))
        {
            violations.Add(new(ViolationKind.TotalsMismatch, null,
                FormattableString.Invariant($"totals say {plan.Totals.ExpectedCostUsd:0.####} USD but the schedule adds up to {sum:0.####} USD")));
        }
    }

    private static string Fmt(DateTimeOffset t) => t.ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture);
}
