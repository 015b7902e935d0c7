namespace Spotwise.Core.Tests;

/// <summary>How the test planner places one job: which of its feasible options, where in its start window, or not at all.</summary>
public sealed record PlacementChoice(int OptionPick, double StartFraction, bool LeaveUnplanned)
{
    public static PlacementChoice CheapestAtEarliest { get; } = new(0, 0, false);
}

/// <summary>
/// A test-only planner that makes valid plans by construction: jobs in queue order (dependencies point backwards),
/// each on one of its options whose window is still open once its dependencies end, started somewhere in that window.
/// It ignores capacity, so its plans are valid for <see cref="CapacityLimits.None"/>.
/// </summary>
public static class TestPlanner
{
    /// <summary>How far past its earliest start a job without a latest start may be placed.</summary>
    private static readonly TimeSpan OpenWindow = TimeSpan.FromHours(24);

    public static Plan CheapestAtEarliest(PlanningProblem problem) =>
        Plan(problem, [.. problem.Jobs.Select(_ => PlacementChoice.CheapestAtEarliest)]);

    public static Plan Plan(PlanningProblem problem, IReadOnlyList<PlacementChoice> choices)
    {
        var options = OptionBuilder.Build(problem);
        var chosen = new Dictionary<string, (JobOption Option, DateTimeOffset Start)>(StringComparer.Ordinal);
        var unplanned = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < options.Count; i++)
        {
            var jo = options[i];
            var choice = choices[i % choices.Count];
            if (!jo.IsPlannable)
            {
                continue;
            }
            if (choice.LeaveUnplanned)
            {
                unplanned[jo.Job.Id] = "left out by the test planner";
                continue;
            }
            if (jo.Job.DependsOn.Any(d => !chosen.ContainsKey(d)))
            {
                unplanned[jo.Job.Id] = "a dependency is not planned";
                continue;
            }
            var lower = jo.Job.DependsOn
                .Select(d => chosen[d].Start.AddHours(chosen[d].Option.Job.DurationHours))
                .Append(jo.Options[0].EarliestStart)
                .Max();
            var open = jo.Options.Where(o => o.LatestStart is null || o.LatestStart >= lower).ToList();
            if (open.Count == 0)
            {
                unplanned[jo.Job.Id] = "its dependencies end too late";
                continue;
            }
            var option = open[choice.OptionPick % open.Count];
            var latest = option.LatestStart ?? lower + OpenWindow;
            var start = lower + TimeSpan.FromTicks((long)((latest - lower).Ticks * choice.StartFraction));
            chosen[jo.Job.Id] = (option, start);
        }
        return PlanBuilder.Build("test", problem, options, chosen, unplanned, PlanStatus.Feasible, solveSeconds: 0);
    }
}
