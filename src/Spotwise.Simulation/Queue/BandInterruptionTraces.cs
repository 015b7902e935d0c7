using Spotwise.Core;
using Spotwise.Runtime.Traces;

namespace Spotwise.Simulation.Queue;

/// <summary>
/// Spot capacity for instance types no real trace covers, drawn from their Spot Advisor interruption band: reclaim
/// events arrive as a Poisson process at the band's hourly rate (<see cref="InterruptionBands.HourlyRate"/>, the rate
/// the cost model prices), and each empties the pool for an outage. Between events the pool is never short. Every
/// instance of a pool lives through the same events, so each is interrupted at the band's rate, as the planner
/// assumes. Drawn from the seed and the type's name alone: the same seed gives the same traces.
/// </summary>
public static class BandInterruptionTraces
{
    public static TimeSpan Tick { get; } = TimeSpan.FromMinutes(5);

    /// <summary>One trace per catalog type that can serve some job and has no real trace, in the catalog's region.</summary>
    public static IReadOnlyList<SpotTrace> For(
        Catalog catalog, IReadOnlyCollection<Job> jobs, IReadOnlySet<string> tracedTypes, DateTimeOffset start, DateTimeOffset until,
        TimeSpan outage, int seed)
    {
        var ticks = (int)Math.Ceiling((until - start) / Tick);
        return [.. catalog.Entries
            .Where(e => !tracedTypes.Contains(e.Type.Name) && jobs.Any(j => j.Resources.IsSatisfiedBy(e.Type)))
            .Select(e => Draw(e, catalog.Region, start, Math.Max(1, ticks), outage, seed))];
    }

    private static SpotTrace Draw(CatalogEntry entry, string zone, DateTimeOffset start, int ticks, TimeSpan outage, int seed)
    {
        var random = new Random(seed ^ StableHash(entry.Type.Name));
        var rate = entry.SpotInterruptionRatePerHour;
        var available = Enumerable.Repeat(CapacityLimits.Unlimited, ticks).ToArray();
        var outageTicks = Math.Max(1, (int)Math.Ceiling(outage / Tick));
        var hours = 0.0;
        while (rate > 0)
        {
            hours += -Math.Log(1 - random.NextDouble()) / rate;
            var at = hours / Tick.TotalHours;
            if (at >= ticks)
            {
                break;
            }
            var first = (int)at;
            Array.Fill(available, 0, first, Math.Min(outageTicks, ticks - first));
        }
        return new SpotTrace(zone, entry.Type.Name, start, Tick, [.. available]);
    }

    // string.GetHashCode differs between processes; FNV-1a does not.
    private static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return (int)hash;
    }
}
