using Google.OrTools.Sat;
using Google.OrTools.Util;
using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>What a CP-SAT model optimises.</summary>
public enum CpSatObjective
{
    /// <summary>Plan as much priority weight as possible (2^(priority-1) per job); every job optional.</summary>
    Coverage,

    /// <summary>Plan every job of the model at the least expected cost.</summary>
    Cost,
}

/// <summary>
/// The CP-SAT model of one group of interacting jobs: per job a start variable and one literal per option; an
/// optional fixed-size interval per option in a contended pool; a cumulative constraint per contended pool;
/// precedences for dependencies. Build, solve and read back are separate steps. The planner's lexicographic
/// objective (coverage, then cost) is two models solved in turn, each hinted with the answer before it.
/// </summary>
public sealed class CpSatModel
{
    /// <summary>Money in the model is integral: hundredths of a cent, the plan's own rounding.</summary>
    public const double UnitsPerUsd = 10_000;

    private readonly GridModel _grid;
    private readonly IReadOnlyList<int> _jobs;
    private readonly Placement _hint;
    private readonly bool _allMandatory;
    private readonly CpModel _model = new();
    private readonly Dictionary<int, IntVar> _start = [];
    private readonly Dictionary<int, BoolVar[]> _choice = [];
    private readonly Dictionary<int, int> _fixedStart = [];
    private readonly Dictionary<int, BoolVar> _present = [];

    private CpSatModel(GridModel grid, IReadOnlyList<int> jobs, Placement hint, CpSatObjective objective)
    {
        _grid = grid;
        _jobs = jobs;
        _hint = hint;
        // A cost model is only built over jobs a known plan places together, so demanding all of them is feasible,
        // and its bound is then a bound on the cost of exactly these jobs.
        _allMandatory = objective == CpSatObjective.Cost;
    }

    /// <summary>
    /// Builds the model of <paramref name="jobs"/>. Jobs of <paramref name="fixedJobs"/> keep their places in
    /// <paramref name="hint"/>: they hold capacity and bind dependencies as constants (fix-and-optimise).
    /// </summary>
    public static CpSatModel Build(GridModel grid, IReadOnlyList<int> jobs, Placement hint, HashSet<string> contended, CpSatObjective objective,
        IReadOnlyList<int>? fixedJobs = null)
    {
        var cp = new CpSatModel(grid, jobs, hint, objective);
        var pools = cp.AddJobs(contended);
        cp.AddReservations(pools);
        cp.HasFixedJobs = fixedJobs is { Count: > 0 } && cp.AddFixed(fixedJobs, pools);
        foreach (var (capacity, intervals, demands) in pools.Values)
        {
            cp._model.AddCumulative(capacity).AddDemands(intervals, demands);
        }
        cp.AddDependencies();
        cp.AddBudgets();
        cp.AddObjective();
        cp.AddHints();
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
        // A cost model's bound is a bound on these jobs' cost (not with a fair-share term in it); a coverage model's says nothing about cost.
        return new CpSatOutcome(status, placement, _allMandatory && !FairShareApplies ? solver.BestObjectiveBound / UnitsPerUsd : null);
    }

    /// <summary>
    /// Over this group's jobs: more priority-weighted jobs planned wins; then (fair share) more of the deprived teams'
    /// jobs planned, and those started sooner; then the cheaper plan.
    /// </summary>
    public bool IsBetter(Placement candidate, Placement incumbent)
    {
        var (a, b) = (PlannedWeight(candidate), PlannedWeight(incumbent));
        if (a != b)
        {
            return a > b;
        }
        if (FairShareApplies)
        {
            var (fa, fb) = (FairPlanned(candidate), FairPlanned(incumbent));
            if (fa != fb)
            {
                return fa > fb;
            }
            var (sa, sb) = (FairDelay(candidate), FairDelay(incumbent));
            if (sa != sb)
            {
                return sa < sb;
            }
        }
        return candidate.CostUsd(_grid, _jobs) < incumbent.CostUsd(_grid, _jobs) - 1e-9;
    }

    /// <summary>Whether teams of this group's jobs stand in different fair-share bands (<see cref="GridModel.FairRank"/>).</summary>
    private bool FairShareApplies => _jobs.Any(j => _grid.FairRank[j] > 0);

    /// <summary>The fair-share rank of the jobs planned: more is fairer at equal priority weight.</summary>
    private long FairPlanned(Placement p) => _jobs.Where(p.IsPlaced).Sum(j => (long)_grid.FairRank[j]);

    /// <summary>Each planned job's start weighted by its team's rank: less means the deprived teams run sooner.</summary>
    private long FairDelay(Placement p) => _jobs.Where(p.IsPlaced).Sum(j => (long)_grid.FairRank[j] * p.StartStep[j]);

    /// <summary>True when fixed jobs constrain the model: its bound then holds only with them where they are.</summary>
    public bool HasFixedJobs { get; private set; }

    private Dictionary<string, (int Capacity, List<IntervalVar> Intervals, List<long> Demands)> AddJobs(HashSet<string> contended)
    {
        var byPool = new Dictionary<string, (int Capacity, List<IntervalVar> Intervals, List<long> Demands)>(StringComparer.Ordinal);
        foreach (var j in _jobs)
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
                if (!g.Ranges.IsDefaultOrEmpty)
                {
                    // Scheduling windows: the start lies in one of the option's ranges, the run inside its interval.
                    var flat = g.Ranges.SelectMany(r => new long[] { r.From, r.To }).ToArray();
                    _model.AddLinearExpressionInDomain(start, Domain.FromFlatIntervals(flat)).OnlyEnforceIf(choice[o]);
                }
                // One interval per option, in the cumulative of every contended pool it draws on (the savings plan's
                // commitment as well as the on-demand quota).
                IntervalVar? interval = null;
                foreach (var pool in g.Option.Pools.Where(p => contended.Contains(p.Pool.Id)))
                {
                    if (!byPool.TryGetValue(pool.Pool.Id, out var entry))
                    {
                        byPool[pool.Pool.Id] = entry = (pool.Pool.Capacity, [], []);
                    }
                    interval ??= _model.NewOptionalFixedSizeIntervalVar(start, g.DurationSteps, choice[o], $"i{j}_{o}");
                    entry.Intervals.Add(interval);
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
        return byPool;
    }

    /// <summary>Capacity held before planning is a constant interval in each modelled pool it touches.</summary>
    private void AddReservations(Dictionary<string, (int Capacity, List<IntervalVar> Intervals, List<long> Demands)> pools)
    {
        foreach (var r in _grid.Reserved)
        {
            if (pools.TryGetValue(r.Pool.Pool.Id, out var entry))
            {
                entry.Intervals.Add(_model.NewFixedSizeIntervalVar(r.From, r.To - r.From, $"r{entry.Intervals.Count}"));
                entry.Demands.Add(r.Pool.Demand);
            }
        }
    }

    /// <summary>Fixed jobs in the model's pools and time range become constant intervals; returns whether any did.</summary>
    private bool AddFixed(IReadOnlyList<int> fixedJobs, Dictionary<string, (int Capacity, List<IntervalVar> Intervals, List<long> Demands)> pools)
    {
        var from = _jobs.Min(j => _grid.GridOptions[j].Min(g => g.EarliestStep));
        var to = _jobs.Max(j => _grid.GridOptions[j].Max(g => g.LatestStep + g.DurationSteps));
        var any = false;
        foreach (var j in fixedJobs.Where(_hint.IsPlaced))
        {
            var g = _grid.GridOptions[j][_hint.OptionIndex[j]];
            var start = _hint.StartStep[j];
            foreach (var pool in g.Option.Pools)
            {
                if (start < to && start + g.DurationSteps > from && pools.TryGetValue(pool.Pool.Id, out var entry))
                {
                    entry.Intervals.Add(_model.NewFixedSizeIntervalVar(start, g.DurationSteps, $"f{j}"));
                    entry.Demands.Add(pool.Demand);
                    any = true;
                }
            }
            _fixedStart[j] = start;
        }
        return any || _jobs.Any(k => Prerequisites(k).Any(_fixedStart.ContainsKey))
            || fixedJobs.Any(k => Prerequisites(k).Any(_start.ContainsKey));
    }

    private void AddDependencies()
    {
        foreach (var k in _jobs)
        {
            foreach (var j in Prerequisites(k))
            {
                if (_start.TryGetValue(j, out var before))
                {
                    RequireAfter(j, k, before, (start, lag) => _start[k] >= start + lag);
                    if (!_allMandatory)
                    {
                        _model.Add(LinearExpr.Sum(_choice[k]) <= LinearExpr.Sum(_choice[j]));
                    }
                }
                else if (_fixedStart.TryGetValue(j, out var fixedStart))
                {
                    Require(k, _start[k] >= fixedStart + _grid.DependencyLag(j, _hint.OptionIndex[j], k));
                }
                else
                {
                    // The prerequisite is not planned: nor can this job be.
                    _model.Add(LinearExpr.Sum(_choice[k]) == 0);
                }
            }
        }
        // A fixed dependent pins the latest end of its prerequisites in the model.
        foreach (var (k, fixedStart) in _fixedStart)
        {
            foreach (var j in Prerequisites(k))
            {
                if (_start.TryGetValue(j, out var before))
                {
                    var lags = _grid.DependencyLags(j, k).ToList();
                    if (lags.Count == 1)
                    {
                        _model.Add(before + lags[0].Lag <= fixedStart);
                    }
                    else
                    {
                        // Enforcement literals are a conjunction: each option of a run length gets its own constraint.
                        foreach (var (lag, options) in lags)
                        {
                            foreach (var o in options)
                            {
                                _model.Add(before + lag <= fixedStart).OnlyEnforceIf(_choice[j][o]);
                            }
                        }
                    }
                    _model.Add(LinearExpr.Sum(_choice[j]) == 1);
                }
            }
        }
    }

    /// <summary>
    /// Dependent <paramref name="k"/> starts after prerequisite <paramref name="j"/>'s run, whose length is its chosen
    /// option's: one constraint when every option runs equally long, else one per run length, enforced by that choice.
    /// </summary>
    private void RequireAfter(int j, int k, IntVar prerequisiteStart, Func<IntVar, int, BoundedLinearExpression> after)
    {
        var lags = _grid.DependencyLags(j, k).ToList();
        if (lags.Count == 1)
        {
            Require(k, after(prerequisiteStart, lags[0].Lag));
            return;
        }
        foreach (var (lag, options) in lags)
        {
            foreach (var o in options)
            {
                ILiteral[] when = _allMandatory ? [_choice[j][o]] : [_choice[j][o], Present(k)];
                _model.Add(after(prerequisiteStart, lag)).OnlyEnforceIf(when);
            }
        }
    }

    /// <summary>A constraint that holds whenever job <paramref name="j"/> is planned.</summary>
    private void Require(int j, BoundedLinearExpression constraint)
    {
        if (_allMandatory)
        {
            _model.Add(constraint);
        }
        else
        {
            _model.Add(constraint).OnlyEnforceIf(Present(j));
        }
    }

    /// <summary>
    /// Each budgeted team's chosen options cost at most what it has left less what its jobs outside this model take in
    /// the hint (they keep their places): the sum of the team's chosen costs stays within its budget, in budget units.
    /// With the coverage objective the most priority weight that fits wins, so a budget leaves out the least urgent jobs.
    /// </summary>
    private void AddBudgets()
    {
        var inModel = _jobs.ToHashSet();
        var outside = BudgetLedger.Of(_grid, _hint, Enumerable.Range(0, _grid.Options.Count).Where(j => !inModel.Contains(j)));
        foreach (var team in _jobs.Where(j => outside.BudgetOf(j) is not null).GroupBy(j => outside.BudgetOf(j)!.Team, StringComparer.Ordinal))
        {
            var first = team.First();
            var spend = LinearExpr.NewBuilder();
            foreach (var j in team)
            {
                var options = _grid.GridOptions[j];
                for (var o = 0; o < options.Length; o++)
                {
                    spend.AddTerm(_choice[j][o], TeamBudget.Units(options[o].Option.ExpectedCostUsd));
                }
            }
            _model.Add(spend <= Math.Max(0, outside.BudgetOf(first)!.LeftUnits - outside.Taken(first)));
        }
    }

    /// <summary>
    /// Cost in hundredths of a cent, or (coverage) the planned priority weight, 2^(priority-1) per job, so a job
    /// outweighs any one job of lower priority. With fair share (teams in different bands) a lexicographic term sits
    /// between them: coverage counts each job's rank below one unit of priority weight (scaled above every rank
    /// together), and cost adds each job's start times its rank, scaled above the whole cost range of the group, so
    /// the deprived teams' jobs go first at any cost and cost decides among equally fair plans.
    /// </summary>
    private void AddObjective()
    {
        var objective = LinearExpr.NewBuilder();
        var fair = FairShareApplies;
        var rankScale = 1 + _jobs.Sum(j => (long)_grid.FairRank[j]);
        var costRange = 1 + _jobs.Sum(j => Units(_grid.GridOptions[j].Max(g => g.Option.ExpectedCostUsd)) - Units(_grid.GridOptions[j].Min(g => g.Option.ExpectedCostUsd)));
        foreach (var j in _jobs)
        {
            var options = _grid.GridOptions[j];
            var rank = _grid.FairRank[j];
            for (var o = 0; o < options.Length; o++)
            {
                var weight = fair ? (PriorityWeight(_grid.JobAt(j).Priority) * rankScale) + rank : PriorityWeight(_grid.JobAt(j).Priority);
                objective.AddTerm(_choice[j][o], _allMandatory ? Units(options[o].Option.ExpectedCostUsd) : -weight);
            }
            if (fair && _allMandatory && rank > 0)
            {
                objective.AddTerm(_start[j], costRange * rank);
            }
        }
        _model.Minimize(objective);
    }

    private void AddHints()
    {
        foreach (var j in _jobs)
        {
            if (_hint.IsPlaced(j))
            {
                _model.AddHint(_start[j], _hint.StartStep[j]);
            }
            for (var o = 0; o < _choice[j].Length; o++)
            {
                _model.AddHint(_choice[j][o], o == _hint.OptionIndex[j]);
            }
        }
    }

    private Placement ReadBack(CpSolver solver)
    {
        var result = new Placement(_grid.Options.Count);
        foreach (var j in _jobs)
        {
            var o = Array.FindIndex(_choice[j], solver.BooleanValue);
            if (o >= 0)
            {
                result.Place(j, o, (int)solver.Value(_start[j]));
            }
        }
        // Why a job was left out, once every placement is known: a prerequisite that is not planned says more
        // than capacity does.
        var whole = _hint.Copy();
        whole.CopyFrom(result, _jobs);
        var budgets = BudgetLedger.Of(_grid, whole);
        foreach (var j in _jobs.Where(j => !result.IsPlaced(j)))
        {
            var blockedBy = Prerequisites(j).FirstOrDefault(d => !result.IsPlaced(d) && !_fixedStart.ContainsKey(d), -1);
            result.Refuse(j, blockedBy >= 0 ? $"depends on '{_grid.JobAt(blockedBy).Id}', which could not be planned"
                : budgets.WhyNot(j) ?? _hint.Refusals.GetValueOrDefault(j, "capacity went to jobs of higher priority or earlier deadline"));
        }
        return result;
    }

    private IReadOnlyList<int> Prerequisites(int j) => _grid.Dependencies.PrerequisitesOf(j);

    private BoolVar Present(int j)
    {
        if (_present.TryGetValue(j, out var known))
        {
            return known;
        }
        var present = _model.NewBoolVar($"p{j}");
        _present[j] = present;
        _model.Add(LinearExpr.Sum(_choice[j]) == 1).OnlyEnforceIf(present);
        _model.Add(LinearExpr.Sum(_choice[j]) == 0).OnlyEnforceIf(present.Not());
        return present;
    }

    private long PlannedWeight(Placement p) => PlannedWeight(_grid, p, _jobs);

    public static long PlannedWeight(GridModel grid, Placement p, IEnumerable<int> jobs) =>
        jobs.Where(p.IsPlaced).Sum(j => PriorityWeight(grid.JobAt(j).Priority));

    private static long PriorityWeight(int priority) => 1L << (priority - 1);

    private static long Units(double usd) => (long)Math.Round(usd * UnitsPerUsd);
}
