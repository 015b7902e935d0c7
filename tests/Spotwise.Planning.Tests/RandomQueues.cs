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
}
