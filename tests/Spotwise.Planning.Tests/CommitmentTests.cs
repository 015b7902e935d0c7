using CsCheck;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

/// <summary>
/// Reserved instances are filled first at their marginal cost (0: the fee is sunk); the savings plan discounts on-demand up
/// to its hourly commitment; the validator holds both to their pools, and the plan says which job uses which.
/// </summary>
public class CommitmentTests
{
    private const string Reserved = "reserved:c5.large@us-east-1a";

    /// <summary>c5.large at 0.10 $/h on-demand; spot no cheaper, so only on-demand and the commitments compete.</summary>
    private static readonly Catalog OnDemandOnly = TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.10));

    public static TheoryData<string> Optimizers => [CpSatPlanner.PlannerName, GreedyPlanner.PlannerName];

    private static CapacityLimits WithReserved(int count) => new()
    {
        Commitments = new Commitments { ReservedInstances = [new ReservedInstance("c5.large", "us-east-1a", count, 0.06)] },
    };

    /// <summary>A plan that covers up to 0.15 $/h of discounted spend at 30% off: two c5.large (0.07 $/h each) at once.</summary>
    private static readonly CapacityLimits WithSavingsPlan = new() { Commitments = new Commitments { SavingsPlan = new SavingsPlan(0.15, 0.30) } };

    /// <summary>Jobs of an hour that must start now (the grid is an hour: a deadline 1.5 h away leaves one start).</summary>
    private static Job[] StartingNow(int count) => [.. Enumerable.Range(1, count).Select(i => Job($"j{i}", hours: 1, deadlineHours: 1.5))];

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Reserved_instances_are_filled_first_at_no_cost_and_the_rest_pays_on_demand(string planner)
    {
        var problem = Problem(StartingNow(3), OnDemandOnly, WithReserved(2));

        var plan = PlanWith(Planners.Create(planner)!, problem);

        var reserved = plan.Schedule.Where(a => a.Commitment == Reserved).ToList();
        Assert.Equal(2, reserved.Count);
        Assert.All(reserved, a => Assert.Equal((Market.OnDemand, "us-east-1a", 0.0, 0.0), (a.Market, a.Offer.Zone, a.Offer.PricePerHourUsd, a.ExpectedCostUsd)));
        var paying = Assert.Single(plan.Schedule, a => a.Commitment is null);
        Assert.Equal(0.10, paying.ExpectedCostUsd, 4);
        Assert.Equal(0.10, plan.Totals.ExpectedCostUsd, 4);
        Assert.Contains("fee is already paid", reserved[0].Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Cp_sat_gives_the_reservation_to_the_job_that_cannot_wait_where_greedy_gives_it_to_priority()
    {
        // One reserved instance. The urgent job must start now; the important one may wait an hour for the reservation.
        Job[] jobs = [Job("important", hours: 2, deadlineHours: 4, priority: 9), Job("urgent", hours: 1, deadlineHours: 1.5, priority: 1)];
        var problem = Problem(jobs, OnDemandOnly, WithReserved(1));

        var greedy = PlanWith(new GreedyPlanner(), problem);
        var cpsat = PlanWith(new CpSatPlanner(), problem);

        Assert.Equal(0.10, greedy.Totals.ExpectedCostUsd, 4);
        Assert.Equal(0.0, cpsat.Totals.ExpectedCostUsd, 4);
        Assert.All(cpsat.Schedule, a => Assert.Equal(Reserved, a.Commitment));
        Assert.Equal((Now, Now.AddHours(1)), (Scheduled(cpsat, "urgent").Start, Scheduled(cpsat, "important").Start));
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void The_savings_plan_discounts_on_demand_up_to_its_hourly_commitment_and_no_further(string planner)
    {
        var problem = Problem(StartingNow(3), OnDemandOnly, WithSavingsPlan);

        var plan = PlanWith(Planners.Create(planner)!, problem);

        var discounted = plan.Schedule.Where(a => a.Commitment == SavingsPlan.Name).ToList();
        Assert.Equal(2, discounted.Count);
        Assert.All(discounted, a => Assert.Equal((0.07, 0.07), (Math.Round(a.Offer.PricePerHourUsd, 4), a.ExpectedCostUsd)));
        Assert.Null(Assert.Single(plan.Schedule, a => a.Commitment is null).Commitment);
        Assert.Equal(0.24, plan.Totals.ExpectedCostUsd, 4);
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void Reserved_capacity_comes_before_the_savings_plan_and_both_before_full_price(string planner)
    {
        var limits = WithReserved(1) with { Commitments = WithReserved(1).Commitments with { SavingsPlan = new SavingsPlan(0.07, 0.30) } };
        var problem = Problem(StartingNow(3), OnDemandOnly, limits);

        var plan = PlanWith(Planners.Create(planner)!, problem);

        Assert.Equal([null, Reserved, SavingsPlan.Name], plan.Schedule.Select(a => a.Commitment).Order(StringComparer.Ordinal));
        Assert.Equal(0.17, plan.Totals.ExpectedCostUsd, 4);
    }

    [Fact]
    public void The_savings_plan_never_covers_spot()
    {
        var catalog = TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.03));
        var problem = Problem([Job("loose", hours: 1, deadlineHours: null)], catalog, WithSavingsPlan);
        var plan = PlanWith(new GreedyPlanner(), problem);
        var spot = Scheduled(plan, "loose");
        Assert.Equal(Market.Spot, spot.Market);

        var claimed = plan with { Schedule = [spot with { Offer = spot.Offer with { Commitment = SavingsPlan.Name } }] };

        var violation = Assert.Single(PlanValidator.Validate(claimed, problem));
        Assert.Equal(ViolationKind.UnknownCommitment, violation.Kind);
        Assert.Contains("spot is not covered", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_validator_refuses_more_jobs_on_reserved_instances_than_are_reserved()
    {
        var problem = Problem(StartingNow(3), OnDemandOnly, WithReserved(2));
        var plan = PlanWith(new GreedyPlanner(), problem);
        var onReserved = plan.Schedule.First(a => a.Commitment == Reserved).Offer;

        var overbooked = plan with { Schedule = [.. plan.Schedule.Select(a => a with { Offer = onReserved, ExpectedCostUsd = 0 })] };

        var violations = PlanValidator.Validate(overbooked, problem);
        var over = Assert.Single(violations, v => v.Kind == ViolationKind.OverCapacity);
        Assert.Contains("3 jobs use reserved pool reserved:us-east-1a:c5.large", over.Message, StringComparison.Ordinal);
        Assert.Contains("only 2 instances are reserved", over.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_validator_refuses_a_reservation_the_limits_do_not_declare()
    {
        var problem = Problem(StartingNow(1), OnDemandOnly, WithReserved(1));
        var plan = PlanWith(new GreedyPlanner(), problem);
        var undeclared = problem with { Limits = CapacityLimits.None };

        var violation = Assert.Single(PlanValidator.Validate(plan, undeclared), v => v.Kind == ViolationKind.UnknownCommitment);

        Assert.Contains($"declares no reserved instance '{Reserved}'", violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_validator_refuses_discounted_runs_beyond_the_commitment()
    {
        var problem = Problem(StartingNow(3), OnDemandOnly, WithSavingsPlan);
        var plan = PlanWith(new GreedyPlanner(), problem);
        var discounted = plan.Schedule.First(a => a.Commitment == SavingsPlan.Name).Offer;

        var overspent = plan with { Schedule = [.. plan.Schedule.Select(a => a with { Offer = discounted, ExpectedCostUsd = 0.07 })] };

        var over = Assert.Single(PlanValidator.Validate(overspent, problem), v => v.Kind == ViolationKind.OverCapacity);
        Assert.Contains("the savings plan covers 0.21 $/h", over.Message, StringComparison.Ordinal);
        Assert.Contains("over its commitment of 0.15 $/h", over.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Optimizers))]
    public void A_running_job_on_a_reservation_holds_it(string planner)
    {
        var limits = WithReserved(1);
        var catalogOffer = OnDemandOnly.OfferFor(OnDemandOnly.Find("c5.large")!, Market.OnDemand) with { Zone = "us-east-1a" };
        var held = limits.Commitments.Recognise(catalogOffer, paidPricePerHourUsd: 0);
        var problem = Problem(StartingNow(1), OnDemandOnly, limits) with
        {
            Reservations = [new CapacityReservation("running", held, Now.AddHours(-1), Now.AddHours(2))],
        };

        var plan = PlanWith(Planners.Create(planner)!, problem);

        Assert.Equal(Reserved, held.Commitment);
        Assert.Null(Scheduled(plan, "j1").Commitment);
    }

    [Fact]
    public void The_plan_document_names_each_jobs_commitment()
    {
        var limits = WithReserved(1) with { Commitments = WithReserved(1).Commitments with { SavingsPlan = new SavingsPlan(0.07, 0.30) } };
        var plan = PlanWith(new CpSatPlanner(), Problem(StartingNow(3), OnDemandOnly, limits));

        var json = PlanDocument.From(plan).ToJson();
        var document = System.Text.Json.JsonDocument.Parse(json);

        var commitments = document.RootElement.GetProperty("schedule").EnumerateArray()
            .Select(a => a.TryGetProperty("commitment", out var c) ? c.GetString() : null).Order(StringComparer.Ordinal);
        Assert.Equal([null, Reserved, SavingsPlan.Name], commitments);
        Assert.Contains("\"commitment\": \"reserved:c5.large@us-east-1a\"", json, StringComparison.Ordinal);
    }

    /// <summary>
    /// Random medium queues on the real catalog under tight quotas, with a few reservations of types the queue would buy
    /// and a savings plan: both planners' plans pass the validator (reserved counts and the commitment included), and
    /// CP-SAT plans no less priority weight than greedy, and then costs no more.
    /// </summary>
    [Fact]
    public void Plans_with_commitments_respect_every_pool_and_cp_sat_is_never_worse_than_greedy()
    {
        Gen.Select(Gen.Int[0, 1_000_000], Gen.Int[1, 30]).Sample((seed, count) =>
        {
            var random = new Random(seed);
            var queue = RandomQueues.Medium(random, count);
            var plain = new PlanningProblem(Now, queue, RealCatalog, new CapacityLimits { DefaultOnDemandVcpuQuota = 16 * random.Next(1, 4), DefaultSpotPoolSize = 2 });
            var bought = OptionBuilder.Build(plain).SelectMany(o => o.Options).Where(o => o.Offer.Market == Market.OnDemand)
                .Select(o => o.Offer.InstanceType.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(3).ToList();
            var commitments = new Commitments
            {
                ReservedInstances = [.. bought.Select((type, i) => new ReservedInstance(type, i % 2 == 0 ? "us-east-1a" : "us-east-1b", random.Next(1, 3), 0.05))],
                SavingsPlan = new SavingsPlan(0.5 + random.NextDouble() * 2, 0.2 + random.NextDouble() * 0.2),
            };
            var problem = plain with { Limits = plain.Limits with { Commitments = commitments } };

            var greedy = PlanWith(new GreedyPlanner(), problem, Solve(seconds: 1));
            var cpsat = PlanWith(new CpSatPlanner(), problem, Solve(seconds: 1));

            var (gw, cw) = (PlannedWeight(greedy, problem), PlannedWeight(cpsat, problem));
            Assert.True(cw > gw || (cw == gw && cpsat.Totals.ExpectedCostUsd <= greedy.Totals.ExpectedCostUsd + 1e-6),
                $"seed {seed}: CP-SAT plans weight {cw} at {cpsat.Totals.ExpectedCostUsd} USD, greedy {gw} at {greedy.Totals.ExpectedCostUsd} USD");
        }, iter: 20, threads: 1);
    }
}
