using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Traces;

namespace Spotwise.Compute.Simulated;

/// <summary>How the simulated cloud behaves. See docs/simulation.md.</summary>
public sealed record SimulatedCloudOptions
{
    /// <summary>Prices of every instance type: on-demand always, spot where no trace gives a price.</summary>
    public required Catalog Catalog { get; init; }

    /// <summary>
    /// Spot capacity (and, where present, price) over time, one trace per (zone, instance type). Spot in a pool without a
    /// trace is never short and never interrupted.
    /// </summary>
    public IReadOnlyList<SpotTrace> SpotTraces { get; init; } = [];

    /// <summary>How long an instance stays <see cref="InstanceState.Pending"/> (boot, image pull) before it runs.</summary>
    public TimeSpan LaunchDelay { get; init; } = TimeSpan.FromSeconds(90);

    /// <summary>How long before a spot interruption the instance hears of it (AWS: 2 minutes).</summary>
    public TimeSpan InterruptionNotice { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// Run time = work × (1 + noise × u), u uniform in [-1, 1) drawn from the seed and the client token (so the same
    /// launch runs as long whatever order launches come in). 0 = every job takes exactly its work hours.
    /// </summary>
    public double DurationNoiseFraction { get; init; }

    public int Seed { get; init; }

    /// <summary>What is wrong with these options, one line each; empty when they can be used.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (LaunchDelay < TimeSpan.Zero)
        {
            errors.Add($"LaunchDelay is {LaunchDelay}; it must be >= 0");
        }
        if (InterruptionNotice < TimeSpan.Zero)
        {
            errors.Add($"InterruptionNotice is {InterruptionNotice}; it must be >= 0");
        }
        if (!(DurationNoiseFraction is >= 0 and < 1))
        {
            errors.Add($"DurationNoiseFraction is {DurationNoiseFraction}; it must be in [0, 1)");
        }
        foreach (var pool in SpotTraces.GroupBy(t => (t.Zone, t.InstanceType)).Where(g => g.Count() > 1))
        {
            errors.Add($"SpotTraces holds {pool.Count()} traces for {pool.Key.InstanceType} in {pool.Key.Zone}; one per pool");
        }
        return errors;
    }
}
