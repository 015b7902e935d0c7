using Spotwise.Core;

namespace Spotwise.Runtime;

/// <summary>
/// Several single-region feeds as one: each is asked for its prices of the moment (concurrently: a live feed may wait
/// on the network the first time), and the answers are combined with <see cref="Catalog.Combine"/>, the first feed's
/// region being home. The transfer table is the one given, else the home catalog's.
/// </summary>
public sealed class CombinedPriceFeed : IPriceFeed
{
    private readonly IReadOnlyList<IPriceFeed> _feeds;
    private readonly TransferPrices? _transfer;

    /// <exception cref="ArgumentException">No feed.</exception>
    public CombinedPriceFeed(IEnumerable<IPriceFeed> feeds, TransferPrices? transfer = null)
    {
        _feeds = [.. feeds];
        if (_feeds.Count == 0)
        {
            throw new ArgumentException("a combined price feed needs at least one feed, the home region's", nameof(feeds));
        }
        _transfer = transfer;
    }

    public async Task<Catalog> PricesAtAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        var catalogs = await Task.WhenAll(_feeds.Select(f => f.PricesAtAsync(at, cancellationToken)));
        return Catalog.Combine(catalogs, _transfer);
    }
}
