using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.History;

namespace Spotwise.Server;

/// <summary>What the market endpoints need, bundled for <c>[AsParameters]</c>.</summary>
public sealed class MarketServices(IPriceFeed prices, ICompute compute, IJobStore store, TimeProvider time, PoolInterruptionTracker? pools = null)
{
    /// <summary>The learned interruption rates per spot pool the scheduler plans with (none without a tracker).</summary>
    public PoolInterruptionTracker? Pools { get; } = pools;

    public IPriceFeed Prices { get; } = prices;

    public ICompute Compute { get; } = compute;

    public IJobStore Store { get; } = store;

    public TimeProvider Time { get; } = time;
}

/// <summary>One instance type's prices at a moment.</summary>
public sealed record PriceView(
    string InstanceType, int Vcpus, double MemoryGiB, int Gpus, string? GpuModel, string Architecture,
    double OnDemandPricePerHourUsd, double SpotPricePerHourUsd, int InterruptionBand, double SpotInterruptionRatePerHour)
{
    /// <summary>
    /// The spot pools (zones) of this type the service has run attempts in, each with what its history taught;
    /// <see cref="SpotInterruptionRatePerHour"/> stays the band's. Empty: no ended spot attempt within the look-back.
    /// </summary>
    public IReadOnlyList<SpotPoolRateView> SpotPools { get; init; } = [];
}

/// <summary>
/// What one spot pool's own attempts say: <see cref="ExposureHours"/> of running, <see cref="Interruptions"/> of them
/// interrupted, and the learned rate the planner prices the pool with (<see cref="LearnedInterruptionRatePerHour"/>; null
/// while the exposure is below the minimum and the band's rate stays in force).
/// </summary>
public sealed record SpotPoolRateView(string Zone, double ExposureHours, int Interruptions, double? LearnedInterruptionRatePerHour, double InterruptionRatePerHour);

/// <summary>What the backend says about one instance of the caller's team.</summary>
public sealed record InstanceView(
    string InstanceId, string JobId, int Attempt, string Market, string InstanceType, string Zone, string State,
    DateTimeOffset LaunchedAt, DateTimeOffset? RunningSince, DateTimeOffset? EndedAt, DateTimeOffset? InterruptionNoticeAt,
    double PricePerHourUsd, double CostSoFarUsd, string? Error);

public sealed record PricesView(DateTimeOffset At, string Provider, string Region, IReadOnlyList<PriceView> Prices);

/// <summary><c>/api/prices</c> (what capacity costs now) and <c>/api/instances</c> (what runs, for the caller's team).</summary>
public static class MarketApi
{
    public static IEndpointRouteBuilder MapMarketApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/prices", PricesAsync).RequireAuthorization().WithTags("Market")
            .WithName("ListPrices").WithSummary("Prices in force now, per instance type");
        app.MapGet("/api/instances", InstancesAsync).RequireAuthorization().WithTags("Market")
            .WithName("ListInstances").WithSummary("The backend's instances of the team's jobs");
        return app;
    }

    /// <summary>Prices in force now; <c>?instanceType=p3.2xlarge,g5.xlarge</c> narrows the list, <c>?gpus=true</c> keeps GPU types.</summary>
    public static async Task<Results<Ok<PricesView>, ValidationProblem>> PricesAsync(
        string? instanceType, bool? gpus, [AsParameters] MarketServices services, CancellationToken cancellationToken)
    {
        var now = services.Time.GetUtcNow();
        var catalog = await services.Prices.PricesAtAsync(now, cancellationToken);
        var wanted = instanceType?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        var unknown = wanted?.Where(t => catalog.Find(t) is null).ToList() ?? [];
        if (unknown.Count > 0)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["instanceType"] = [$"{string.Join(", ", unknown.Select(u => $"'{u}'"))} not in the catalog"],
            });
        }
        var entries = catalog.Entries.Where(e => (wanted is null || wanted.Contains(e.Type.Name)) && (gpus is not true || e.Type.Gpus > 0));
        return TypedResults.Ok(new PricesView(now, catalog.Provider, catalog.Region, [.. entries.Select(e => new PriceView(
            e.Type.Name, e.Type.Vcpus, e.Type.MemoryGiB, e.Type.Gpus, e.Type.GpuModel, e.Type.Architecture,
            e.OnDemandPricePerHourUsd, e.SpotPricePerHourUsd, e.InterruptionBand, e.SpotInterruptionRatePerHour)
        {
            SpotPools = PoolRates(services.Pools?.Current ?? PoolInterruptionHistory.Empty, catalog, e),
        })]));
    }

    /// <summary>The pools of <paramref name="entry"/>'s type that the attempt log knows, with the rate each is priced with.</summary>
    private static List<SpotPoolRateView> PoolRates(PoolInterruptionHistory pools, Catalog catalog, CatalogEntry entry) =>
        [.. pools.Pools.Where(p => p.InstanceType == entry.Type.Name && (p.Provider.Length == 0 || p.Provider == catalog.Provider))
            .Select(p => p.Zone).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)
            .Select(zone => pools.RateFor(catalog.Provider, entry, zone))
            .Select(used => new SpotPoolRateView(used.Zone, Math.Round(used.ExposureHours, 2), used.Interruptions,
                used.Learned ? used.RatePerHour : null, used.RatePerHour))];

    /// <summary>The backend's instances of the caller's team's jobs (another team's instances are not shown).</summary>
    public static async Task<Ok<IReadOnlyList<InstanceView>>> InstancesAsync(
        ClaimsPrincipal user, [AsParameters] MarketServices services, CancellationToken cancellationToken)
    {
        var team = user.Team();
        var instances = await services.Compute.DescribeAsync(cancellationToken);
        return TypedResults.Ok<IReadOnlyList<InstanceView>>([.. instances.Where(i => i.Team == team).Select(i => new InstanceView(
            i.InstanceId, i.JobId, i.Attempt, i.Market.ToWire(), i.InstanceType, i.Zone, i.State.ToString().ToLowerInvariant(),
            i.LaunchedAt, i.RunningSince, i.EndedAt, i.InterruptionNoticeAt, i.PricePerHourUsd, i.CostSoFarUsd, i.Error))]);
    }
}
