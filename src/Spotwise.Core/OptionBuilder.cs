namespace Spotwise.Core;

/// <summary>
/// Turns each job into its safe options: every catalog offer that satisfies the request, on both markets, whose
/// start window is not empty (for spot: slack enough for the on-demand fallback), priced by the cost model.
/// Options a planner never needs are pruned here so every planner and the lower bound see the same set.
/// </summary>
public static class OptionBuilder
{
    public static IReadOnlyList<JobOptions> Build(PlanningProblem problem)
    {
        var result = new JobOptions[problem.Jobs.Length];
        for (var i = 0; i < result.Length; i++)
        {
            result[i] = ForJob(problem, problem.Jobs[i]);
        }
        return result;
    }

    public static JobOptions ForJob(PlanningProblem problem, Job job)
    {
        var catalog = problem.Catalog;
        var fits = catalog.Entries.Where(e => job.Resources.IsSatisfiedBy(e.Type)).ToList();
        if (fits.Count == 0)
        {
            return new JobOptions(job, [], $"no instance type in the catalog satisfies {job.Resources.Describe()}", null);
        }
        var cheapestOnDemand = catalog.CheapestOnDemandPricePerHourUsd(job.Resources)!.Value;
        var allOnDemandCost = cheapestOnDemand * job.DurationHours;
        var ready = job.EarliestStart is { } es && es > problem.Now ? es : problem.Now;
        var onDemandLatest = job.Deadline?.AddHours(-job.DurationHours);
        if (onDemandLatest < ready)
        {
            return new JobOptions(job, [], WhyTooLate(job, ready), allOnDemandCost);
        }
        var spotLatest = CostModel.LatestSafeSpotStart(job);
        var spotAllowed = spotLatest is null || spotLatest >= ready;

        var options = new List<JobOption>();
        foreach (var entry in fits)
        {
            var od = catalog.OfferFor(entry, Market.OnDemand);
            options.Add(new JobOption(job, od, CostModel.ExpectedCostUsd(job, od, od.PricePerHourUsd), ready, onDemandLatest,
                problem.Limits.PoolOf(od)));
            if (spotAllowed && entry.SpotPricePerHourUsd < entry.OnDemandPricePerHourUsd)
            {
                var spot = catalog.OfferFor(entry, Market.Spot);
                // The fallback runs on the cheapest on-demand type that fits: that is what the runtime will buy.
                options.Add(new JobOption(job, spot, CostModel.ExpectedCostUsd(job, spot, cheapestOnDemand), ready, spotLatest,
                    problem.Limits.PoolOf(spot)));
            }
        }
        return new JobOptions(job, Prune(options, problem.Settings.OptionsPerMarket), null, allOnDemandCost);
    }

    private static string WhyTooLate(Job job, DateTimeOffset ready) =>
        FormattableString.Invariant(
            $"deadline {job.Deadline:yyyy-MM-ddTHH:mm:sszzz} cannot be met: {job.DurationHours:0.##} h of work cannot fit after {ready:yyyy-MM-ddTHH:mm:sszzz}");

    /// <summary>
    /// Exact pruning first: two on-demand options in one quota class share the pool and the window, so the one
    /// that costs more and uses no fewer vCPUs can never be needed. Then a cap of the cheapest few per market,
    /// a heuristic that keeps the model small: it loses nothing unless all of the kept pools are full.
    /// </summary>
    private static List<JobOption> Prune(List<JobOption> options, int perMarket)
    {
        options.Sort((a, b) => a.ExpectedCostUsd != b.ExpectedCostUsd
            ? a.ExpectedCostUsd.CompareTo(b.ExpectedCostUsd)
            : string.CompareOrdinal(a.Offer.InstanceType.Name, b.Offer.InstanceType.Name));
        var kept = new List<JobOption>();
        var minVcpusByOnDemandPool = new Dictionary<string, int>(StringComparer.Ordinal);
        var countByMarket = new Dictionary<Market, int>();
        foreach (var option in options)
        {
            if (option.Offer.Market == Market.OnDemand)
            {
                if (minVcpusByOnDemandPool.TryGetValue(option.Pool.Pool.Id, out var least) && least <= option.Pool.Demand)
                {
                    continue;
                }
                minVcpusByOnDemandPool[option.Pool.Pool.Id] = option.Pool.Demand;
            }
            var count = countByMarket.GetValueOrDefault(option.Offer.Market);
            if (count >= perMarket)
            {
                continue;
            }
            countByMarket[option.Offer.Market] = count + 1;
            kept.Add(option);
        }
        return kept;
    }
}
