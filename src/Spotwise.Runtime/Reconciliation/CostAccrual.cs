using Spotwise.Core;

namespace Spotwise.Runtime.Reconciliation;

/// <summary>
/// Cost, computed once: the runtime adds each attempt's price × running time to <see cref="JobRecord.CostSoFarUsd"/>
/// every tick, from what it knows itself (the placement's on-demand price, the price feed's spot price of the moment)
/// and the times the backend reports (running since, ended at). It never asks the backend for money: EC2, Kubernetes
/// and Slurm report none. Like the backends we model, an instance is paid from when it runs (not while it boots) until
/// it ends.
/// </summary>
public static class CostAccrual
{
    /// <summary>
    /// The job with its current attempt's cost accrued up to <paramref name="now"/> (or the instance's end), or the job
    /// itself when nothing is owed (not launched, the instance unseen or still booting, or accrued already).
    /// <paramref name="current"/> is the backend's report on the job's current attempt, if it has one.
    /// </summary>
    public static JobRecord Accrue(JobRecord job, InstanceStatus? current, Catalog catalog, DateTimeOffset now)
    {
        if (job.State is not (JobState.Launching or JobState.Running) || current?.RunningSince is not { } since)
        {
            return job;
        }
        var from = job.CostAccruedAt is { } mark && mark > since ? mark : since;
        var until = current.EndedAt is { } ended && ended < now ? ended : now;
        if (until <= from)
        {
            return job;
        }
        var usd = PricePerHourUsd(job, current, catalog) * (until - from).TotalHours;
        return job with { CostSoFarUsd = job.CostSoFarUsd + usd, CostAccruedAt = until };
    }

    /// <summary>
    /// What a noticed spot instance will cost from <paramref name="now"/> until the cloud takes it back
    /// (<see cref="Policy.SpotNotice.ReclaimAt"/>), at the feed's spot price: charged once, when the job moves to its next
    /// attempt ahead of the interruption, since from then on only the new attempt accrues. <paramref name="job"/> is
    /// accrued up to <paramref name="now"/> already.
    /// </summary>
    public static double UntilReclaimed(JobRecord job, InstanceStatus noticed, Catalog catalog, DateTimeOffset now)
    {
        ArgumentNullException.ThrowIfNull(noticed);
        var from = noticed.RunningSince is { } since && since > now ? since : now;
        var until = Policy.SpotNotice.ReclaimAt(noticed);
        return until <= from ? 0 : PricePerHourUsd(job, noticed, catalog) * (until - from).TotalHours;
    }

    /// <summary>On-demand: the placement's price (what the plan and the fallback priced). Spot: the feed's price of the moment.</summary>
    public static double PricePerHourUsd(JobRecord job, InstanceStatus current, Catalog catalog)
    {
        var entry = catalog.Find(current.InstanceType);
        return current.Market == Market.Spot
            ? entry?.SpotPricePerHourUsd ?? job.Placement?.PricePerHourUsd ?? 0
            : job.Placement is { Market: Market.OnDemand } p && p.InstanceType == current.InstanceType ? p.PricePerHourUsd
            : entry?.OnDemandPricePerHourUsd ?? 0;
    }
}
