using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>A planner's working answer: per job, the chosen option and grid start, or why none.</summary>
public sealed class Placement
{
    public Placement(int jobs)
    {
        OptionIndex = new int[jobs];
        StartStep = new int[jobs];
        Array.Fill(OptionIndex, -1);
    }

    public int[] OptionIndex { get; }

    public int[] StartStep { get; }

    public Dictionary<int, string> Refusals { get; } = [];

    public bool IsPlaced(int j) => OptionIndex[j] >= 0;

    public int PlacedCount => OptionIndex.Count(o => o >= 0);

    public void Place(int j, int option, int start)
    {
        OptionIndex[j] = option;
        StartStep[j] = start;
    }

    public void Refuse(int j, string reason)
    {
        OptionIndex[j] = -1;
        Refusals[j] = reason;
    }

    public double CostUsd(GridModel model)
    {
        double sum = 0;
        for (var j = 0; j < OptionIndex.Length; j++)
        {
            if (IsPlaced(j))
            {
                sum += PlanBuilder.Round(model.GridOptions[j][OptionIndex[j]].Option.ExpectedCostUsd);
            }
        }
        return sum;
    }

    public Plan ToPlan(string planner, GridModel model, PlanStatus status, double solveSeconds, double? provenLowerBoundUsd = null)
    {
        var chosen = new Dictionary<string, (JobOption, DateTimeOffset)>(StringComparer.Ordinal);
        var reasons = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var j = 0; j < OptionIndex.Length; j++)
        {
            var id = model.JobAt(j).Id;
            if (IsPlaced(j))
            {
                chosen[id] = (model.GridOptions[j][OptionIndex[j]].Option, model.StartTimeOf(j, StartStep[j]));
            }
            else if (Refusals.TryGetValue(j, out var why))
            {
                reasons[id] = why;
            }
        }
        return PlanBuilder.Build(planner, model.Problem, model.Options, chosen, reasons, status, solveSeconds, provenLowerBoundUsd);
    }
}
