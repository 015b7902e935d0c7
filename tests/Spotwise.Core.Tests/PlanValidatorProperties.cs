using System.Collections.Immutable;
using CsCheck;

namespace Spotwise.Core.Tests;

/// <summary>
/// Random valid plans pass; one mutation of a known kind is caught as exactly that kind, naming the job it touched.
/// Plans come from <see cref="TestPlanner"/> over random queues (<see cref="Generators.Scenarios"/>).
/// </summary>
public class PlanValidatorProperties
{
    private const int Iterations = 300;

    /// <summary>A broken plan (and the problem it is judged against) with the jobs a violation may name.</summary>
    private sealed record Mutant(PlanningProblem Problem, Plan Plan, ImmutableHashSet<string?> Culprits, string What);

    private delegate Mutant? Mutation(Scenario s, int pick, int minutes);

    [Fact]
    public void Random_valid_plans_have_no_violations() =>
        Generators.Scenarios.Sample(
            s => Assert.Empty(PlanValidator.Validate(s.Plan, s.Problem)),
            iter: Iterations, print: s => s.ToString());

    [Fact]
    public void A_plan_fits_when_every_pool_is_exactly_as_large_as_its_peak_use() =>
        Generators.Scenarios.Sample(s =>
        {
            var limits = CapacityLimits.None with
            {
                SpotPoolSizes = PeakUse(s.Plan, Market.Spot, a => a.Offer.InstanceType.Name),
                OnDemandVcpuQuotas = PeakUse(s.Plan, Market.OnDemand, a => a.Offer.InstanceType.QuotaClass),
            };

            Assert.Empty(PlanValidator.Validate(s.Plan, s.Problem with { Limits = limits }));
        }, iter: Iterations, print: s => s.ToString());

    [Fact]
    public void A_start_before_the_job_may_start_is_StartsTooEarly() =>
        AssertCaught(ViolationKind.StartsTooEarly, (s, pick, minutes) => Pick(s.Plan.Schedule, pick) is { } a
            ? Moved(s, a, ReadyOf(s, s.JobOf(a)).AddMinutes(-minutes), $"{a.JobId} starts {minutes} min before it is ready")
            : null);

    [Fact]
    public void An_end_past_the_deadline_is_MissesDeadline() =>
        AssertCaught(ViolationKind.MissesDeadline, (s, pick, minutes) =>
            Pick([.. s.Plan.Schedule.Where(a => s.JobOf(a).Deadline is not null)], pick) is { } a
                ? Moved(s, a, a.Start + (s.JobOf(a).Deadline!.Value - a.End) + TimeSpan.FromMinutes(minutes), $"{a.JobId} ends {minutes} min after its deadline")
                : null);

    [Fact]
    public void An_end_that_does_not_match_the_duration_is_WrongDuration() =>
        AssertCaught(ViolationKind.WrongDuration, (s, pick, minutes) =>
        {
            if (Pick(s.Plan.Schedule, pick) is not { } a)
            {
                return null;
            }
            var delta = TimeSpan.FromMinutes((minutes % 14 + 1) * (pick % 2 == 0 ? 1 : -1)); // durations are >= 15 min
            return Replaced(s, a, a with { End = a.End + delta }, $"{a.JobId} ends {delta} off");
        });

    [Fact]
    public void An_instance_type_that_does_not_satisfy_the_request_is_ResourceMismatch() =>
        AssertCaught(ViolationKind.ResourceMismatch, (s, pick, minutes) =>
        {
            if (Pick(s.Plan.Schedule, pick) is not { } a
                || Pick([.. s.Problem.Catalog.Entries.Where(e => !s.JobOf(a).Resources.IsSatisfiedBy(e.Type))], minutes) is not { } wrong)
            {
                return null;
            }
            return Replaced(s, a, a with { Offer = s.Problem.Catalog.OfferFor(wrong, a.Market) }, $"{a.JobId} on {wrong.Type.Name}");
        });

    [Fact]
    public void An_instance_type_not_in_the_catalog_is_UnknownInstanceType() =>
        AssertCaught(ViolationKind.UnknownInstanceType, (s, pick, minutes) => Pick(s.Plan.Schedule, pick) is { } a
            ? Replaced(s, a, a with { Offer = a.Offer with { InstanceType = a.Offer.InstanceType with { Name = $"zz{minutes}.mega" } } }, $"{a.JobId} on zz{minutes}.mega")
            : null);

    [Fact]
    public void A_price_other_than_the_catalogs_is_PriceMismatch() =>
        AssertCaught(ViolationKind.PriceMismatch, (s, pick, minutes) =>
        {
            if (Pick(s.Plan.Schedule, pick) is not { } a)
            {
                return null;
            }
            var delta = (0.002 + minutes / 100.0) * (pick % 2 == 0 ? 1 : -1);
            return Replaced(s, a, a with { Offer = a.Offer with { PricePerHourUsd = a.Offer.PricePerHourUsd + delta } }, $"{a.JobId} price {delta:+0.###;-0.###}");
        });

    [Fact]
    public void An_expected_cost_other_than_the_cost_models_is_CostMismatch() =>
        AssertCaught(ViolationKind.CostMismatch, (s, pick, minutes) =>
        {
            if (Pick(s.Plan.Schedule, pick) is not { } a)
            {
                return null;
            }
            var delta = (0.002 + minutes / 1000.0) * (pick % 2 == 0 ? 1 : -1);
            return Replaced(s, a, a with { ExpectedCostUsd = a.ExpectedCostUsd + delta }, $"{a.JobId} cost {delta:+0.####;-0.####}");
        });

    [Fact]
    public void A_spot_start_after_the_latest_safe_spot_start_is_UnsafeSpot() =>
        AssertCaught(ViolationKind.UnsafeSpot, (s, pick, minutes) =>
            Pick([.. s.Plan.Schedule.Where(a => a.Market == Market.Spot && s.JobOf(a).Deadline is not null)], pick) is { } a
                ? Moved(s, a, CostModel.LatestSafeSpotStart(s.JobOf(a))!.Value.AddMinutes(minutes), $"{a.JobId} on spot {minutes} min after its latest safe start")
                : null);

    [Fact]
    public void A_wrong_fallback_moment_is_UnsafeSpot() =>
        AssertCaught(ViolationKind.UnsafeSpot, (s, pick, minutes) =>
        {
            if (Pick([.. s.Plan.Schedule.Where(a => a.Market == Market.Spot)], pick) is not { } a)
            {
                return null;
            }
            DateTimeOffset? wrong = a.FallbackAt is not { } f ? s.Problem.Now.AddMinutes(minutes)
                : pick % 3 == 0 ? null
                : f.AddMinutes(pick % 3 == 1 ? minutes : -minutes);
            return Replaced(s, a, a with { FallbackAt = wrong }, $"{a.JobId} fallbackAt {wrong:O} instead of {a.FallbackAt:O}");
        });

    [Fact]
    public void A_job_assigned_twice_or_also_listed_unplanned_is_DuplicateAssignment() =>
        AssertCaught(ViolationKind.DuplicateAssignment, (s, pick, minutes) =>
        {
            if (Pick(s.Plan.Schedule, pick) is not { } a)
            {
                return null;
            }
            return pick % 2 == 0
                ? Mutated(s, s.Plan.Schedule.Insert(minutes % (s.Plan.Schedule.Length + 1), a), a.JobId, $"{a.JobId} assigned twice")
                : new Mutant(s.Problem, s.Plan with { Unplanned = s.Plan.Unplanned.Add(new UnplannedJob(a.JobId, "also")) }, [a.JobId], $"{a.JobId} also unplanned");
        });

    [Fact]
    public void A_job_dropped_without_being_listed_unplanned_is_MissingJob() =>
        AssertCaught(ViolationKind.MissingJob, (s, pick, minutes) => Pick(s.Plan.Schedule, pick) is { } a
            ? Mutated(s, s.Plan.Schedule.Remove(a), a.JobId, $"{a.JobId} dropped")
            : null);

    [Fact]
    public void An_assignment_for_a_job_not_in_the_queue_is_UnknownJob() =>
        AssertCaught(ViolationKind.UnknownJob, (s, pick, minutes) => Pick(s.Plan.Schedule, pick) is { } a
            ? Mutated(s, s.Plan.Schedule.Add(a with { JobId = $"ghost-{minutes}" }), $"ghost-{minutes}", $"ghost-{minutes} added")
            : null);

    [Fact]
    public void A_dependent_starting_before_its_dependency_ends_is_DependencyOrder() =>
        AssertCaught(ViolationKind.DependencyOrder, (s, pick, minutes) =>
        {
            var placed = s.Plan.Schedule.ToDictionary(a => a.JobId);
            var pairs = s.Plan.Schedule
                .SelectMany(a => s.JobOf(a).DependsOn.Where(placed.ContainsKey).Select(d => (Dependent: a, Dependency: placed[d])))
                .ToList();
            if (pairs.Count == 0)
            {
                return null;
            }
            var (dependent, dependency) = pairs[pick % pairs.Count];
            return Moved(s, dependent, dependency.End.AddMinutes(-minutes), $"{dependent.JobId} starts {minutes} min before {dependency.JobId} ends");
        });

    [Fact]
    public void More_use_than_a_pool_holds_is_OverCapacity() =>
        AssertCaught(ViolationKind.OverCapacity, (s, pick, minutes) =>
        {
            if (Pick(s.Plan.Schedule, pick) is not { } a)
            {
                return null;
            }
            // Shrink the pool of a to one less than its peak use in the plan.
            var spot = a.Market == Market.Spot;
            Func<Assignment, string> key = spot ? x => x.Offer.InstanceType.Name : x => x.Offer.InstanceType.QuotaClass;
            var peak = PeakUse(s.Plan, a.Market, key)[key(a)];
            var pool = ImmutableDictionary<string, int>.Empty.Add(key(a), peak - 1);
            var limits = spot ? CapacityLimits.None with { SpotPoolSizes = pool } : CapacityLimits.None with { OnDemandVcpuQuotas = pool };
            var culprits = s.Plan.Schedule.Where(x => x.Market == a.Market && key(x) == key(a)).Select(x => (string?)x.JobId).ToImmutableHashSet();
            return new Mutant(s.Problem with { Limits = limits }, s.Plan, culprits, $"pool of {a.JobId} ({key(a)}) holds {peak - 1}, peak use {peak}");
        });

    [Fact]
    public void Totals_that_do_not_add_up_are_TotalsMismatch() =>
        AssertCaught(ViolationKind.TotalsMismatch, (s, pick, minutes) =>
        {
            var delta = (0.001 * s.Plan.Schedule.Length + 0.002 + minutes / 100.0) * (pick % 2 == 0 ? 1 : -1);
            var totals = s.Plan.Totals with { ExpectedCostUsd = s.Plan.Totals.ExpectedCostUsd + delta };
            return new Mutant(s.Problem, s.Plan with { Totals = totals }, [null], $"totals {delta:+0.###;-0.###}");
        });

    private static void AssertCaught(ViolationKind kind, Mutation mutate) =>
        Gen.Select(Generators.Scenarios, Gen.Int[0, 1_000_000], Gen.Int[1, 600])
            .Select((s, pick, minutes) => (Scenario: s, Mutant: mutate(s, pick, minutes)))
            .Where(t => t.Mutant is not null)
            .Sample(t =>
            {
                var violations = PlanValidator.Validate(t.Mutant!.Plan, t.Mutant.Problem);

                Assert.True(violations.Any(v => v.Kind == kind && t.Mutant.Culprits.Contains(v.JobId)),
                    $"expected {kind} naming {string.Join(" or ", t.Mutant.Culprits.Select(c => c ?? "no job"))}; got:\n{string.Join("\n", violations)}");
            }, iter: Iterations, print: t => $"{t.Scenario}\nmutation: {t.Mutant!.What}");

    private static Assignment? Pick(ImmutableArray<Assignment> items, int pick) => items.IsEmpty ? null : items[pick % items.Length];

    private static CatalogEntry? Pick(List<CatalogEntry> items, int pick) => items.Count == 0 ? null : items[pick % items.Count];

    private static DateTimeOffset ReadyOf(Scenario s, Job job) => job.EarliestStart > s.Problem.Now ? job.EarliestStart.Value : s.Problem.Now;

    /// <summary>The assignment moved to a new start, keeping its duration.</summary>
    private static Mutant Moved(Scenario s, Assignment a, DateTimeOffset start, string what) =>
        Replaced(s, a, a with { Start = start, End = start + (a.End - a.Start) }, what);

    private static Mutant Replaced(Scenario s, Assignment old, Assignment changed, string what) =>
        Mutated(s, s.Plan.Schedule.Replace(old, changed), old.JobId, what);

    /// <summary>The plan with a new schedule and totals that add it up, so only the mutation itself is wrong.</summary>
    private static Mutant Mutated(Scenario s, ImmutableArray<Assignment> schedule, string culprit, string what)
    {
        var totals = s.Plan.Totals with { ExpectedCostUsd = PlanBuilder.Round(schedule.Sum(a => a.ExpectedCostUsd)) };
        return new Mutant(s.Problem, s.Plan with { Schedule = schedule, Totals = totals }, [culprit], what);
    }

    /// <summary>The most each pool of a market holds at once, ends before starts at the same moment.</summary>
    private static ImmutableDictionary<string, int> PeakUse(Plan plan, Market market, Func<Assignment, string> poolKey) =>
        plan.Schedule.Where(a => a.Market == market).GroupBy(poolKey).ToImmutableDictionary(g => g.Key, g =>
        {
            var demand = (Assignment a) => market == Market.Spot ? 1 : a.Offer.InstanceType.Vcpus;
            var inUse = 0;
            var peak = 0;
            foreach (var (_, delta) in g.SelectMany(a => new[] { (a.Start, demand(a)), (a.End, -demand(a)) }).OrderBy(e => e.Item1).ThenBy(e => e.Item2))
            {
                inUse += delta;
                peak = Math.Max(peak, inUse);
            }
            return peak;
        });
}
