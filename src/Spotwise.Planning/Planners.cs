namespace Spotwise.Planning;

/// <summary>The planners by the names users type (<c>--planner cpsat</c>).</summary>
public static class Planners
{
    public static IReadOnlyList<string> Names { get; } = [CpSatPlanner.PlannerName, GreedyPlanner.PlannerName];

    public static IPlanner? Create(string name) => name switch
    {
        CpSatPlanner.PlannerName => new CpSatPlanner(),
        GreedyPlanner.PlannerName => new GreedyPlanner(),
        _ => null,
    };
}
