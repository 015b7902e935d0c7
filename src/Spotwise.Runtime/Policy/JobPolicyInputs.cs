using Spotwise.Core;

namespace Spotwise.Runtime.Policy;

/// <summary>
/// The spot policy's inputs for one job of the service: the job record (work, deadline, changeover, saved progress),
/// the backend's report on its current attempt, and the spot pools of its instance type from the service's
/// <see cref="SpotAvailabilityHistory"/>. Hours count from the job's start: its earliest start, else its submission.
/// The pools are the type's zones in the order they were first seen; a type no one has seen has one pool, the
/// placement's zone, taken to have capacity (launching will tell). The deadline is moved earlier by the launch
/// allowance (an instance boots before it works), so the safety net leaves time for the fallback's boot.
/// A spot instance under an interruption notice (<see cref="SpotNotice"/>) is shown as ending: the job runs on nothing
/// the policy can stay on (its current choice is idle) and the noticed pool has no capacity for it, so the policy's
/// answer is the next move, made before the instance dies; the work the instance saved so far counts.
/// </summary>
public sealed class JobPolicyInputs : IPolicyInputs
{
    private readonly List<SpotPoolState> _pools;
    private readonly SpotMarketSnapshot _market;
    private readonly double _catalogSpotPrice;

    public JobPolicyInputs(
        JobRecord job, InstanceStatus? instance, DateTimeOffset now, SpotMarketSnapshot market, Catalog catalog, TimeSpan launchAllowance = default,
        double restartTransferHours = 0)
    {
        var placement = job.Placement ?? throw new ArgumentException($"job '{job.Id}' has no placement to decide from", nameof(job));
        var start = job.Job.EarliestStart ?? job.SubmittedAt;
        var live = instance is { IsEnded: false } && instance.Attempt == job.Attempt && job.State is JobState.Launching or JobState.Running ? instance : null;
        if (live is not null && SpotNotice.IsUnder(live, now))
        {
            Noticed = live;
            live = null;
        }
        InstanceType = placement.InstanceType;
        _market = market;
        _catalogSpotPrice = catalog.Find(InstanceType)?.SpotPricePerHourUsd ?? placement.PricePerHourUsd;
        OnDemandPricePerHourUsd = catalog.Find(InstanceType)?.OnDemandPricePerHourUsd ?? placement.PricePerHourUsd;
        // The policy moves spot within the planned region only: a move to another region would move the job's input
        // (time and $/GB the policy does not weigh); going there is the planner's call, which prices the transfer.
        var region = catalog.RegionOfZone(placement.Zone) ?? catalog.Region;
        var pools = market.PoolsOf(InstanceType).Where(p => catalog.RegionOfZone(p.Zone) is not { } other || other == region).ToList();
        if (pools.Count == 0)
        {
            pools.Add(new SpotPoolState(placement.Zone, true, null));
        }
        if (Noticed is not null)
        {
            // EC2 is taking capacity back in that pool: not a place to go now, whatever the market said a moment ago.
            var index = pools.FindIndex(p => p.Zone == Noticed.Zone);
            if (index < 0)
            {
                pools.Add(new SpotPoolState(Noticed.Zone, false, null));
            }
            else
            {
                pools[index] = pools[index] with { Available = false };
            }
        }
        Current = Choice.Idle;
        if (live is { Market: Market.Spot })
        {
            // The job's own instance holds capacity where it runs, whatever the market says of the pool.
            var index = pools.FindIndex(p => p.Zone == live.Zone);
            if (index < 0)
            {
                pools.Add(new SpotPoolState(live.Zone, true, live.PricePerHourUsd));
                index = pools.Count - 1;
            }
            pools[index] = pools[index] with { Available = true };
            Current = Choice.Spot(index);
        }
        else if (live is not null)
        {
            Current = Choice.OnDemand;
        }
        _pools = pools;
        WorkHours = job.Job.DurationHours;
        DeadlineHours = job.Job.Deadline is { } deadline ? (deadline - launchAllowance - start).TotalHours : double.PositiveInfinity;
        // A restart where the job was placed moves its input there again (when its data lives elsewhere) before the work.
        OverheadHours = job.Job.RestartOverheadHours + restartTransferHours;
        TickHours = market.Tick.TotalHours;
        ElapsedHours = Math.Max(0, (now - start).TotalHours);
        DoneHours = JobProgress.SavedHours(job, instance);
        RemainingOverheadHours = live is null ? 0 : JobProgress.RemainingChangeoverHours(job, live, now);
        ContinuousCheckpoints = job.Job.Checkpointable && (job.Job.CheckpointIntervalHours ?? Job.DefaultCheckpointIntervalHours) == 0;
    }

    /// <summary>The instance type whose spot pools the job can use: the placement's.</summary>
    public string InstanceType { get; }

    /// <summary>The job's spot instance under an interruption notice, shown to the policy as ending; null when there is none.</summary>
    public InstanceStatus? Noticed { get; }

    public bool UnderNotice => Noticed is not null;

    public double WorkHours { get; }

    public double DeadlineHours { get; }

    public double OverheadHours { get; }

    public double TickHours { get; }

    public double ElapsedHours { get; }

    public double DoneHours { get; }

    public Choice Current { get; }

    public double RemainingOverheadHours { get; }

    public bool ContinuousCheckpoints { get; }

    public double OnDemandPricePerHourUsd { get; }

    public int ZoneCount => _pools.Count;

    /// <summary>The zone of pool <paramref name="zone"/>.</summary>
    public string ZoneName(int zone) => _pools[zone].Zone;

    public bool SpotAvailable(int zone) => _pools[zone].Available;

    public double SpotPrice(int zone) => _pools[zone].SpotPricePerHourUsd ?? _catalogSpotPrice;

    public AvailabilitySummary History(int ticks) => _market.History(InstanceType, ticks);
}
