using System.Collections.Concurrent;

namespace Spotwise.Compute.Aws;

/// <summary>
/// The backend's regions, each with its own EC2 calls (EC2 is one endpoint per region, and an instance id is known only
/// in its region), and which region each instance the backend launched or listed is in. The home region is first.
/// </summary>
internal sealed class Ec2Regions
{
    private readonly List<(string? Region, Ec2Calls Calls)> _regions;
    private readonly ConcurrentDictionary<string, int> _instanceRegion = new(StringComparer.Ordinal);

    /// <param name="regions">The regions, home first (a null region is the SDK's own, for a backend of one region).</param>
    /// <param name="calls">Makes one region's calls.</param>
    public Ec2Regions(IReadOnlyList<string?> regions, Func<string?, Ec2Calls> calls)
    {
        if (regions.Count == 0)
        {
            throw new ArgumentException("the AWS backend needs at least one region", nameof(regions));
        }
        _regions = [.. regions.Select(r => (r, calls(r)))];
    }

    public int Count => _regions.Count;

    /// <summary>The home region (the first), null when the SDK resolves it.</summary>
    public string? Home => _regions[0].Region;

    public IEnumerable<(string? Region, Ec2Calls Calls)> All => _regions;

    public IEnumerable<string> Names => _regions.Select(r => r.Region).OfType<string>();

    /// <summary>The calls of <paramref name="region"/>; a region the backend does not launch in is an error naming it.</summary>
    public Ec2Calls In(string? region) => _regions[IndexOf(region)].Calls;

    /// <summary>Remembers that <paramref name="instanceId"/> lives in <paramref name="region"/>.</summary>
    public void Remember(string instanceId, string? region) => _instanceRegion[instanceId] = IndexOf(region);

    /// <summary>
    /// The calls to reach an instance: its region's when the backend launched or listed it, else every region's (an id
    /// from before a restart: the other regions answer that they do not know it).
    /// </summary>
    public IEnumerable<Ec2Calls> Holding(string instanceId) =>
        _instanceRegion.TryGetValue(instanceId, out var i) ? [_regions[i].Calls] : _regions.Select(r => r.Calls);

    private int IndexOf(string? region)
    {
        var i = _regions.FindIndex(r => string.Equals(r.Region, region, StringComparison.Ordinal));
        return i >= 0 ? i
            : throw new ArgumentException($"region '{region}' is not one the AWS backend launches in ({string.Join(", ", Names)})", nameof(region));
    }
}
