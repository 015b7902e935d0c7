namespace Spotwise.Core;

/// <summary>
/// Expected cost of running a job on an offer, and the spot safety net. See docs/cost-model.md for the
/// derivation and a worked example.
/// <para>
/// On-demand: price × duration. Spot: the job runs on spot until it finishes or is interrupted (interruptions
/// arrive at a constant hourly rate λ); on an interruption it falls back to on-demand, pays the restart overhead,
/// and redoes the work lost since its last checkpoint (all of it when it cannot checkpoint).
/// </para>
/// </summary>
public static class CostModel
{
    public static double ExpectedCostUsd(Job job, Offer offer, double onDemandFallbackPricePerHourUsd) =>
        offer.Market == Market.OnDemand
            ? offer.PricePerHourUsd * job.DurationHours
            : ExpectedSpot(job, offer.PricePerHourUsd, offer.InterruptionRatePerHour, onDemandFallbackPricePerHourUsd).CostUsd;

    public static SpotExpectation ExpectedSpot(Job job, double spotPricePerHourUsd, double ratePerHour, double onDemandPricePerHourUsd)
    {
        var terms = SpotTermsFor(job, ratePerHour);
        return new SpotExpectation(terms.InterruptionProbability, terms.SpotHours, terms.OnDemandHoursIfInterrupted,
            terms.CostUsd(spotPricePerHourUsd, onDemandPricePerHourUsd));
    }

    /// <summary>
    /// The parts of a spot expectation that depend on the job and the rate but not on prices, so that pricing
    /// many offers of one interruption band is a multiply-add each.
    /// </summary>
    public static SpotTerms SpotTermsFor(Job job, double ratePerHour)
    {
        var d = job.DurationHours;
        if (ratePerHour <= 0)
        {
            return new SpotTerms(0, d, 0);
        }
        // Both closed forms below cancel catastrophically when λd is tiny (a learned rate near zero): 1 - e^(-x)
        // rounds to 0 below x ≈ 1e-16 and the mean then divides by it (NaN). Their Taylor series are exact there.
        var x = ratePerHour * d;
        var pInterrupt = x < 1e-5 ? x * (1 - x / 2 + x * x / 6) : 1 - Math.Exp(-x);
        // E[min(T, d)] for T ~ Exp(λ): the hours we expect to pay spot for.
        var spotHours = pInterrupt / ratePerHour;
        // E[T | T < d]: when, on average, the interruption comes if it comes.
        var meanInterruptAt = x < 1e-3 ? d * (0.5 - x / 12 + x * x * x / 720) : 1 / ratePerHour - d * Math.Exp(-x) / pInterrupt;
        var lostHours = job.Checkpointable
            ? Math.Min((job.CheckpointIntervalHours ?? Job.DefaultCheckpointIntervalHours) / 2, meanInterruptAt)
            : meanInterruptAt;
        return new SpotTerms(pInterrupt, spotHours, job.RestartOverheadHours + (d - meanInterruptAt) + lostHours);
    }

    /// <summary>
    /// The latest start at which a job may go on spot: an interruption at any moment of its run must leave
    /// time to restart on on-demand, redo what was lost, and still finish by the deadline. Null: no deadline,
    /// so spot is always safe.
    /// </summary>
    public static DateTimeOffset? LatestSafeSpotStart(Job job) =>
        job.Deadline?.AddHours(-(job.DurationHours + job.RestartOverheadHours + job.WorstCaseLossHours));

    /// <summary>
    /// The latest moment to move a spot job to on-demand if it has saved no progress: deadline − restart overhead
    /// − the whole job. Each hour of checkpointed progress moves it an hour later (the runtime knows the progress;
    /// the plan does not). A job that cannot checkpoint finishes on spot before this moment when uninterrupted.
    /// </summary>
    public static DateTimeOffset? FallbackAt(Job job) =>
        job.Deadline?.AddHours(-(job.DurationHours + job.RestartOverheadHours));
}

/// <summary>Price-free parts of a spot expectation: cost = spot price × SpotHours + fallback price × p × OnDemandHoursIfInterrupted.</summary>
public readonly record struct SpotTerms(double InterruptionProbability, double SpotHours, double OnDemandHoursIfInterrupted)
{
    public double CostUsd(double spotPricePerHourUsd, double onDemandPricePerHourUsd) =>
        spotPricePerHourUsd * SpotHours + InterruptionProbability * onDemandPricePerHourUsd * OnDemandHoursIfInterrupted;
}

/// <summary>What a spot run is expected to do: chance of an interruption, hours on spot, hours on on-demand if interrupted.</summary>
public sealed record SpotExpectation(double InterruptionProbability, double SpotHours, double OnDemandHoursIfInterrupted, double CostUsd);
