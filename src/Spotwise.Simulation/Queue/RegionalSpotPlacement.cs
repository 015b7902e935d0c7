using Spotwise.Core;
using Spotwise.Runtime.Traces;

namespace Spotwise.Simulation.Queue;

/// <summary>
/// Places a regional spot request in a traced zone, as an EC2 Fleet given several subnets does. The catalog is
/// regional, so a plan names the region as its zone; the traces are per zone. A spot launch of a traced instance type
/// that names no traced zone goes to the zone with the lowest spot price among those with an instance free at that
/// moment (the lowest price of all when none has: the cloud then refuses it, as AWS would). The choice is remembered
/// per client token, so a repeated launch lands where the first did. Everything else passes through unchanged.
/// </summary>
public sealed class RegionalSpotPlacement(ICompute inner, IEnumerable<SpotTrace> zonalTraces, TimeProvider time) : ICompute
{
    private readonly Lock _lock = new();
    private readonly ILookup<string, SpotTrace> _zonesByType = zonalTraces.ToLookup(t => t.InstanceType, StringComparer.Ordinal);
    private readonly Dictionary<string, string> _zoneByToken = new(StringComparer.Ordinal);

    public async Task<InstanceStatus> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
    {
        var zones = _zonesByType[request.InstanceType].ToList();
        if (request.Market != Market.Spot || zones.Count == 0 || zones.Any(z => z.Zone == request.Zone))
        {
            return await inner.LaunchAsync(request, cancellationToken);
        }
        string? zone;
        lock (_lock)
        {
            _zoneByToken.TryGetValue(request.ClientToken, out zone);
        }
        if (zone is null)
        {
            zone = PickZone(zones, request.InstanceType, await inner.DescribeAsync(cancellationToken), time.GetUtcNow());
            lock (_lock)
            {
                zone = _zoneByToken.TryAdd(request.ClientToken, zone) ? zone : _zoneByToken[request.ClientToken];
            }
        }
        return await inner.LaunchAsync(request with { Zone = zone }, cancellationToken);
    }

    public Task<IReadOnlyList<InstanceStatus>> DescribeAsync(CancellationToken cancellationToken) => inner.DescribeAsync(cancellationToken);

    public Task TerminateAsync(string instanceId, CancellationToken cancellationToken) => inner.TerminateAsync(instanceId, cancellationToken);

    // Cheapest zone with a free instance now; ties go to the zone first by name, so the choice is reproducible.
    private static string PickZone(List<SpotTrace> zones, string instanceType, IReadOnlyList<InstanceStatus> observed, DateTimeOffset now)
    {
        var live = observed.Where(i => i.Market == Market.Spot && !i.IsEnded && i.InstanceType == instanceType)
            .GroupBy(i => i.Zone, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var byPrice = zones.OrderBy(z => z.SpotPriceAt(now) ?? 0).ThenBy(z => z.Zone, StringComparer.Ordinal).ToList();
        var free = byPrice.FirstOrDefault(z => z.AvailableAt(now) > live.GetValueOrDefault(z.Zone));
        return (free ?? byPrice[0]).Zone;
    }
}
