using Spotwise.Core;

namespace Spotwise.Server;

/// <summary>
/// The catalog of each region the service prices, home first: one region for every backend, several for <c>aws</c> with
/// several <c>--region</c>s. The planner's <see cref="Catalog"/> is <see cref="Combined"/>; each region's live price feed
/// reads its own.
/// </summary>
public sealed record RegionCatalogs(IReadOnlyList<Catalog> ByRegion)
{
    /// <summary>One catalog over the regions (<see cref="Catalog.Combine"/>, with the home catalog's transfer table); one region's is itself.</summary>
    public Catalog Combined { get; } = ByRegion.Count == 1 ? ByRegion[0] : Catalog.Combine(ByRegion, ByRegion[0].Transfer);

    /// <summary>The catalog CSV at <paramref name="path"/> read as each region's prices, with the shipped transfer table.</summary>
    /// <exception cref="FormatException">A bad line; the message names the file and the line.</exception>
    public static RegionCatalogs Load(string path, IEnumerable<string> regions) => new([.. regions.Select(r => ShippedCatalog.Load(path, r))]);
}
