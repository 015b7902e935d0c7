using System.Collections.Immutable;
using Spotwise.Core;
using Spotwise.Runtime.Traces;

namespace Spotwise.Runtime.Tests;

/// <summary>Hand-made catalogs and traces for the simulated cloud's tests.</summary>
internal static class SimTestData
{
    public const string V100 = "p3.2xlarge";
    public const string Cpu = "m5.large";
    public const string Zone = "us-test-1a";

    public static readonly DateTimeOffset T0 = new(2023, 2, 15, 0, 0, 0, TimeSpan.Zero);

    public static Catalog TestCatalog { get; } = new("aws", "us-test-1",
    [
        new CatalogEntry(new InstanceType(V100, 8, 61, 1, "V100"), 3.06, 0.918, 2),
        new CatalogEntry(new InstanceType(Cpu, 2, 8, 0, null), 0.096, 0.04, 0),
    ]);

    /// <summary>A V100 trace in <see cref="Zone"/> with ticks of <paramref name="tickMinutes"/> from <see cref="T0"/>.</summary>
    public static SpotTrace Trace(int tickMinutes, int[] available, double[]? prices = null, string zone = Zone) =>
        new(zone, V100, T0, TimeSpan.FromMinutes(tickMinutes), [.. available],
            prices is null ? default : ImmutableArray.Create(prices));

    public static int[] Repeat(params (int Value, int Ticks)[] runs) =>
        [.. runs.SelectMany(r => Enumerable.Repeat(r.Value, r.Ticks))];
}
