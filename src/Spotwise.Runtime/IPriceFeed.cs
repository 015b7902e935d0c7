using Spotwise.Core;

namespace Spotwise.Runtime;

/// <summary>What capacity costs at a moment: the catalog with the prices in force then.</summary>
public interface IPriceFeed
{
    Task<Catalog> PricesAtAsync(DateTimeOffset at, CancellationToken cancellationToken);
}

/// <summary>Prices that do not change: the catalog as shipped.</summary>
public sealed class CatalogPriceFeed(Catalog catalog) : IPriceFeed
{
    public Task<Catalog> PricesAtAsync(DateTimeOffset at, CancellationToken cancellationToken) => Task.FromResult(catalog);
}
