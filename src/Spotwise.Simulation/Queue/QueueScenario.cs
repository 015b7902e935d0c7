using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime.Traces;

namespace Spotwise.Simulation.Queue;

/// <summary>Who decides where the queue runs.</summary>
public enum QueuePolicy
{
    /// <summary>The product: the scheduler with its planner, the reconciler and its safety net, spot where it pays.</summary>
    Spotwise,

    /// <summary>The same runtime with every spot pool closed: the baseline every saving is measured against.</summary>
    OnDemand,
}

public static class QueuePolicies
{
    /// <summary>The names users type, in order.</summary>
    public static IReadOnlyList<string> Names { get; } = ["spotwise", "on-demand"];

    public static string ToWire(this QueuePolicy policy) => policy == QueuePolicy.OnDemand ? "on-demand" : "spotwise";

    public static bool TryParse(string? text, out QueuePolicy policy)
    {
        policy = text switch
        {
            "spotwise" => QueuePolicy.Spotwise,
            "on-demand" => QueuePolicy.OnDemand,
            _ => (QueuePolicy)(-1),
        };
        return Enum.IsDefined(policy);
    }
}

/// <summary>
/// A whole queue played against spot traces in virtual time (docs/simulation.md, "Queue scenario"). Each job arrives
/// (is submitted) at its earliest start, or at <see cref="Start"/> when it has none.
/// </summary>
public sealed record QueueScenario
{
    /// <summary>The queue, as <c>JobsFile.Parse</c> reads it (relative times resolved against <see cref="Start"/>).</summary>
    public required IReadOnlyList<Job> Jobs { get; init; }

    /// <summary>Instance types and prices; its region is where regional plans land.</summary>
    public required Catalog Catalog { get; init; }

    /// <summary>
    /// Spot availability (and prices) per zone, e.g. <c>SpotTraceFile.ReadDirectory("data/traces/aws-v100", "p3.2xlarge",
    /// start)</c>. A traced type's spot requests land in its traced zones; other types follow the catalog and their
    /// interruption band (<see cref="BandInterruptions"/>).
    /// </summary>
    public IReadOnlyList<SpotTrace> SpotTraces { get; init; } = [];

    public QueuePolicy Policy { get; init; } = QueuePolicy.Spotwise;

    /// <summary>The planner by name (<see cref="Planners.Names"/>).</summary>
    public string Planner { get; init; } = CpSatPlanner.PlannerName;

    /// <summary>
    /// How hard the planner works each cycle. One worker by default: CP-SAT on one thread gives the same plan for the
    /// same problem, so a run is reproducible for a seed (when no solve hits its time limit).
    /// </summary>
    public SolveOptions Solve { get; init; } = SolveOptions.Default with { TimeLimit = TimeSpan.FromSeconds(5), Workers = 1 };

    /// <summary>Capacity: on-demand quotas and spot pool sizes the planner respects.</summary>
    public CapacityLimits Limits { get; init; } = CapacityLimits.Default;

    /// <summary>When the simulation begins (virtual time), and the moment relative job times are read against.</summary>
    public required DateTimeOffset Start { get; init; }

    public int Seed { get; init; } = 1;

    public TimeSpan LaunchDelay { get; init; } = PlanningSettings.CloudLaunchAllowance;

    /// <summary>
    /// What the planner allows for that delay (<see cref="PlanningSettings.LaunchAllowance"/>); by default the delay
    /// itself, as a deployment would set it to its cloud's boot time.
    /// </summary>
    public TimeSpan? LaunchAllowance { get; init; }

    /// <summary>The scheduler's planning settings: the defaults, with the launch allowance above.</summary>
    public PlanningSettings PlanningSettings => PlanningSettings.Default with { LaunchAllowance = LaunchAllowance ?? LaunchDelay };

    /// <summary>Run time = work × (1 + f·u), u uniform in [-1, 1) from the seed (<see cref="SimulatedCloudOptions.DurationNoiseFraction"/>).</summary>
    public double DurationNoiseFraction { get; init; }

    /// <summary>While jobs wait to be placed, the scheduler plans again this often (and at once on arrivals and interruptions).</summary>
    public TimeSpan CycleInterval { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>How soon the reconciler looks again after it acted (a launch, a fallback): the service's reconcile tick.</summary>
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Untraced spot pools lose capacity at their interruption band's rate (false: they never do).</summary>
    public bool BandInterruptions { get; init; } = true;

    /// <summary>How long an untraced pool stays empty after a band-drawn reclaim.</summary>
    public TimeSpan BandOutage { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// When to stop if jobs are still unfinished (they are reported as misses). Null: 6 hours after the last deadline
    /// (for a job without one: its arrival plus three times its duration).
    /// </summary>
    public DateTimeOffset? Horizon { get; init; }

    /// <summary>The store the runtime writes; null: a fresh <see cref="InMemoryJobStore"/>. A factory must give an empty store.</summary>
    public Func<CancellationToken, Task<IJobStore>>? Store { get; init; }

    /// <summary>What is wrong with this scenario, one line each naming the field; empty when it can run.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (Jobs.Count == 0)
        {
            errors.Add("Jobs: the queue is empty");
        }
        if (Planners.Create(Planner) is null)
        {
            errors.Add($"Planner: '{Planner}' is not a planner; choose one of {string.Join(", ", Planners.Names)}");
        }
        if (!Enum.IsDefined(Policy))
        {
            errors.Add($"Policy: {(int)Policy} is not a policy; choose one of {string.Join(", ", QueuePolicies.Names)}");
        }
        if (CycleInterval <= TimeSpan.Zero)
        {
            errors.Add($"CycleInterval is {CycleInterval}; it must be > 0");
        }
        if (ReconcileInterval <= TimeSpan.Zero)
        {
            errors.Add($"ReconcileInterval is {ReconcileInterval}; it must be > 0");
        }
        if (BandOutage <= TimeSpan.Zero)
        {
            errors.Add($"BandOutage is {BandOutage}; it must be > 0");
        }
        if (Horizon is { } h && h <= Start)
        {
            errors.Add($"Horizon is {h:O}; it must be after Start ({Start:O})");
        }
        foreach (var type in SpotTraces.Select(t => t.InstanceType).Distinct().Where(t => Catalog.Find(t) is null))
        {
            errors.Add($"SpotTraces: instance type '{type}' is not in the catalog");
        }
        errors.AddRange(new SimulatedCloudOptions { Catalog = Catalog, SpotTraces = SpotTraces, LaunchDelay = LaunchDelay, DurationNoiseFraction = DurationNoiseFraction }.Validate());
        return errors;
    }

    /// <summary>The moment the simulation gives up on unfinished jobs.</summary>
    public DateTimeOffset EffectiveHorizon =>
        Horizon ?? Jobs.Select(j => j.Deadline ?? (j.EarliestStart ?? Start).AddHours(3 * j.DurationHours)).Append(Start).Max().AddHours(6);
}
