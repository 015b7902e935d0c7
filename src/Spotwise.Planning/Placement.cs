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

    public double CostUsd(GridModel model) => CostUsd(model, Enumerable.Range(0, OptionIndex.Length));

    public double CostUsd(GridModel model, IEnumerable<int> jobs) =>
        jobs.Where(IsPlaced).Sum(j => PlanBuilder.Round(model.GridOptions[j][OptionIndex[j]].Option.ExpectedCostUsd));

    public Placement Copy()
    {
        var copy = new Placement(OptionIndex.Length);
        copy.CopyFrom(this, Enumerable.Range(0, OptionIndex.Length));
        return copy;
    }

    /// <summary>Takes the given jobs' places (or refusals) from another placement of the same model.</summary>
    public void CopyFrom(Placement other, IEnumerable<int> jobs)
    {
        foreach (var j in jobs)
        {
            OptionIndex[j] = other.OptionIndex[j];
            StartStep[j] = other.StartStep[j];
            if (other.Refusals.TryGetValue(j, out var why))
            {
                Refusals[j] = why;
            }
            else
            {
                Refusals.Remove(j);
            }
        }
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
