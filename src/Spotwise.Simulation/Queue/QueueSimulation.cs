using System.Collections.Immutable;
using System.Diagnostics;
using Spotwise.Core;

namespace Spotwise.Simulation.Queue;

/// <summary>
/// Plays a whole queue through the real runtime in virtual time: the <see cref="Scheduler"/> with its planner, the
/// <see cref="Runtime.Reconciliation.ReconcileLoop"/> with its safety net, and the <see cref="SimulatedCloud"/> replaying the traces. Nothing
/// here decides where a job runs; the driver only submits each job when it arrives, moves the clock from one moment
/// where something can happen to the next, and calls the loops as the service's timers would. See docs/simulation.md,
/// "Queue scenario".
/// </summary>
public static class QueueSimulation
{
    /// <exception cref="ArgumentException">The scenario is not valid (<see cref="QueueScenario.Validate"/>, every problem listed).</exception>
    public static async Task<QueueSimulationResult> RunAsync(QueueScenario scenario, IProgress<QueueProgress>? progress, CancellationToken cancellationToken)
    {
        var errors = scenario.Validate();
        if (errors.Count > 0)
        {
            throw new ArgumentException(string.Join("; ", errors), nameof(scenario));
        }
        var wall = Stopwatch.StartNew();
        var store = scenario.Store is { } factory ? await factory(cancellationToken) : new InMemoryJobStore();
        try
        {
            using var run = new QueueRun(scenario, store, progress);
            await run.PlayAsync(cancellationToken);
            return await run.ResultAsync(wall.Elapsed, cancellationToken);
        }
        finally
        {
            switch (store)
            {
                case IAsyncDisposable d: await d.DisposeAsync(); break;
                case IDisposable d: d.Dispose(); break;
            }
        }
    }

    /// <summary>The on-demand baseline: every job on the cheapest on-demand type that fits it, for its whole duration.</summary>
    public static double OnDemandBaselineCostUsd(IEnumerable<Job> jobs, Catalog catalog) =>
        jobs.Sum(j => (catalog.CheapestOnDemandPricePerHourUsd(j.Resources) ?? 0) * j.DurationHours);

    /// <summary>The limits of the on-demand policy: the scenario's, with every spot pool closed.</summary>
    internal static CapacityLimits WithoutSpot(CapacityLimits limits) => limits with
    {
        SpotPoolSizes = limits.SpotPoolSizes.ToImmutableDictionary(kv => kv.Key, _ => 0),
        DefaultSpotPoolSize = 0,
    };

    /// <summary>The nearest-rank percentile of <paramref name="values"/>; 0 when there are none.</summary>
    internal static double Percentile(IReadOnlyList<double> values, double p)
    {
        if (values.Count == 0)
        {
            return 0;
        }
        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
    }
}
