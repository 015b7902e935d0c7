namespace Spotwise.Simulation.Scenarios;

/// <summary>
/// Runs every policy on every scenario of one market, in parallel over scenarios (each run is independent and
/// deterministic, so the results do not depend on the thread count), and summarises per policy.
/// </summary>
public static class SimulationSweep
{
    /// <summary>Start ticks drawn uniformly among those that leave room for the deadline; the same for a seed.</summary>
    public static IReadOnlyList<int> DrawStarts(ZoneTraces market, double deadlineHours, int count, int seed)
    {
        var span = (int)Math.Ceiling((deadlineHours / market.TickHours) - 1e-9);
        var last = market.TickCount - span;
        if (last < 0)
        {
            throw new ArgumentException(FormattableString.Invariant(
                $"a {deadlineHours} h deadline does not fit in the trace ({market.TickCount} ticks of {market.TickHours:0.###} h)"), nameof(deadlineHours));
        }
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => random.Next(0, last + 1))];
    }

    /// <summary>Results per policy, in scenario order.</summary>
    public static IReadOnlyDictionary<string, RunResult[]> Run(
        ZoneTraces market,
        IReadOnlyList<JobScenario> scenarios,
        IReadOnlyList<string> policies,
        Action<int>? onScenarioDone = null,
        CancellationToken cancellationToken = default)
    {
        var results = policies.ToDictionary(p => p, _ => new RunResult[scenarios.Count], StringComparer.Ordinal);
        var done = 0;
        // One worker per core: runs never block, and more threads would only each hold a planner buffer.
        Parallel.For(0, scenarios.Count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount }, i =>
        {
            foreach (var policy in policies)
            {
                results[policy][i] = ScenarioEngine.Run(market, scenarios[i], SpotPolicies.Create(policy, market, scenarios[i]));
            }
            onScenarioDone?.Invoke(Interlocked.Increment(ref done));
        });
        return results;
    }
}

/// <summary>One policy's runs, summarised. Score = 100 × (on-demand − cost) / (on-demand − all-spot): 0 = on-demand, 100 = all spot.</summary>
public sealed record PolicySummary(
    string Policy,
    int Runs,
    double MeanCostUsd,
    double OnDemandCostUsd,
    double AllSpotCostUsd,
    int DeadlineMisses,
    double MeanPreemptions,
    double MeanChangeovers,
    double MeanSpotHours,
    double MeanOnDemandHours,
    double PlannerP50Ms,
    double PlannerP95Ms)
{
    public double CostRatio => MeanCostUsd / OnDemandCostUsd;

    public double Score => OnDemandCostUsd > AllSpotCostUsd ? 100 * (OnDemandCostUsd - MeanCostUsd) / (OnDemandCostUsd - AllSpotCostUsd) : 0;

    public static PolicySummary Of(string policy, IReadOnlyCollection<RunResult> runs)
    {
        var planner = runs.Select(r => r.PlannerSeconds * 1000).Order().ToArray();
        return new PolicySummary(
            policy,
            runs.Count,
            runs.Average(r => r.CostUsd),
            runs.Average(r => r.OnDemandCostUsd),
            runs.Average(r => r.AllSpotCostUsd),
            runs.Count(r => r.MissedDeadline),
            runs.Average(r => r.Preemptions),
            runs.Average(r => r.Changeovers),
            runs.Average(r => r.SpotHours),
            runs.Average(r => r.OnDemandHours),
            Percentile(planner, 0.50),
            Percentile(planner, 0.95));
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
}
