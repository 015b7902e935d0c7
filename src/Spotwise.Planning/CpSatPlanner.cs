using System.Diagnostics;
using Google.OrTools.Sat;
using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>
/// The optimizer: Google OR-Tools CP-SAT over the jobs' options on the time grid. Objective, in this order: plan
/// every job that can meet its deadline (a higher priority wins capacity), then minimise expected cost. Starts
/// from the greedy plan, solves each independent group of interacting jobs as its own model, keeps the better
/// answer per group, and reports a proven lower bound (docs/planning.md).
/// </summary>
public sealed class CpSatPlanner : IPlanner
{
    public const string PlannerName = "cpsat";

    /// <summary>The least time a group is given, so small groups are solved even when the budget is thin.</summary>
    private static readonly TimeSpan MinimumPerGroup = TimeSpan.FromMilliseconds(50);

    public string Name => PlannerName;

    /// <summary>CP-SAT computes on the calling thread; the task is complete when it returns.</summary>
    public Task<Plan> SolveAsync(PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken) =>
        Task.FromResult(Solve(problem, options, cancellationToken));

    public Plan Solve(PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken) =>
        Solve(problem, options, start: null, cancellationToken);

    /// <summary>
    /// Solves starting from <paramref name="start"/> (a valid plan of the same problem, e.g. a model's proposal)
    /// instead of the greedy plan: what the grid can hold of it, completed greedily, is the solver's hint and the
    /// answer it must beat.
    /// </summary>
    public Plan Solve(PlanningProblem problem, SolveOptions options, Plan? start, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var model = new GridModel(problem, OptionBuilder.Build(problem));
        var greedy = GreedyPlanner.Place(model, start is null ? null : PlanPlacement.From(model, start), cancellationToken);
        if (PlacesEveryPlaceableJob(model, greedy) && greedy.CostUsd(model) <= CheapestUsd(model, greedy, Enumerable.Range(0, model.Options.Count)) + 1e-6)
        {
            // Every job that can be planned is, on its cheapest option: nothing can be better, no solver needed.
            // (When greedy left a job out, moving a planned job may make room for it: that is the solver's work.)
            return greedy.ToPlan(Name, model, PlanStatus.Optimal, clock.Elapsed.TotalSeconds);
        }
        var contended = Contention.ContendedPools(model);
        var groups = Components.Of(model, JobsNeedingTheSolver(model, contended), contended);
        var result = greedy.Copy();
        var run = new GroupRun(options, clock, groups.Sum(g => OptionCount(model, g)));
        foreach (var group in groups)
        {
            cancellationToken.ThrowIfCancellationRequested();
            SolveGroup(model, group, greedy, result, contended, run, cancellationToken);
        }
        // Jobs outside every group sit on their cheapest option: their bound is their cost.
        var grouped = groups.SelectMany(g => g).ToHashSet();
        run.LowerBoundUsd += CheapestUsd(model, result, Enumerable.Range(0, model.Options.Count).Where(j => !grouped.Contains(j)));
        var status = run.AllOptimal ? PlanStatus.Optimal : run.AnySolution ? PlanStatus.Feasible : PlanStatus.Timeout;
        return result.ToPlan(Name, model, status, clock.Elapsed.TotalSeconds, run.LowerBoundUsd);
    }

    private static void SolveGroup(GridModel model, List<int> group, Placement greedy, Placement result, HashSet<string> contended,
        GroupRun run, CancellationToken cancellationToken)
    {
        var options = OptionCount(model, group);
        var cheapest = CheapestUsd(model, greedy, group);
        if (group.All(greedy.IsPlaced) && greedy.CostUsd(model, group) <= cheapest + 1e-6)
        {
            run.LowerBoundUsd += cheapest;
            run.OptionsLeft -= options;
            return;
        }
        var budget = run.ShareFor(options);
        run.OptionsLeft -= options;
        if (options > run.Options.MaxModelOptions || budget <= TimeSpan.Zero)
        {
            run.LowerBoundUsd += cheapest;
            run.AllOptimal = false;
            return;
        }
        var groupClock = Stopwatch.StartNew();
        var segments = Segments(model, group, run.Options.SegmentOptions, shifted: false);
        RunPass(model, segments, options, budget, groupClock, segment =>
            SolveSegment(model, segment.Jobs, Others(group, segment.Jobs, segments), result, contended, run, segment.Budget, cancellationToken));
        // Leftover time: re-price across the old segment boundaries, the planned jobs unchanged, so the bounds of
        // the first pass still hold. Stop when a whole pass finds nothing cheaper.
        for (var pass = 1; segments.Count > 1 && groupClock.Elapsed < budget * 0.9; pass++)
        {
            var before = result.CostUsd(model, group);
            var passSegments = Segments(model, group, run.Options.SegmentOptions, shifted: pass % 2 == 1);
            RunPass(model, passSegments, options, budget, groupClock, segment =>
            {
                var planned = segment.Jobs.Where(result.IsPlaced).ToList();
                if (planned.Count > 0)
                {
                    Price(model, planned, Others(group, segment.Jobs, passSegments), result, contended, run.Options, segment.Budget, cancellationToken);
                }
            });
            if (result.CostUsd(model, group) >= before - 1e-6)
            {
                break;
            }
        }
    }

    /// <summary>One pass over a group's segments in time order, each given its share of the group's time left.</summary>
    private static void RunPass(GridModel model, List<List<int>> segments, int options, TimeSpan budget, Stopwatch groupClock, Action<Segment> solve)
    {
        var optionsLeft = options;
        foreach (var jobs in segments)
        {
            var segmentOptions = OptionCount(model, jobs);
            var left = budget - groupClock.Elapsed;
            var share = left <= TimeSpan.Zero ? TimeSpan.Zero : left * ((double)segmentOptions / optionsLeft);
            optionsLeft -= segmentOptions;
            solve(new Segment(jobs, share < MinimumPerGroup ? MinimumPerGroup : share));
        }
    }

    private static List<int> Others(List<int> group, List<int> segment, List<List<int>> segments) =>
        segments.Count == 1 ? [] : [.. group.Except(segment)];

    /// <summary>A run of a group's jobs by earliest start, and the time it may take.</summary>
    private sealed record Segment(List<int> Jobs, TimeSpan Budget);

    /// <summary>
    /// One segment of a group, the rest of the group fixed where it is: first the most priority weight that fits,
    /// then the cheapest way to plan those jobs, then (when others were fixed) a bound from the segment alone.
    /// </summary>
    private static void SolveSegment(GridModel model, List<int> segment, List<int> others, Placement result, HashSet<string> contended,
        GroupRun run, TimeSpan budget, CancellationToken cancellationToken)
    {
        var workers = OptionCount(model, segment) < 200 ? 1 : run.Options.Workers;
        var coverageProven = segment.All(result.IsPlaced);
        if (!coverageProven)
        {
            var coverage = CpSatModel.Build(model, segment, result, contended, CpSatObjective.Coverage, others);
            var covered = coverage.Solve(budget / 4, workers, cancellationToken);
            if (covered.Placement is { } better && coverage.IsBetter(better, result))
            {
                result.CopyFrom(better, segment);
            }
            coverageProven = covered.Status == CpSolverStatus.Optimal && !coverage.HasFixedJobs;
            run.AnySolution |= covered.Placement is not null;
        }
        var planned = segment.Where(result.IsPlaced).ToList();
        if (planned.Count == 0)
        {
            run.AllOptimal &= coverageProven;
            return;
        }
        var cost = Price(model, planned, others, result, contended, run.Options, budget / 2, cancellationToken);
        run.AnySolution |= cost.Outcome.Placement is not null;
        run.AllOptimal &= coverageProven && cost.Outcome.Status == CpSolverStatus.Optimal && !cost.Model.HasFixedJobs;
        var bound = cost.Model.HasFixedJobs ? BoundAlone(model, planned, result, contended, budget / 4, workers, cancellationToken) : cost.Outcome.LowerBoundUsd;
        run.LowerBoundUsd += Math.Max(bound ?? 0, CheapestUsd(model, result, planned));
    }

    /// <summary>The cheapest way to plan exactly these jobs, the others where they are; taken when cheaper.</summary>
    private static (CpSatModel Model, CpSatOutcome Outcome) Price(GridModel model, List<int> planned, List<int> others, Placement result,
        HashSet<string> contended, SolveOptions options, TimeSpan budget, CancellationToken cancellationToken)
    {
        var cost = CpSatModel.Build(model, planned, result, contended, CpSatObjective.Cost, others);
        var priced = cost.Solve(budget, OptionCount(model, planned) < 200 ? 1 : options.Workers, cancellationToken);
        if (priced.Placement is { } cheaper && cost.IsBetter(cheaper, result))
        {
            result.CopyFrom(cheaper, planned);
        }
        return (cost, priced);
    }

    /// <summary>
    /// A bound on the cost of planning these jobs, from the same jobs with nobody else in their pools: removing jobs
    /// only loosens capacity, so the bounds of disjoint segments add up to a bound for the group.
    /// </summary>
    private static double? BoundAlone(GridModel model, List<int> jobs, Placement hint, HashSet<string> contended, TimeSpan budget, int workers,
        CancellationToken cancellationToken) =>
        CpSatModel.Build(model, jobs, hint, contended, CpSatObjective.Cost).Solve(budget, workers, cancellationToken).LowerBoundUsd;

    /// <summary>
    /// Cuts a group into consecutive runs of jobs by earliest start, each with about <paramref name="segmentOptions"/>
    /// options: small enough for CP-SAT to solve well in its share of the time.
    /// </summary>
    private static List<List<int>> Segments(GridModel model, List<int> group, int segmentOptions, bool shifted)
    {
        var ordered = group.OrderBy(j => model.GridOptions[j][0].EarliestStep).ThenBy(j => j).ToList();
        var segments = new List<List<int>> { new() };
        // A shifted cut starts with half a segment, so its boundaries fall in the middle of the unshifted ones.
        var count = shifted ? segmentOptions / 2 : 0;
        foreach (var j in ordered)
        {
            if (count >= segmentOptions)
            {
                segments.Add([]);
                count = 0;
            }
            segments[^1].Add(j);
            count += model.GridOptions[j].Length;
        }
        return segments;
    }

    /// <summary>
    /// Whether the placement holds every job that some plan could hold: a job with a window on the grid whose
    /// prerequisites all could be placed too (a dependent of a job that can never run can never run either).
    /// </summary>
    private static bool PlacesEveryPlaceableJob(GridModel model, Placement placement)
    {
        // In dependency order a job's prerequisites are settled before it; jobs outside the order can never be placed.
        var placeable = new bool[model.GridOptions.Length];
        foreach (var j in model.Dependencies.Order)
        {
            placeable[j] = model.GridOptions[j].Length > 0 && model.Dependencies.PrerequisitesOf(j).All(d => placeable[d]);
        }
        return Enumerable.Range(0, model.GridOptions.Length).All(j => placement.IsPlaced(j) || !placeable[j]);
    }

    /// <summary>
    /// Plannable jobs that are not settled outright. A job without dependencies whose cheapest option is in a pool
    /// that can never be full simply takes that option (greedy already put it there).
    /// </summary>
    private static List<int> JobsNeedingTheSolver(GridModel model, HashSet<string> contended)
    {
        var linked = new HashSet<int>();
        for (var k = 0; k < model.Options.Count; k++)
        {
            foreach (var d in model.Dependencies.PrerequisitesOf(k))
            {
                linked.Add(k);
                linked.Add(d);
            }
        }
        return [.. Enumerable.Range(0, model.Options.Count).Where(j => model.GridOptions[j].Length > 0
            && (linked.Contains(j) || model.GridOptions[j][0].Option.Pools.Any(p => contended.Contains(p.Pool.Id))))];
    }

    private static double CheapestUsd(GridModel model, Placement placement, IEnumerable<int> jobs) =>
        jobs.Where(placement.IsPlaced).Sum(j => PlanBuilder.Round(model.Options[j].Cheapest!.ExpectedCostUsd));

    private static int OptionCount(GridModel model, List<int> jobs) => jobs.Sum(j => model.GridOptions[j].Length);

    /// <summary>The running account of a solve over groups: time left, what is proven so far.</summary>
    private sealed class GroupRun(SolveOptions options, Stopwatch clock, int totalOptions)
    {
        public SolveOptions Options { get; } = options;

        public int OptionsLeft { get; set; } = totalOptions;


        public double LowerBoundUsd { get; set; }

        public bool AllOptimal { get; set; } = true;

        public bool AnySolution { get; set; }

        /// <summary>A group's share of the time left is its share of the options left, but never under a floor.</summary>
        public TimeSpan ShareFor(int options)
        {
            // 3% of the limit is kept for reading answers back and assembling the plan.
            var left = Options.TimeLimit * 0.97 - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                return TimeSpan.Zero;
            }
            var share = left * ((double)options / Math.Max(1, OptionsLeft));
            return share < MinimumPerGroup ? (left < MinimumPerGroup ? left : MinimumPerGroup) : share;
        }
    }
}

/// <summary>What a CP-SAT run gave back: its status, its placement if it found one, and its proven bound.</summary>
public sealed record CpSatOutcome(CpSolverStatus Status, Placement? Placement, double? LowerBoundUsd);
