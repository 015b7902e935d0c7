using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>
/// What each budgeted team's jobs take in a placement, in budget units (<see cref="TeamBudget.Units"/>): the greedy
/// planner asks it before each option, CP-SAT reads what jobs outside a model already take, and both word the reason
/// for a job left out for money from it.
/// </summary>
public sealed class BudgetLedger
{
    private readonly GridModel _model;
    private readonly TeamBudget?[] _budgetOf;
    private readonly Dictionary<string, long> _taken = new(StringComparer.Ordinal);

    private BudgetLedger(GridModel model)
    {
        _model = model;
        _budgetOf = [.. Enumerable.Range(0, model.Options.Count).Select(j => model.Problem.BudgetOf(model.JobAt(j)))];
    }

    /// <summary>The ledger of <paramref name="placement"/>'s placed jobs.</summary>
    public static BudgetLedger Of(GridModel model, Placement placement) => Of(model, placement, Enumerable.Range(0, model.Options.Count));

    /// <summary>The ledger of the placed jobs among <paramref name="jobs"/>.</summary>
    public static BudgetLedger Of(GridModel model, Placement placement, IEnumerable<int> jobs)
    {
        var ledger = new BudgetLedger(model);
        foreach (var j in jobs.Where(placement.IsPlaced))
        {
            ledger.Charge(j, model.GridOptions[j][placement.OptionIndex[j]].Option);
        }
        return ledger;
    }

    public TeamBudget? BudgetOf(int j) => _budgetOf[j];

    /// <summary>Units the job's team has taken so far (0 without a budget).</summary>
    public long Taken(int j) => _budgetOf[j] is { } b ? _taken.GetValueOrDefault(b.Team) : 0;

    /// <summary>Whether job <paramref name="j"/> may take <paramref name="option"/> without overspending its team's budget.</summary>
    public bool Affords(int j, JobOption option) => _budgetOf[j] is not { } b || Taken(j) + TeamBudget.Units(option.ExpectedCostUsd) <= b.LeftUnits;

    public void Charge(int j, JobOption option)
    {
        if (_budgetOf[j] is { } b)
        {
            _taken[b.Team] = Taken(j) + TeamBudget.Units(option.ExpectedCostUsd);
        }
    }

    /// <summary>The <c>budget:</c> reason when job <paramref name="j"/>'s cheapest option does not fit what its team has left; else null.</summary>
    public string? WhyNot(int j) => _model.Options[j].Cheapest is { } cheapest && _budgetOf[j] is { } b && !Affords(j, cheapest)
        ? b.Reason(Taken(j) / TeamBudget.UnitsPerUsd, cheapest.ExpectedCostUsd)
        : null;
}
