using System.Collections.Immutable;
using Spotwise.Core.Serialization;

namespace Spotwise.Core;

/// <summary>
/// Turns each job into its safe options: catalog offers that satisfy the request, on both markets, whose start
/// window is not empty (for spot: slack enough for the on-demand fallback), priced by the cost model. Options a
/// planner never needs are pruned here so every planner and the lower bound see the same set. A job no plan can
/// hold gets no options and the reason: numbers beyond the planning model (<see cref="PlanningBounds"/>), or
/// dependencies that can never be met (<see cref="DependencyGraph"/>); the planners then report it unplanned with
/// that reason and plan the rest.
/// </summary>
public static class OptionBuilder
{
    public static IReadOnlyList<JobOptions> Build(PlanningProblem problem)
    {
        var candidates = new CandidateCache(problem);
        var dependencies = DependencyGraph.Of(problem.Jobs);
        var result = new JobOptions[problem.Jobs.Length];
        for (var i = 0; i < result.Length; i++)
        {
            var job = problem.Settings.AsPlanned(problem.Jobs[i]);
            result[i] = dependencies.WhyBlocked(i) is { } blocked ? new JobOptions(job, [], blocked, null) : ForJob(problem, job, candidates);
        }
        return result;
    }

    /// <summary>One job's options, judged on its own (its dependencies are the queue's business: see <see cref="Build"/>).</summary>
    public static JobOptions ForJob(PlanningProblem problem, Job job) => ForJob(problem, problem.Settings.AsPlanned(job), new CandidateCache(problem));

    private static JobOptions ForJob(PlanningProblem problem, Job job, CandidateCache cache)
    {
        if (PlanningBounds.WhyOutOfBounds(job, problem) is { } outOfBounds)
        {
            return new JobOptions(job, [], outOfBounds, null);
        }
        var candidates = cache.For(job.Resources);
        if (candidates.CheapestOnDemandPricePerHourUsd is not { } fallbackPrice)
        {
            return new JobOptions(job, [], $"no instance type in the catalog satisfies {job.Resources.Describe()}", null);
        }
        var allOnDemandCost = fallbackPrice * job.DurationHours;
        var ready = job.EarliestStart is { } es && es > problem.Now ? es : problem.Now;
        var onDemandLatest = job.Deadline?.AddHours(-job.DurationHours);
        if (onDemandLatest < ready)
        {
            return new JobOptions(job, [], WhyTooLate(job, ready, problem.Settings.LaunchAllowance), allOnDemandCost);
        }
        var options = new List<JobOption>(2 * problem.Settings.OptionsPerMarket);
        var untransferable = new SortedSet<string>(StringComparer.Ordinal);
        // On-demand at the market's price, then under the commitments: reserved capacity at 0 $/h and the savings plan's discount.
        foreach (var offer in candidates.OnDemand.Concat(candidates.Committed))
        {
            if (Transfer(problem, job, offer, untransferable) is not { } move)
            {
                continue;
            }
            var latest = job.Deadline?.AddHours(-(job.DurationHours + move.Hours));
            if (latest is null || latest >= ready)
            {
                var cost = (offer.PricePerHourUsd * (job.DurationHours + move.Hours)) + move.CostUsd;
                options.Add(new JobOption(job, offer, cost, ready, latest, problem.Limits.PoolOf(offer))
                {
                    TransferHours = move.Hours,
                    CommitmentPool = problem.Limits.CommitmentPoolOf(offer),
                });
            }
        }
        foreach (var (offer, cost, move) in CheapestSpot(problem, job, candidates, fallbackPrice, untransferable))
        {
            var spotLatest = CostModel.LatestSafeSpotStart(move.Onto(job));
            if (spotLatest is null || spotLatest >= ready)
            {
                options.Add(new JobOption(job, offer, cost, ready, spotLatest, problem.Limits.PoolOf(offer)) { TransferHours = move.Hours });
            }
        }
        if (options.Count == 0)
        {
            return new JobOptions(job, [], WhyNoneAfterTransfer(problem, job, ready, untransferable), allOnDemandCost);
        }
        options.Sort(CheapestFirst);
        return job.Windows.IsDefaultOrEmpty ? new JobOptions(job, options, null, allOnDemandCost)
            : WithinWindows(problem, job, ready, options, allOnDemandCost);
    }

    /// <summary>
    /// Each option cut to the starts whose whole run lies inside one allowed interval of the job's windows; an option
    /// with none is dropped, and a job left with none is reported with the reason and the next window.
    /// </summary>
    private static JobOptions WithinWindows(PlanningProblem problem, Job job, DateTimeOffset ready, List<JobOption> options, double allOnDemandCost)
    {
        var (windows, errors) = ScheduleWindows.Parse(job.Windows);
        if (windows is null)
        {
            return new JobOptions(job, [], "window: " + string.Join("; ", errors.Select(e => $"{e.Field} {e.Message}")), allOnDemandCost);
        }
        var openLatest = ready + problem.Settings.OpenHorizon;
        var reach = options.Max(o => (o.LatestStart ?? openLatest).AddHours(o.RunHours));
        var intervals = windows.Between(ready, reach);
        var kept = new List<JobOption>(options.Count);
        foreach (var o in options)
        {
            var latest = o.LatestStart ?? openLatest;
            var ranges = intervals.Select(i => new StartRange(i.Start > ready ? i.Start : ready, Min(i.End.AddHours(-o.RunHours), latest)))
                .Where(r => r.From <= r.To).ToImmutableArray();
            if (ranges.Length > 0)
            {
                kept.Add(o with { EarliestStart = ranges[0].From, LatestStart = o.LatestStart is null ? null : ranges[^1].To, StartRanges = ranges });
            }
        }
        return kept.Count > 0 ? new JobOptions(job, kept, null, allOnDemandCost)
            : new JobOptions(job, [], WhyNoWindowFits(job, windows, ready, options.Min(o => o.RunHours)), allOnDemandCost);
    }

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    /// <summary>Why no window holds the job: its run, its deadline, and the next window it could have had.</summary>
    private static string WhyNoWindowFits(Job job, ScheduleWindows windows, DateTimeOffset ready, double runHours)
    {
        var next = windows.Next(ready, JobBounds.Horizon);
        var nextText = next is { } n
            ? FormattableString.Invariant($"the next window is {Fmt(n.Start)} to {Fmt(n.End)} ({(n.End - n.Start).TotalHours:0.##} h)")
            : "no window opens within a year";
        var by = job.Deadline is { } d ? $" before its deadline {Fmt(d)}" : "";
        return FormattableString.Invariant(
            $"window: no allowed interval of {windows} holds the job's {runHours:0.##} h run from {Fmt(ready)}{by}; {nextText}");
    }

    private static string Fmt(DateTimeOffset t) => t.ToString("yyyy-MM-ddTHH:mm:sszzz", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The move the job needs to run on the offer; null (and the region noted) when the transfer table has no price for it.</summary>
    private static DataTransfer? Transfer(PlanningProblem problem, Job job, Offer offer, SortedSet<string> untransferable)
    {
        var move = DataTransfer.For(job, offer, problem.Catalog, problem.Settings);
        if (move is null)
        {
            untransferable.Add(offer.Region);
        }
        return move;
    }

    /// <summary>
    /// Why a job whose deadline the work alone would meet has no option: its data lives in another region, and moving it
    /// either has no price (to the regions named) or takes longer than the slack.
    /// </summary>
    private static string WhyNoneAfterTransfer(PlanningProblem problem, Job job, DateTimeOffset ready, SortedSet<string> untransferable)
    {
        var from = job.DataRegion ?? problem.Catalog.Region;
        var unpriced = untransferable.Count == 0 ? ""
            : $"the transfer table has no price from dataRegion '{from}' to {string.Join(", ", untransferable.Select(r => $"'{r}'"))}";
        var tooLong = untransferable.Count == problem.Catalog.Regions.Length ? ""
            : FormattableString.Invariant(
                $"moving its {job.InputDataSizeGB:0.##} GB from dataRegion '{from}' at {problem.Settings.TransferGbps:0.##} Gbit/s leaves no start before {ready:yyyy-MM-ddTHH:mm:sszzz} that meets deadline {job.Deadline:yyyy-MM-ddTHH:mm:sszzz}");
        return "no option: " + string.Join("; ", new[] { unpriced, tooLong }.Where(t => t.Length > 0));
    }

    /// <summary>
    /// The cheapest spot offers by expected cost. Costs are computed once per interruption rate (five bands, plus a
    /// pool's own where its history was learned: <see cref="Catalog.SpotRates"/>), then each offer is a multiply-add; the
    /// fallback runs on the cheapest on-demand type that fits.
    /// </summary>
    private static List<(Offer Offer, double Cost, DataTransfer Move)> CheapestSpot(PlanningProblem problem, Job job, RequestCandidates candidates,
        double fallbackPrice, SortedSet<string> untransferable)
    {
        var keep = problem.Settings.OptionsPerMarket;
        // The price-free terms depend on the run's length, which the transfer to the offer's region sets: one per rate and region.
        var terms = new Dictionary<(double Rate, string Region), (SpotTerms Terms, DataTransfer Move)?>();
        var best = new List<(Offer Offer, double Cost, DataTransfer Move)>(keep + 1);
        foreach (var offer in candidates.Spot)
        {
            var key = (offer.InterruptionRatePerHour, offer.Region);
            if (!terms.TryGetValue(key, out var known))
            {
                known = Transfer(problem, job, offer, untransferable) is { } m ? (CostModel.SpotTermsFor(m.Onto(job), offer.InterruptionRatePerHour), m) : null;
                terms[key] = known;
            }
            if (known is not { } k)
            {
                continue;
            }
            var cost = k.Terms.CostUsd(offer.PricePerHourUsd, fallbackPrice) + k.Move.CostUsd;
            if (best.Count == keep && cost >= best[^1].Cost)
            {
                continue;
            }
            var at = best.FindIndex(b => cost < b.Cost || (cost == b.Cost && ByTypeThenZone(offer, b.Offer) < 0));
            best.Insert(at < 0 ? best.Count : at, (offer, cost, k.Move));
            if (best.Count > keep)
            {
                best.RemoveAt(best.Count - 1);
            }
        }
        return best;
    }

    private static int CheapestFirst(JobOption a, JobOption b) => a.ExpectedCostUsd != b.ExpectedCostUsd
        ? a.ExpectedCostUsd.CompareTo(b.ExpectedCostUsd)
        : ByTypeThenZone(a.Offer, b.Offer);

    /// <summary>Ties in cost break by type, then zone: every planner sees the same order.</summary>
    private static int ByTypeThenZone(Offer a, Offer b)
    {
        var byType = string.CompareOrdinal(a.InstanceType.Name, b.InstanceType.Name);
        return byType != 0 ? byType : string.CompareOrdinal(a.Zone, b.Zone);
    }

    /// <summary>Why a job cannot meet its deadline; <paramref name="job"/> is the job as planned (its work plus the allowance).</summary>
    private static string WhyTooLate(Job job, DateTimeOffset ready, TimeSpan launchAllowance) => launchAllowance <= TimeSpan.Zero
        ? FormattableString.Invariant(
            $"deadline {job.Deadline:yyyy-MM-ddTHH:mm:sszzz} cannot be met: {job.DurationHours:0.##} h of work cannot fit after {ready:yyyy-MM-ddTHH:mm:sszzz}")
        : FormattableString.Invariant(
            $"deadline {job.Deadline:yyyy-MM-ddTHH:mm:sszzz} cannot be met: {job.DurationHours - launchAllowance.TotalHours:0.##} h of work after the {launchAllowance.TotalSeconds:0.#} s launch allowance (boot) cannot fit after {ready:yyyy-MM-ddTHH:mm:sszzz}");
}

/// <summary>
/// What a resource request can run on, worked out once per distinct request (a queue has few): the on-demand
/// offers worth keeping, every spot offer that is cheaper than its on-demand price, and the fallback price.
/// </summary>
internal sealed class RequestCandidates
{
    public RequestCandidates(PlanningProblem problem, ResourceRequest request)
    {
        var catalog = problem.Catalog;
        var fits = catalog.Entries.Where(e => request.IsSatisfiedBy(e.Type)).ToList();
        CheapestOnDemandPricePerHourUsd = fits.Count == 0 ? null : fits.Min(e => e.OnDemandPricePerHourUsd);
        // Pruned per region: which region is cheapest for a job depends on where its data lives, so each keeps its own few.
        var onDemand = fits.SelectMany(catalog.OnDemandOffersFor).ToList();
        OnDemand = [.. catalog.Regions.SelectMany(region => PruneOnDemand(onDemand.Where(o => string.Equals(o.Region, region, StringComparison.Ordinal)),
            problem.Limits, problem.Settings.OptionsPerMarket))];
        Committed = [.. CommittedOffers(problem, fits)];
        // A pool with no capacity (a zone cooling down after a refusal) can hold no job: it must not take a kept place.
        Spot = [.. fits.SelectMany(e => catalog.SpotOffersFor(e)
            .Where(o => o.PricePerHourUsd < e.OnDemandByRegion.GetValueOrDefault(o.Region, e.OnDemandPricePerHourUsd) && problem.Limits.PoolOf(o).Pool.Capacity > 0))];
    }

    public double? CheapestOnDemandPricePerHourUsd { get; }

    /// <summary>
    /// Offers under the limits' commitments: every reserved instance the request fits (0 $/h, its own pool), and each kept
    /// on-demand offer again at the savings plan's price where one instance fits the commitment at all.
    /// </summary>
    public IReadOnlyList<Offer> Committed { get; }

    public IReadOnlyList<Offer> OnDemand { get; }

    /// <summary>
    /// Spot offers, one per zone where the feed knows zones, each with its interruption rate (offers of one rate share the
    /// price-free cost terms).
    /// </summary>
    public IReadOnlyList<Offer> Spot { get; }

    private IEnumerable<Offer> CommittedOffers(PlanningProblem problem, List<CatalogEntry> fits)
    {
        var commitments = problem.Limits.Commitments;
        foreach (var reserved in commitments.ReservedInstances.IsDefault ? [] : commitments.ReservedInstances)
        {
            if (fits.Find(e => string.Equals(e.Type.Name, reserved.InstanceType, StringComparison.Ordinal)) is { } entry
                && reserved.Apply(problem.Catalog, entry) is { } offer)
            {
                yield return offer;
            }
        }
        if (commitments.SavingsPlan is { } plan)
        {
            foreach (var discounted in OnDemand.Select(plan.Apply).Where(o => plan.UseOf(o).Demand <= plan.Pool.Capacity))
            {
                yield return discounted;
            }
        }
    }

    /// <summary>
    /// On-demand cost is price × duration for every job, so the order is the job's business only through its
    /// duration: it can be settled per request. Exact pruning first: two offers in one quota class share the pool
    /// and the window, so the one that costs more and uses no fewer vCPUs is never needed. Then a cap of the
    /// cheapest few, a heuristic that loses nothing unless every kept pool is full.
    /// </summary>
    private static List<Offer> PruneOnDemand(IEnumerable<Offer> offers, CapacityLimits limits, int keep)
    {
        var kept = new List<Offer>(keep);
        var leastVcpusByPool = new Dictionary<string, int>(StringComparer.Ordinal);
        // At equal price the smaller offer first: it dominates the larger one, which must not take a kept place.
        foreach (var offer in offers.OrderBy(o => o.PricePerHourUsd).ThenBy(o => limits.PoolOf(o).Demand).ThenBy(o => o.InstanceType.Name, StringComparer.Ordinal))
        {
            var pool = limits.PoolOf(offer);
            if (leastVcpusByPool.TryGetValue(pool.Pool.Id, out var least) && least <= pool.Demand)
            {
                continue;
            }
            leastVcpusByPool[pool.Pool.Id] = pool.Demand;
            kept.Add(offer);
            if (kept.Count == keep)
            {
                break;
            }
        }
        return kept;
    }
}

/// <summary>Candidates per distinct request, keyed by what the request asks for.</summary>
internal sealed class CandidateCache(PlanningProblem problem)
{
    private readonly Dictionary<string, RequestCandidates> _byKey = new(StringComparer.Ordinal);

    public RequestCandidates For(ResourceRequest r)
    {
        var key = FormattableString.Invariant(
            $"{r.MinVcpus}|{r.MinMemoryGiB}|{r.MinGpus}|{string.Join(",", r.GpuModels)}|{string.Join(",", r.InstanceTypes)}|{r.Architecture}");
        if (!_byKey.TryGetValue(key, out var candidates))
        {
            _byKey[key] = candidates = new RequestCandidates(problem, r);
        }
        return candidates;
    }
}
