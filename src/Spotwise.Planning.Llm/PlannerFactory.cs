using Microsoft.Extensions.Logging;

namespace Spotwise.Planning.Llm;

/// <summary>
/// Every planner by the name users type, the model-backed ones included: what <c>plan --planner</c>,
/// <c>serve --planner</c> and the benches create planners through.
/// </summary>
public static class PlannerFactory
{
    public static IReadOnlyList<string> Names { get; } = [.. Planners.Names, LlmPlanner.LlmName, LlmPlanner.HybridName];

    public static bool IsKnown(string name) => Names.Contains(name, StringComparer.Ordinal);

    public static bool NeedsModel(string name) => name is LlmPlanner.LlmName or LlmPlanner.HybridName;

    /// <summary>
    /// The planner, or null for an unknown name. A model-backed planner needs <paramref name="settings"/> (see
    /// <see cref="LlmEnvironment.Resolve"/>) and an <paramref name="http"/> client it may share.
    /// </summary>
    public static IPlanner? Create(string name, LlmSettings? settings, HttpClient http, TimeProvider time, ILoggerFactory loggers)
    {
        if (!NeedsModel(name))
        {
            return Planners.Create(name);
        }
        ArgumentNullException.ThrowIfNull(settings);
        var logger = loggers.CreateLogger<LlmPlanner>();
        return new LlmPlanner(LlmClients.Create(settings, http, time, logger), settings, name == LlmPlanner.HybridName, logger, time);
    }
}
