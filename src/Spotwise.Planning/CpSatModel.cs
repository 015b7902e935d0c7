using Google.OrTools.Sat;
using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>
/// The CP-SAT model of a queue: per job a start variable and one literal per option; an optional fixed-size
/// interval per option in a contended pool; a cumulative constraint per contended pool; precedences for
/// dependencies. Jobs that need no solver (no dependencies, cheapest option in an uncontended pool) are fixed
/// outside it. Build, solve and read back are separate steps.
/// </summary>
public sealed class CpSatModel
{
    /// <summary>Money in the model is integral: hundredths of a cent, the plan's own rounding.</summary>
    public const double UnitsPerUsd = 10_000;

    private readonly GridModel _grid;
    private readonly Placement _fixed;
    private readonly Placement _greedy;
    private readonly bool _allMandatory;
    private readonly CpModel _model = new();
    private readonly Dictionary<int, IntVar> _start = [];
    private readonly Dictionary<int, BoolVar[]> _choice = [];
    private long _fixedCostUnits;

    private CpSatModel(GridModel grid, Placement start, bool allMandatory)
    {
        _grid = grid;
        _allMandatory = allMandatory;
        _fixed = new Placement(grid.Options.Count);
        _greedy = start;
    }

    /// <summary>
    /// Builds the model, or returns null when it would hold more than <paramref name="maxOptions"/> option
    /// intervals (the greedy plan stands then).
    /// </summary>
    public static CpSatModel? Build(GridModel grid, Placement greedy, int maxOptions)
    {
        var contended = Contention.ContendedPools(grid);
        var plannable = Enumerable.Range(0, grid.Options.Count).Where(j => grid.GridOptions[j].Length > 0).ToList();
        var allMandatory = plannable.All(greedy.IsPlaced);
        var cp = new CpSatModel(grid, greedy, allMandatory);
        var linked = JobsWithDependencies(grid);
        var inModel = new List<int>();
        foreach (var j in plannable)
        {
            var cheapest = grid.GridOptions[j][0];
            if (allMandatory && !linked.Contains(j) && !contended.Contains(cheapest.Option.Pool.Pool.Id))
            {
                cp._fixed.Place(j, 0, cheapest.EarliestStep);
                cp._fixedCostUnits += Units(cheapest.Option.ExpectedCostUsd);
            }
            else
            {
                inModel.Add(j);
            }
        }
        if (inModel.Sum(j => grid.GridOptions[j].Length) > maxOptions)
        {
            return null;
        }
        cp.AddJobs(inModel, contended);
        cp.AddDependencies(inModel);
        cp.AddObjective(inModel);
        cp.AddHints(inModel, greedy);
        return cp;
    }

    public CpSatOutcome Solve(TimeSpan timeLimit, int workers, CancellationToken cancellationToken)
    {
        var solver = new CpSolver
        {
            StringParameters = string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"max_time_in_seconds:{timeLimit.TotalSeconds:0.###} num_workers:{(workers > 0 ? workers : Environment.ProcessorCount)} log_search_progress:false"),
        };
        using var stop = cancellationToken.Register(solver.StopSearch);
        var status = solver.Solve(_model);
        if (status == CpSolverStatus.ModelInvalid)
        {
            throw new InvalidOperationException($"CP-SAT rejected the model: {_model.Validate()}");
        }
        if (status is not (CpSolverStatus.Optimal or CpSolverStatus.Feasible))
        {
            return new CpSatOutcome(status, null, null);
        }
        var placement = ReadBack(solver);
        // The bound is over the same jobs when every job had to be planned, or when every job was: the objective
        // bound is then at most the cost of any plan that plans them all (each one left out only adds a penalty).
        double? bound = _allMandatory || _choice.Keys.All(placement.IsPlaced)
            ? (_fixedCostUnits + solver.BestObjectiveBound) / UnitsPerUsd
            : null;
        return new CpSatOutcome(status, placement, bound);
    }

    /// <summary>More priority-weighted jobs planned wins; then the cheaper plan.</summary>
    public bool IsBetter(Placement candidate, Placement incumbent)
    {
        var (a, b) = (PlannedWeight(candidate), PlannedWeight(incumbent));
        return a != b ? a > b : candidate.CostUsd(_grid) < incumbent.CostUsd(_grid) - 1e-9;
    }

    private void AddJobs(List<int> jobs, HashSet<string> contended)
    {
        var byPool = new Dictionary<string, (Pool Pool, List<IntervalVar> Intervals, List<long> Demands)>(StringComparer.Ordinal);
        foreach (var j in jobs)
        {
            var options = _grid.GridOptions[j];
            var start = _model.NewIntVar(options.Min(g => g.EarliestStep), options.Max(g => g.LatestStep), $"s{j}");
            var choice = new BoolVar[options.Length];
            for (var o = 0; o < options.Length; o++)
            {
                var g = options[o];
                choice[o] = _model.NewBoolVar($"x{j}_{o}");
                _model.Add(start >= g.EarliestStep).OnlyEnforceIf(choice[o]);
                _model.Add(start <= g.LatestStep).OnlyEnforceIf(choice[o]);
                var pool = g.Option.Pool;
                if (contended.Contains(pool.Pool.Id))
                {
                    if (!byPool.TryGetValue(pool.Pool.Id, out var entry))
                    {
                        byPool[pool.Pool.Id] = entry = (pool.Pool, [], []);
                    }
                    entry.Intervals.Add(_model.NewOptionalFixedSizeIntervalVar(start, g.DurationSteps, choice[o], $"i{j}_{o}"));
                    entry.Demands.Add(pool.Demand);
                }
            }
            if (_allMandatory)
            {
                _model.AddExactlyOne(choice);
            }
            else
            {
                _model.AddAtMostOne(choice);
            }
            _start[j] = start;
            _choice[j] = choice;
        }
        foreach (var (pool, intervals, demands) in byPool.Values)
        {
            _model.AddCumulative(pool.Capacity).AddDemands(intervals, demands);
        }
    }

    private void AddDependencies(List<int> jobs)
    {
        foreach (var k in jobs)
        {
            foreach (var dep in _grid.JobAt(k).DependsOn)
            {
                var j = _grid.IndexOf[dep];
                if (!_start.TryGetValue(j, out var before))
                {
                    // The prerequisite could not be planned at all: neither can this job.
                    _model.Add(LinearExpr.Sum(_choice[k]) == 0);
                    continue;
                }
                var duration = _grid.GridOptions[j][0].DurationSteps;
                if (_allMandatory)
                {
                    _model.Add(_start[k] >= before + duration);
                }
                else
                {
                    var present = Present(k);
                    _model.Add(_start[k] >= before + duration).OnlyEnforceIf(present);
                    _model.Add(LinearExpr.Sum(_choice[k]) <= LinearExpr.Sum(_choice[j]));
                }
            }
        }
    }

    /// <summary>
    /// Cost, plus (when not every job can be planned) a penalty per unplanned job larger than any cost:
    /// 2^(priority-1) units of it, so a job outweighs any one job of lower priority.
    /// </summary>
    private void AddObjective(List<int> jobs)
    {
        var objective = LinearExpr.NewBuilder();
        var bigM = jobs.Sum(j => _grid.GridOptions[j].Max(g => Units(g.Option.ExpectedCostUsd))) + 1;
        foreach (var j in jobs)
        {
            var options = _grid.GridOptions[j];
            var penalty = _allMandatory ? 0 : bigM * PriorityWeight(_grid.JobAt(j).Priority);
            objective.Add(penalty);
            for (var o = 0; o < options.Length; o++)
            {
                objective.AddTerm(_choice[j][o], Units(options[o].Option.ExpectedCostUsd) - penalty);
            }
        }
        _model.Minimize(objective);
    }

    private void AddHints(List<int> jobs, Placement greedy)
    {
        foreach (var j in jobs)
        {
            if (!greedy.IsPlaced(j))
            {
                continue;
            }
            _model.AddHint(_start[j], greedy.StartStep[j]);
            for (var o = 0; o < _choice[j].Length; o++)
            {
                _model.AddHint(_choice[j][o], o == greedy.OptionIndex[j]);
            }
        }
    }

    private Placement ReadBack(CpSolver solver)
    {
        var result = new Placement(_grid.Options.Count);
        for (var j = 0; j < _grid.Options.Count; j++)
        {
            if (_fixed.IsPlaced(j))
            {
                result.Place(j, _fixed.OptionIndex[j], _fixed.StartStep[j]);
            }
            else if (!_choice.TryGetValue(j, out var choice))
            {
                if (_greedy.Refusals.TryGetValue(j, out var why))
                {
                    result.Refuse(j, why);
                }
            }
            else
            {
                var o = Array.FindIndex(choice, solver.BooleanValue);
                if (o >= 0)
                {
                    result.Place(j, o, (int)solver.Value(_start[j]));
                }
            }
        }
        // Why a job in the model was left out, once every placement is known: a prerequisite that is not planned
        // says more than capacity.
        foreach (var (j, _) in _choice)
        {
            if (!result.IsPlaced(j))
            {
                var blockedBy = _grid.JobAt(j).DependsOn.FirstOrDefault(d => !result.IsPlaced(_grid.IndexOf[d]));
                result.Refuse(j, blockedBy is null
                    ? "capacity went to jobs of higher priority or earlier deadline"
                    : $"depends on '{blockedBy}', which could not be planned");
            }
        }
        return result;
    }

    private BoolVar Present(int j)
    {
        var present = _model.NewBoolVar($"p{j}");
        _model.Add(LinearExpr.Sum(_choice[j]) == 1).OnlyEnforceIf(present);
        _model.Add(LinearExpr.Sum(_choice[j]) == 0).OnlyEnforceIf(present.Not());
        return present;
    }

    private long PlannedWeight(Placement p)
    {
        long w = 0;
        for (var j = 0; j < _grid.Options.Count; j++)
        {
            if (p.IsPlaced(j))
            {
                w += PriorityWeight(_grid.JobAt(j).Priority);
            }
        }
        return w;
    }

    private static long PriorityWeight(int priority) => 1L << (priority - 1);

    private static long Units(double usd) => (long)Math.Round(usd * UnitsPerUsd);

    private static HashSet<int> JobsWithDependencies(GridModel grid)
    {
        var linked = new HashSet<int>();
        for (var k = 0; k < grid.Options.Count; k++)
        {
            foreach (var dep in grid.JobAt(k).DependsOn)
            {
                linked.Add(k);
                linked.Add(grid.IndexOf[dep]);
            }
        }
        return linked;
    }
}
