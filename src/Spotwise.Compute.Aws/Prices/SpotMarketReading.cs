using System.Collections.Immutable;
using Spotwise.Core;

namespace Spotwise.Compute.Aws.Prices;

/// <summary>
/// What EC2 said of a region's spot market at <see cref="AsOf"/>: for each watched instance type, the zones that offer it,
/// and the spot price in force in each of those zones (a zone that offers a type but sells no spot has no price).
/// </summary>
public sealed record SpotMarketReading(
    string Region,
    DateTimeOffset AsOf,
    ImmutableDictionary<string, ImmutableArray<string>> ZonesByType,
    ImmutableDictionary<(string Zone, string InstanceType), double> SpotPrices)
{
    /// <summary>The zones that offer <paramref name="instanceType"/>, in order; empty when none does (or it was not watched).</summary>
    public ImmutableArray<string> ZonesOffering(string instanceType) => ZonesByType.GetValueOrDefault(instanceType, []);

    /// <summary>The type's spot price in each zone that offers it and sells it, in zone order.</summary>
    public ImmutableArray<ZoneSpotPrice> SpotZones(string instanceType) =>
        [.. ZonesOffering(instanceType)
            .Where(z => SpotPrices.ContainsKey((z, instanceType)))
            .Select(z => new ZoneSpotPrice(z, SpotPrices[(z, instanceType)]))];

    /// <summary>
    /// The catalog with each priced type sold on spot zone by zone (<see cref="CatalogEntry.SpotZones"/>, which the
    /// planners choose among) and its regional spot price the cheapest zone's, as <c>TracePriceFeed</c> does. A type EC2
    /// gave no price for keeps the catalog's entry. On-demand prices and interruption bands are the catalog's.
    /// </summary>
    public Catalog Apply(Catalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var entries = catalog.Entries.Select(e => SpotZones(e.Type.Name) is { IsEmpty: false } zones
            ? e with { SpotPricePerHourUsd = zones.Min(z => z.PricePerHourUsd), SpotZones = zones }
            : e);
        return new Catalog(catalog.Provider, Region, entries);
    }
}
