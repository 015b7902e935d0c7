using Spotwise.Core;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

/// <summary>Random queues for property tests, reproducible from their seed.</summary>
public static class RandomQueues
{
    private static readonly string[] Classes = ["cpu_small", "cpu_medium", "cpu_large", "gpu_medium", "gpu_large"];

    /// <summary>
    /// A queue for the real catalog: named classes, 15 minutes to 6 hours of work, deadlines from tight to a day away
    /// (some none), some delayed starts, some checkpointing, and dependencies on earlier jobs.
    /// </summary>
    public static List<Spotwise.Core.Job> Medium(Random random, int jobs, bool dependencies = true)
    {
        var queue = new List<Spotwise.Core.Job>(jobs);
        for (var i = 0; i < jobs; i++)
        {
            var hours = Math.Round(0.25 + random.NextDouble() * 5.75, 2);
            var earliest = random.Next(4) == 0 ? random.Next(1, 6) : 0;
            double? deadline = random.Next(8) == 0 ? null : earliest + hours * (1.1 + random.NextDouble() * 3) + random.Next(0, 3);
            var dependsOn = dependencies && i > 0 && random.Next(5) == 0 ? new[] { $"j{random.Next(i):00}" } : [];
            queue.Add(new Spotwise.Core.Job
            {
                Id = $"j{i:00}",
                DurationHours = hours,
                Priority = random.Next(Spotwise.Core.Job.MinPriority, Spotwise.Core.Job.MaxPriority + 1),
                EarliestStart = earliest > 0 ? Now.AddHours(earliest) : null,
                Deadline = deadline is { } d ? Now.AddHours(Math.Round(d, 2)) : null,
                Resources = ResourceClasses.Presets[Classes[random.Next(Classes.Length)]],
                Checkpointable = random.Next(3) == 0,
                DependsOn = [.. dependsOn],
            });
        }
        return queue;
    }

    /// <summary>Instance types for tiny catalogs: standard and GPU quota classes, 2 and 4 vCPUs, calm and stormy spot.</summary>
    private static readonly (string Type, double OnDemand, double Spot, int Vcpus, int Band)[] TinyTypes =
    [
        ("c5.large", 0.085, 0.035, 2, 0),
        ("m5.large", 0.096, 0.033, 2, 3),
        ("t3.medium", 0.0416, 0.0183, 2, 1),
        ("c5.xlarge", 0.17, 0.075, 4, 0),
        ("g4dn.xlarge", 0.526, 0.189, 4, 4),
    ];

    /// <summary>
    /// A small problem for exhaustive search: 2..5 jobs, 2..3 instance types, spot pools of 1..2 and an on-demand
    /// quota of 2..6 vCPUs, a 60-minute grid, deadlines a few hours away (some too close to meet, some absent with a
    /// 4-hour open horizon), priorities 1..4 so that ties happen, and dependencies on earlier jobs.
    /// </summary>
    public static PlanningProblem Tiny(Random random)
    {
        var types = TinyTypes.OrderBy(_ => random.Next()).Take(random.Next(2, 4)).ToArray();
        var catalog = TinyCatalog([.. types.Select(t => Row(t.Type, t.OnDemand * (0.8 + 0.4 * random.NextDouble()), t.Spot, t.Vcpus, t.Band))]);
        var limits = new CapacityLimits
        {
            DefaultSpotPoolSize = random.Next(1, 3),
            DefaultOnDemandVcpuQuota = 2 * random.Next(1, 4),
        };
        var jobs = new List<Spotwise.Core.Job>();
        var count = random.Next(2, 6);
        for (var i = 0; i < count; i++)
        {
            var hours = 0.25 * random.Next(2, 9);
            var earliest = random.Next(3) == 0 ? 1 : 0;
            double? deadline = random.Next(10) == 0 ? null : earliest + hours + 0.25 * random.Next(-1, 13);
            var subset = types.Where(_ => random.Next(3) > 0).Select(t => t.Type).ToArray();
            jobs.Add(Job(
                $"t{i}",
                hours,
                deadline,
                priority: random.Next(1, 5),
                types: subset.Length > 0 ? subset : [types[0].Type],
                earliestHours: earliest,
                checkpointable: random.Next(2) == 0,
                dependsOn: i > 0 && random.Next(4) == 0 ? [$"t{random.Next(i)}"] : []));
        }
        var settings = PlanningSettings.Default with { GridMinutes = 60, OpenHorizon = TimeSpan.FromHours(4) };
        return new PlanningProblem(Now, [.. jobs], catalog, limits, settings);
    }

    /// <summary>A problem in one line per job, for failure messages.</summary>
    public static string Describe(PlanningProblem problem) =>
        $"limits: spot pool {problem.Limits.DefaultSpotPoolSize}, on-demand quota {problem.Limits.DefaultOnDemandVcpuQuota} vCPU; types: "
        + string.Join(", ", problem.Catalog.Entries.Select(e => FormattableString.Invariant($"{e.Type.Name} {e.OnDemandPricePerHourUsd:0.####}/{e.SpotPricePerHourUsd:0.####}")))
        + "\n" + string.Join("\n", problem.Jobs.Select(j => FormattableString.Invariant(
            $"  {j.Id} p{j.Priority} {j.DurationHours}h from +{((j.EarliestStart ?? problem.Now) - problem.Now).TotalHours}h due {(j.Deadline is { } d ? $"+{(d - problem.Now).TotalHours}h" : "never")} on {j.Resources.Describe()}{(j.Checkpointable ? " ckpt" : "")}{(j.DependsOn.IsEmpty ? "" : " after " + string.Join(",", j.DependsOn))}")));
}
