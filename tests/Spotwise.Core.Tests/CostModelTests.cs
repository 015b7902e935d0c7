using CsCheck;

namespace Spotwise.Core.Tests;

public class CostModelTests
{
    private static readonly DateTimeOffset Deadline = TestData.Now.AddHours(10);
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(1);

    private static Offer SpotOffer(double price, double rate) =>
        new("aws", "us-east-1", "us-east-1", new InstanceType("m5.large", 2, 8, 0, null), Market.Spot, price, rate);

    private static Offer OnDemandOffer(double price) =>
        new("aws", "us-east-1", "us-east-1", new InstanceType("m5.large", 2, 8, 0, null), Market.OnDemand, price, 0);

    [Fact]
    public void On_demand_costs_price_times_hours()
    {
        var job = TestData.Job("a", 2.5);

        Assert.Equal(3.06 * 2.5, CostModel.ExpectedCostUsd(job, OnDemandOffer(3.06), onDemandFallbackPricePerHourUsd: 99), 12);
    }

    [Fact]
    public void Spot_without_interruptions_costs_exactly_spot_price_times_hours()
    {
        var job = TestData.Job("a", 7);

        var e = CostModel.ExpectedSpot(job, 0.612, 0, 3.06);

        Assert.Equal(0.612 * 7, e.CostUsd);
        Assert.Equal(0, e.InterruptionProbability);
        Assert.Equal(7, e.SpotHours);
        Assert.Equal(0.612 * 7, CostModel.ExpectedCostUsd(job, SpotOffer(0.612, 0), 3.06));
    }

    [Fact]
    public void A_job_that_cannot_checkpoint_pays_spot_until_the_interruption_then_reruns_everything_on_demand()
    {
        // Closed form of the model for a job that loses all its work: spot for E[min(T, d)], then with
        // probability P(T < d) the restart overhead and the whole job again on on-demand.
        var job = TestData.Job("a", 20);
        double rate = InterruptionBands.HourlyRate(4), spot = 0.612, onDemand = 3.06;
        var p = 1 - Math.Exp(-rate * 20);
        var expected = spot * p / rate + p * onDemand * (Job.DefaultRestartOverheadHours + 20);

        var e = CostModel.ExpectedSpot(job, spot, rate, onDemand);

        Assert.Equal(p, e.InterruptionProbability, 12);
        Assert.Equal(p / rate, e.SpotHours, 9);
        Assert.Equal(Job.DefaultRestartOverheadHours + 20, e.OnDemandHoursIfInterrupted, 9);
        Assert.Equal(expected, e.CostUsd, 9);
    }

    [Fact]
    public void A_checkpointable_job_redoes_half_a_checkpoint_interval_on_average()
    {
        var job = TestData.Job("a", 20, checkpointable: true) with { CheckpointIntervalHours = 1 };
        var rate = InterruptionBands.HourlyRate(4);
        var p = 1 - Math.Exp(-rate * 20);
        var meanInterruptAt = 1 / rate - 20 * Math.Exp(-rate * 20) / p;

        var e = CostModel.ExpectedSpot(job, 0.612, rate, 3.06);

        Assert.Equal(Job.DefaultRestartOverheadHours + (20 - meanInterruptAt) + 0.5, e.OnDemandHoursIfInterrupted, 9);
    }

    [Theory]
    [InlineData(1e-20, 1)]
    [InlineData(1e-15, 1)]
    [InlineData(1e-13, 0.05)]
    [InlineData(1e-12, 100)]
    public void A_vanishingly_small_rate_prices_spot_as_almost_never_interrupted(double rate, double hours)
    {
        // Regression: 1 - e^(-λd) rounded to 0 for λd below 1e-16 and the mean interruption time divided by it,
        // so the cost was NaN (which no money comparison of the validator catches); a little above, cancellation
        // put the cost off by up to 0.1%.
        var job = TestData.Job("a", hours);
        var x = rate * hours;
        var expected = 1.0 * hours * (1 - x / 2) + x * 5.0 * (hours + job.RestartOverheadHours);

        var cost = CostModel.ExpectedSpot(job, 1.0, rate, 5.0).CostUsd;

        Assert.Equal(expected, cost, 1e-9 * expected);
        Assert.Equal(expected, CostModel.ExpectedSpot(job with { Checkpointable = true }, 1.0, rate, 5.0).CostUsd, 1e-9 * expected);
    }

    [Fact]
    public void Expected_spot_cost_lies_between_all_spot_and_spot_plus_a_full_on_demand_rerun() =>
        Gen.Select(Gen.Int[0, 4], Gen.Double[0.05, 100], Gen.Bool, Gen.Double[0.001, 40], Gen.Double[1, 10])
            .Sample((band, hours, checkpointable, spotPrice, onDemandMultiple) =>
            {
                var job = TestData.Job("a", hours, checkpointable: checkpointable);
                var onDemandPrice = spotPrice * onDemandMultiple;

                var cost = CostModel.ExpectedSpot(job, spotPrice, InterruptionBands.HourlyRate(band), onDemandPrice).CostUsd;

                var allSpot = spotPrice * hours;
                var spotThenFullRerun = allSpot + onDemandPrice * (hours + job.RestartOverheadHours);
                Assert.InRange(cost, allSpot * (1 - 1e-12), spotThenFullRerun);
            });

    [Fact]
    public void A_checkpointable_job_never_expects_to_pay_more_on_spot_than_the_same_job_that_cannot_checkpoint() =>
        Gen.Select(Gen.Int[0, 4], Gen.Double[0.05, 100], Gen.Double[0.01, 8], Gen.Double[0.001, 40], Gen.Double[1, 10])
            .Sample((band, hours, intervalHours, spotPrice, onDemandMultiple) =>
            {
                var plain = TestData.Job("a", hours);
                var checkpointing = plain with { Checkpointable = true, CheckpointIntervalHours = intervalHours };
                var rate = InterruptionBands.HourlyRate(band);

                var withCheckpoints = CostModel.ExpectedSpot(checkpointing, spotPrice, rate, spotPrice * onDemandMultiple).CostUsd;
                var without = CostModel.ExpectedSpot(plain, spotPrice, rate, spotPrice * onDemandMultiple).CostUsd;

                Assert.True(withCheckpoints <= without + 1e-9, $"{withCheckpoints} > {without}");
            });

    /// <remarks>
    /// Within the rates the bands produce (λ·d well under ln 2 for jobs of up to 100 h). Past that the model's cost
    /// falls again as λ grows: an interruption becomes certain and early, so less spot is paid before the rerun.
    /// </remarks>
    [Fact]
    public void Expected_spot_cost_rises_with_the_interruption_rate() =>
        Gen.Select(Gen.Double[0, 0.004], Gen.Double[0, 0.004], Gen.Double[0.05, 100], Gen.Bool, Gen.Double[0.001, 40], Gen.Double[1, 10])
            .Sample((rate1, rate2, hours, checkpointable, spotPrice, onDemandMultiple) =>
            {
                var (low, high) = rate1 <= rate2 ? (rate1, rate2) : (rate2, rate1);
                var job = TestData.Job("a", hours, checkpointable: checkpointable);
                var onDemandPrice = spotPrice * onDemandMultiple;

                var atLow = CostModel.ExpectedSpot(job, spotPrice, low, onDemandPrice).CostUsd;
                var atHigh = CostModel.ExpectedSpot(job, spotPrice, high, onDemandPrice).CostUsd;

                Assert.True(atLow <= atHigh * (1 + 1e-9), $"rate {low}: {atLow} > rate {high}: {atHigh}");
            });

    [Fact]
    public void A_job_that_cannot_checkpoint_may_start_on_spot_until_deadline_minus_twice_its_duration_minus_the_restart()
    {
        // 3 h of work, 6 min restart, due 18:00: an interruption just before the end loses all 3 h, so the latest
        // safe spot start is 18:00 - 3 h - 6 min - 3 h = 11:54; the fallback moment is 18:00 - 3 h - 6 min = 14:54.
        var job = TestData.Job("a", 3, Deadline);

        Assert.Equal(3, job.WorstCaseLossHours);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 11, 54, 0, TimeSpan.Zero), CostModel.LatestSafeSpotStart(job)!.Value, Tick);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 14, 54, 0, TimeSpan.Zero), CostModel.FallbackAt(job)!.Value, Tick);
    }

    [Fact]
    public void A_checkpointable_job_risks_only_one_checkpoint_interval_so_it_may_start_on_spot_later()
    {
        // Same job checkpointing every 30 min (the default): 18:00 - 3 h - 6 min - 30 min = 14:24.
        var job = TestData.Job("a", 3, Deadline, checkpointable: true);

        Assert.Equal(0.5, job.WorstCaseLossHours);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 14, 24, 0, TimeSpan.Zero), CostModel.LatestSafeSpotStart(job)!.Value, Tick);
        Assert.Equal(new DateTimeOffset(2026, 11, 24, 14, 54, 0, TimeSpan.Zero), CostModel.FallbackAt(job)!.Value, Tick);
    }

    [Fact]
    public void A_checkpoint_interval_longer_than_the_job_risks_no_more_than_the_whole_job()
    {
        var job = TestData.Job("a", 3, Deadline, checkpointable: true) with { CheckpointIntervalHours = 5, RestartOverheadHours = 0.25 };

        Assert.Equal(3, job.WorstCaseLossHours);
        Assert.Equal(Deadline.AddHours(-6.25), CostModel.LatestSafeSpotStart(job)!.Value, Tick);
        Assert.Equal(Deadline.AddHours(-3.25), CostModel.FallbackAt(job)!.Value, Tick);
    }

    [Fact]
    public void A_job_without_deadline_is_always_safe_on_spot_and_has_no_fallback_moment()
    {
        var job = TestData.Job("a", 3);

        Assert.Null(CostModel.LatestSafeSpotStart(job));
        Assert.Null(CostModel.FallbackAt(job));
    }

    /// <summary>docs/cost-model.md "Worked example": a 10 h job on p3.2xlarge, deadline 16 h out, 6 min restart.</summary>
    [Fact]
    public void Worked_example_of_the_cost_model_doc_holds()
    {
        var p3 = TestData.Catalog.Find("p3.2xlarge")!;
        var spot = TestData.Catalog.OfferFor(p3, Market.Spot);
        var deadline = TestData.Now.AddHours(16);
        var checkpointed = new Job
        {
            Id = "train",
            DurationHours = 10,
            Deadline = deadline,
            Checkpointable = true,
            CheckpointIntervalHours = 0.5,
            Resources = ResourceRequest.ForInstanceTypes(["p3.2xlarge"]),
        };
        var plain = checkpointed with { Checkpointable = false, CheckpointIntervalHours = null };

        Assert.Equal(3.9409e-4, spot.InterruptionRatePerHour, 1e-8);
        var e = CostModel.ExpectedSpot(checkpointed, spot.PricePerHourUsd, spot.InterruptionRatePerHour, p3.OnDemandPricePerHourUsd);
        Assert.Equal(0.003933, e.InterruptionProbability, 1e-6);
        Assert.Equal(9.9803, e.SpotHours, 1e-4);
        Assert.Equal(5.3533, e.OnDemandHoursIfInterrupted, 1e-4);
        Assert.Equal(6.1724, e.CostUsd, 1e-4);
        Assert.Equal(10.1, CostModel.ExpectedSpot(plain, spot.PricePerHourUsd, spot.InterruptionRatePerHour, p3.OnDemandPricePerHourUsd).OnDemandHoursIfInterrupted, 1e-9);
        Assert.Equal(6.2295, CostModel.ExpectedSpot(plain, spot.PricePerHourUsd, spot.InterruptionRatePerHour, p3.OnDemandPricePerHourUsd).CostUsd, 1e-4);
        Assert.Equal(TestData.Now.AddHours(5.4), CostModel.LatestSafeSpotStart(checkpointed)!.Value, TimeSpan.FromMilliseconds(1));
        Assert.True(CostModel.LatestSafeSpotStart(plain) < TestData.Now);
        Assert.Equal(TestData.Now.AddHours(5.9), CostModel.FallbackAt(checkpointed)!.Value, TimeSpan.FromMilliseconds(1));
    }
}
