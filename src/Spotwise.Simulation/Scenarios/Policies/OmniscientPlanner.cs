using Spotwise.Runtime.Policy;

namespace Spotwise.Simulation.Scenarios.Policies;

/// <summary>
/// The offline optimum of the single-job scenario, knowing the whole future trace: a dynamic program over ticks.
/// A state at a tick boundary is what runs (idle, on-demand, spot in zone z), the ticks since its launch while the
/// changeover lasts, and the lost hours so far (elapsed − work done: idle time plus changeovers paid), which decide
/// feasibility exactly: the job can still finish iff lost + changeover still owed ≤ deadline − work. Lost hours are
/// kept exactly but binned (a bin per <c>bucketTicks</c> ticks): each bin keeps its cheapest state, which bounds the
/// work per tick. Decisions fall on tick boundaries, as every policy's do, and ticks are charged exactly as the engine
/// charges them (the time run, at that tick's price).
/// </summary>
public static class OmniscientPlanner
{
    public const double DefaultBucketTicks = 1;

    private const double Epsilon = 1e-9;

    [ThreadStatic]
    private static Buffers? t_buffers;

    /// <summary>The optimal schedule: one choice per tick from the start until the job finishes, and its cost.</summary>
    public sealed record Schedule(IReadOnlyList<Choice> Choices, double CostUsd);

    /// <summary>
    /// The cheapest schedule the binned program finds: real (lost hours are exact, so it meets the deadline) and at
    /// most a hair above the optimum, which lies in [<see cref="LowerBound"/>, this].
    /// </summary>
    public static Schedule Solve(ZoneTraces market, JobScenario scenario, double bucketTicks = DefaultBucketTicks) =>
        new Solver(market, scenario, optimistic: false, bucketTicks * market.TickHours, t_buffers ??= new Buffers()).Solve();

    /// <summary>
    /// A cost no schedule can beat: the same program where a bin keeps its least lost hours and its least cost, even
    /// from different states (every transition is monotone in both, so this only relaxes).
    /// </summary>
    public static double LowerBound(ZoneTraces market, JobScenario scenario, double bucketTicks = DefaultBucketTicks) =>
        new Solver(market, scenario, optimistic: true, bucketTicks * market.TickHours, t_buffers ??= new Buffers()).Solve().CostUsd;

    /// <summary>Work arrays reused by the runs of one thread (a sweep solves thousands of programs).</summary>
    private sealed class Buffers
    {
        public double[] Cost = [];
        public double[] Lost = [];
        public double[] NextCost = [];
        public double[] NextLost = [];
        public int[] Parent = [];
        public byte[] Code = [];
        public double[] UnionCost = [];
        public double[] UnionLost = [];
        public int[] UnionFrom = [];

        public static void Ensure<T>(ref T[] array, int size)
        {
            if (array.Length < size)
            {
                array = new T[size];
            }
        }
    }

    private sealed class Solver
    {
        private readonly ZoneTraces _market;
        private readonly JobScenario _s;
        private readonly Buffers _b;
        private readonly double _g;
        private readonly double _slack;
        private readonly double _bucketHours;
        private readonly bool _optimistic;
        private readonly int _k;
        private readonly int _keys;
        private readonly int _bins;
        private readonly int _ticks;

        // The highest bin any state occupies in the current and the next layer: bins above are empty, and skipped.
        private int _top;
        private int _nextTop;

        public Solver(ZoneTraces market, JobScenario scenario, bool optimistic, double bucketHours, Buffers buffers)
        {
            _market = market;
            _s = scenario;
            _b = buffers;
            _optimistic = optimistic;
            _bucketHours = bucketHours;
            _g = market.TickHours;
            _slack = scenario.DeadlineHours - scenario.WorkHours;
            _k = scenario.OverheadHours <= 0 ? 0 : (int)Math.Ceiling((scenario.OverheadHours / _g) - Epsilon);
            _keys = 1 + ((1 + market.ZoneCount) * (_k + 1));
            _bins = (int)Math.Floor((_slack / bucketHours) + Epsilon) + 1;
            _ticks = scenario.TicksToDeadline(market);
            var layer = _keys * _bins;
            Buffers.Ensure(ref _b.Cost, layer);
            Buffers.Ensure(ref _b.Lost, layer);
            Buffers.Ensure(ref _b.NextCost, layer);
            Buffers.Ensure(ref _b.NextLost, layer);
            Buffers.Ensure(ref _b.Parent, layer * (_ticks + 1));
            Buffers.Ensure(ref _b.Code, layer * (_ticks + 1));
            Buffers.Ensure(ref _b.UnionCost, _bins);
            Buffers.Ensure(ref _b.UnionLost, _bins);
            Buffers.Ensure(ref _b.UnionFrom, _bins);
        }

        // Codes: 0 idle, 1 on-demand, 2 + z spot in zone z. Keys: 0 idle, then (code - 1) * (K + 1) + k + 1.
        private int Key(int code, int k) => code == 0 ? 0 : 1 + ((code - 1) * (_k + 1)) + k;

        private int Bin(double lost) => Math.Min(_bins - 1, (int)Math.Floor((lost / _bucketHours) + Epsilon));

        public Schedule Solve()
        {
            var layer = _keys * _bins;
            Array.Fill(_b.Cost, double.PositiveInfinity, 0, layer);
            _b.Cost[Key(0, 0) * _bins] = 0;
            _b.Lost[Key(0, 0) * _bins] = 0;
            var best = (Cost: double.PositiveInfinity, From: -1, Code: -1, Tick: -1);
            var od = _market.OnDemandPricePerHourUsd;

            _top = 0;
            Array.Fill(_b.NextCost, double.PositiveInfinity, 0, layer);
            for (var t = 0; t < _ticks; t++)
            {
                var a = _s.StartTick + t;
                var tau = t * _g;
                _nextTop = 0;
                BuildUnion();

                // Starting something (or idling) can follow any state; continuing only the same. A start from a state
                // that costs no less than one with fewer lost hours is dominated: skip it.
                var cheapest = double.PositiveInfinity;
                for (var bin = 0; bin <= _top; bin++)
                {
                    var cost = _b.UnionCost[bin];
                    if (cost >= cheapest - Epsilon && !_optimistic)
                    {
                        continue;
                    }
                    if (double.IsPositiveInfinity(cost))
                    {
                        continue;
                    }
                    cheapest = Math.Min(cheapest, cost);
                    var lost = _b.UnionLost[bin];
                    var from = (t * layer) + _b.UnionFrom[bin];
                    if (lost + _g + _s.OverheadHours <= _slack + Epsilon)
                    {
                        Offer(t, Key(0, 0), lost + _g, cost, from, 0);
                    }
                    Step(t, tau, from, lost, cost, 1, 0, od, ref best);
                    for (var z = 0; z < _market.ZoneCount; z++)
                    {
                        if (_market.Available(z, a))
                        {
                            Step(t, tau, from, lost, cost, 2 + z, 0, _market.SpotPrice(z, a), ref best);
                        }
                    }
                }
                for (var code = 1; code < 2 + _market.ZoneCount; code++)
                {
                    var zone = code - 2;
                    if (zone >= 0 && !_market.Available(zone, a))
                    {
                        continue;
                    }
                    var price = zone >= 0 ? _market.SpotPrice(zone, a) : od;
                    for (var k = 0; k <= _k; k++)
                    {
                        var offset = Key(code, k) * _bins;
                        for (var bin = 0; bin <= _top; bin++)
                        {
                            var cost = _b.Cost[offset + bin];
                            if (!double.IsPositiveInfinity(cost))
                            {
                                Step(t, tau, (t * layer) + offset + bin, _b.Lost[offset + bin], cost, code, k, price, ref best);
                            }
                        }
                    }
                }
                // The layer just read becomes the next one to write: clear what it held.
                for (var key = 0; key < _keys; key++)
                {
                    Array.Fill(_b.Cost, double.PositiveInfinity, key * _bins, _top + 1);
                }
                (_b.Cost, _b.NextCost) = (_b.NextCost, _b.Cost);
                (_b.Lost, _b.NextLost) = (_b.NextLost, _b.Lost);
                _top = _nextTop;
                if (!_optimistic)
                {
                    DropDominated();
                }
            }

            if (best.From < 0)
            {
                throw new InvalidOperationException("no schedule meets the deadline; a scenario's deadline always allows on-demand");
            }
            var choices = new Choice[best.Tick + 1];
            choices[best.Tick] = Decode(best.Code);
            for (var (p, t) = (best.From, best.Tick - 1); t >= 0; p = _b.Parent[p], t--)
            {
                choices[t] = Decode(_b.Code[p]);
            }
            return new Schedule(choices, best.Cost);
        }

        // A state that costs no less than one of the same key with fewer lost hours can never do better: drop it.
        private void DropDominated()
        {
            for (var key = 0; key < _keys; key++)
            {
                var offset = key * _bins;
                var cheapest = double.PositiveInfinity;
                for (var bin = 0; bin <= _top; bin++)
                {
                    var cost = _b.Cost[offset + bin];
                    if (cost >= cheapest - Epsilon)
                    {
                        _b.Cost[offset + bin] = double.PositiveInfinity;
                    }
                    else
                    {
                        cheapest = cost;
                    }
                }
            }
        }

        // Per bin, the cheapest state of any key (or, optimistic, the least lost and least cost of the bin).
        private void BuildUnion()
        {
            Array.Fill(_b.UnionCost, double.PositiveInfinity, 0, _top + 1);
            for (var key = 0; key < _keys; key++)
            {
                var offset = key * _bins;
                for (var bin = 0; bin <= _top; bin++)
                {
                    var cost = _b.Cost[offset + bin];
                    if (double.IsPositiveInfinity(cost))
                    {
                        continue;
                    }
                    var lost = _b.Lost[offset + bin];
                    var current = _b.UnionCost[bin];
                    if (_optimistic && !double.IsPositiveInfinity(current))
                    {
                        _b.UnionCost[bin] = Math.Min(current, cost);
                        _b.UnionLost[bin] = Math.Min(_b.UnionLost[bin], lost);
                    }
                    else if (cost < current - Epsilon || (cost <= current + Epsilon && lost < _b.UnionLost[bin]))
                    {
                        _b.UnionCost[bin] = cost;
                        _b.UnionLost[bin] = lost;
                        _b.UnionFrom[bin] = offset + bin;
                    }
                }
            }
        }

        // One tick on `code`, `k` ticks after its launch, from the state `parent` (its index over all layers).
        private void Step(int t, double tau, int parent, double lost, double cost, int code, int k, double price, ref (double Cost, int From, int Code, int Tick) best)
        {
            var owed = Math.Max(0, _s.OverheadHours - (k * _g));
            var paid = Math.Min(owed, _g);
            var work = tau - lost;
            if (work + (_g - paid) >= _s.WorkHours - Epsilon)
            {
                var used = paid + (_s.WorkHours - work);
                var total = cost + (price * used);
                if (tau + used <= _s.DeadlineHours + 1e-7 && total < best.Cost - Epsilon)
                {
                    best = (total, parent, code, t);
                }
                return;
            }
            var newLost = lost + paid;
            if (newLost + (owed - paid) > _slack + Epsilon)
            {
                return;
            }
            Offer(t, Key(code, Math.Min(k + 1, _k)), newLost, cost + (price * _g), parent, code);
        }

        private void Offer(int t, int key, double lost, double cost, int parent, int code)
        {
            var layer = _keys * _bins;
            var bin = Bin(lost);
            _nextTop = Math.Max(_nextTop, bin);
            var index = (key * _bins) + bin;
            var current = _b.NextCost[index];
            if (_optimistic && !double.IsPositiveInfinity(current))
            {
                _b.NextCost[index] = Math.Min(current, cost);
                _b.NextLost[index] = Math.Min(_b.NextLost[index], lost);
                return;
            }
            if (cost < current - Epsilon || (cost <= current + Epsilon && lost < _b.NextLost[index]))
            {
                _b.NextCost[index] = cost;
                _b.NextLost[index] = lost;
                var at = ((t + 1) * layer) + index;
                _b.Parent[at] = parent;
                _b.Code[at] = (byte)code;
            }
        }

        private static Choice Decode(int code) => code switch
        {
            0 => Choice.Idle,
            1 => Choice.OnDemand,
            _ => Choice.Spot(code - 2),
        };
    }
}

/// <summary>
/// The omniscient bound as a policy: it is handed the whole trace (no online policy is), solves
/// <see cref="OmniscientPlanner"/> before the first tick, and plays the schedule through the same engine, so its cost
/// is measured exactly as every other policy's.
/// </summary>
public sealed class OmniscientPolicy(ZoneTraces market, JobScenario scenario) : ISpotPolicy
{
    public const string Name = "omniscient";

    private OmniscientPlanner.Schedule? _schedule;

    /// <summary>The cost the planner promised (the engine's measured cost must match it).</summary>
    public double? PlannedCostUsd => _schedule?.CostUsd;

    public Choice Decide(PolicyView view)
    {
        _schedule ??= OmniscientPlanner.Solve(market, scenario);
        return view.Tick < _schedule.Choices.Count ? _schedule.Choices[view.Tick] : Choice.Idle;
    }
}
