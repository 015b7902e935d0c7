using Spotwise.Simulation.Scenarios.Policies;

namespace Spotwise.Simulation.Scenarios;

/// <summary>The policies by name; a new instance per run. Only the omniscient bound is handed the trace.</summary>
public static class SpotPolicies
{
    public static readonly IReadOnlyList<string> Names =
        [OnDemandPolicy.Name, GreedyPolicy.Name, UniformProgressPolicy.Name, SpotwisePolicy.Name, OmniscientPolicy.Name];

    public static ISpotPolicy Create(string name, ZoneTraces market, JobScenario scenario) => name switch
    {
        OnDemandPolicy.Name => new OnDemandPolicy(),
        GreedyPolicy.Name => new GreedyPolicy(),
        UniformProgressPolicy.Name => new UniformProgressPolicy(),
        SpotwisePolicy.Name => new SpotwisePolicy(),
        OmniscientPolicy.Name => new OmniscientPolicy(market, scenario),
        _ => throw new ArgumentException($"'{name}' is not a policy; choose one of {string.Join(", ", Names)}", nameof(name)),
    };
}
