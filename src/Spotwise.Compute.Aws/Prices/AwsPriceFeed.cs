using Amazon.EC2;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Compute.Aws.Prices;

/// <summary>
/// Live spot prices from EC2, zone by zone (<see cref="Ec2SpotMarket"/>), on the base catalog's types and on-demand
/// prices. A reconcile tick never waits on AWS: an answer comes from the last snapshot; once it is older than the TTL a
/// refresh starts in the background and the old snapshot is served until the new one is in. Only the very first call
/// waits, for the first snapshot. A failed refresh keeps the last snapshot, is logged, and is tried again one TTL later,
/// so prices are at most one TTL (plus a refresh) old while EC2 answers, and as old as the last good answer while it
/// does not (<see cref="AsOf"/> says which).
/// </summary>
public sealed partial class AwsPriceFeed : IPriceFeed, IDisposable
{
    private readonly IAmazonEC2 _ec2;
    private readonly AwsPriceFeedOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();
    private Snapshot? _last;
    private Task<Snapshot?>? _refreshing;
    private DateTimeOffset _lastAttempt;
    private Exception? _lastError;
    private int _disposed;

    public AwsPriceFeed(IAmazonEC2 ec2, AwsPriceFeedOptions options, TimeProvider time, ILogger<AwsPriceFeed>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Ttl <= TimeSpan.Zero)
        {
            throw new ArgumentException($"Ttl is {options.Ttl}; it must be > 0", nameof(options));
        }
        _ec2 = ec2;
        _options = options;
        _time = time;
        _logger = logger ?? NullLogger<AwsPriceFeed>.Instance;
    }

    /// <summary>When the snapshot being served was read from EC2; null before the first.</summary>
    public DateTimeOffset? AsOf => Volatile.Read(ref _last)?.AsOf;

    /// <summary>The refresh in flight, or a completed task: what a test or the bench awaits to see a refresh land.</summary>
    public Task Refreshing
    {
        get
        {
            lock (_lock)
            {
                return _refreshing ?? Task.CompletedTask;
            }
        }
    }

    /// <summary>The prices now, whatever <paramref name="at"/> says: EC2 prices the present only.</summary>
    public async Task<Catalog> PricesAtAsync(DateTimeOffset at, CancellationToken cancellationToken)
    {
        Task<Snapshot?> first;
        lock (_lock)
        {
            if (_last is { } last)
            {
                if (_refreshing is null && _time.GetUtcNow() - _lastAttempt >= _options.Ttl)
                {
                    _refreshing = StartRefresh();
                }
                return last.Catalog;
            }
            first = _refreshing ??= StartRefresh();
        }
        var snapshot = await first.WaitAsync(cancellationToken).ConfigureAwait(false);
        return snapshot?.Catalog ?? throw new InvalidOperationException(
            $"no spot prices yet for {_options.Region}: EC2 could not be read ({_lastError?.Message})", _lastError);
    }

    /// <summary>Stops a refresh in flight. Idempotent: a container that registers the feed under two types disposes it twice.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _stopping.Cancel();
            _stopping.Dispose();
        }
    }

    // Off the caller's thread and token: a reconcile tick's cancellation must not abort a refresh others wait for.
    private Task<Snapshot?> StartRefresh()
    {
        _lastAttempt = _time.GetUtcNow();
        var token = _stopping.Token;
        return Task.Run(() => RefreshAsync(token), token);
    }

    private async Task<Snapshot?> RefreshAsync(CancellationToken cancellationToken)
    {
        var started = _time.GetTimestamp();
        try
        {
            var reading = await Ec2SpotMarket.ReadAsync(_ec2, _options.Region, Watched(), _time.GetUtcNow(), _options.Lookback, cancellationToken)
                .ConfigureAwait(false);
            var snapshot = new Snapshot(reading.Apply(_options.Catalog), reading.AsOf);
            lock (_lock)
            {
                _last = snapshot;
                _refreshing = null;
            }
            var elapsed = _time.GetElapsedTime(started);
            Log.Refreshed(_logger, _options.Region, reading.SpotPrices.Count, elapsed);
            return snapshot;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Snapshot? kept;
            lock (_lock)
            {
                _lastError = e;
                _refreshing = null;
                kept = _last;
            }
            Log.RefreshFailed(_logger, e, _options.Region, kept?.AsOf, _options.Ttl);
            return null;
        }
    }

    /// <summary>The watched types; every catalog type is read without a type filter (EC2 lists them all anyway).</summary>
    private IReadOnlyCollection<string>? Watched() => _options.InstanceTypes is { Count: > 0 } types ? types : null;

    private sealed record Snapshot(Catalog Catalog, DateTimeOffset AsOf);

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Information, Message = "EC2 spot prices for {Region} refreshed: {Pools} (zone, type) pools in {Elapsed}")]
        public static partial void Refreshed(ILogger logger, string region, int pools, TimeSpan elapsed);

        [LoggerMessage(Level = LogLevel.Warning,
            Message = "EC2 spot prices for {Region} could not be refreshed; serving the snapshot of {AsOf} and trying again in {Ttl}")]
        public static partial void RefreshFailed(ILogger logger, Exception error, string region, DateTimeOffset? asOf, TimeSpan ttl);
    }
}
