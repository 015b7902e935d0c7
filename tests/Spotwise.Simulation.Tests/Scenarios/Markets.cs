using System.Collections.Immutable;
using Spotwise.Core;
using Spotwise.Runtime.Traces;
using Spotwise.Simulation.Scenarios;

namespace Spotwise.Simulation.Tests.Scenarios;

/// <summary>Hand-made markets: availability per tick as a string ('1' spot, '0' none), hour-long ticks unless told.</summary>
internal static class Markets
{
    public static readonly InstanceType Type = new("p3.2xlarge", 8, 61, 1, "V100");

    public const double OnDemandPrice = 3.0;
    public const double SpotPrice = 1.0;

    public static ZoneTraces Of(string availability, double tickHours = 1, double spotPrice = SpotPrice) => Zones([availability], tickHours, spotPrice);

    public static ZoneTraces Zones(IReadOnlyList<string> availability, double tickHours = 1, double spotPrice = SpotPrice) => new(
        [.. availability.Select((a, i) => new SpotTrace($"zone-{i}", Type.Name, ZoneTraces.Origin, TimeSpan.FromHours(tickHours),
            [.. a.Select(c => c == '1' ? 1 : 0)]))],
        Type, OnDemandPrice, spotPrice);

    /// <summary>A random market: availability in runs (outages and spells of a few ticks), prices that drift.</summary>
    public static ZoneTraces Random(int seed, int ticks, int zones, double tickHours)
    {
        var random = new Random(seed);
        var traces = new List<SpotTrace>();
        for (var z = 0; z < zones; z++)
        {
            var available = ImmutableArray.CreateBuilder<int>(ticks);
            var prices = ImmutableArray.CreateBuilder<double>(ticks);
            var on = random.Next(2) == 1;
            var price = 0.8 + random.NextDouble();
            while (available.Count < ticks)
            {
                var run = 1 + random.Next(on ? 12 : 6);
                for (var i = 0; i < run && available.Count < ticks; i++)
                {
                    available.Add(on ? 1 : 0);
                    prices.Add(price);
                }
                on = !on;
                price = Math.Clamp(price + ((random.NextDouble() - 0.5) * 0.2), 0.5, 2.5);
            }
            traces.Add(new SpotTrace($"zone-{z}", Type.Name, ZoneTraces.Origin, TimeSpan.FromHours(tickHours), available.MoveToImmutable(), prices.MoveToImmutable()));
        }
        return new ZoneTraces(traces, Type, OnDemandPrice, SpotPrice);
    }
}
