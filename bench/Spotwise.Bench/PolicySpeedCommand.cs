using System.Diagnostics;
using System.Globalization;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Policy;
using Spotwise.Runtime.Traces;

namespace Spotwise.Bench;

/// <summary>
/// <c>policy-speed</c>: what the spot policy costs the reconcile loop. The service's own path, as
/// <c>Reconciler.FollowPolicy</c> takes it every tick: a <see cref="SpotAvailabilityHistory"/> at the service's 1-minute
/// tick, fed a week and more of the V100 traces' capacity, one snapshot per tick (<see cref="SpotAvailabilityHistory.At"/>),
/// then for each of N running jobs its <see cref="JobPolicyInputs"/> and <see cref="SpotPolicy.Decide"/>. Jobs are 48 h
/// p3.2xlarge jobs with 52–70 h deadlines, started over the last day, spread over the zones: half on spot, a quarter on
/// on-demand, a quarter waiting. Rounds are single-threaded, one reconcile tick apart; prints p50/p95/max per round.
/// </summary>
public static class PolicySpeedCommand
{
    public const string Usage = "policy-speed [--jobs 1000] [--rounds 200] [--trace-dir data/traces/aws-v100]";

    private static readonly DateTimeOffset TraceStart = new(2023, 2, 15, 0, 0, 0, TimeSpan.Zero);

    public static int Run(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var reader = new ArgReader(args, ["--jobs", "--rounds", "--trace-dir"], []);
        var jobCount = reader.WholeNumber("--jobs", 1, 1_000_000) ?? 1000;
        var rounds = reader.WholeNumber("--rounds", 1, 100_000) ?? 200;
        var dir = reader.Text("--trace-dir") ?? RepoRoot.PathTo("data/traces/aws-v100", out _) ?? "data/traces/aws-v100";
        if (reader.Errors.Count > 0)
        {
            return ArgReader.Refuse(reader.Errors, Usage, stderr);
        }
        IReadOnlyList<SpotTrace> traces;
        try
        {
            traces = SpotTraceFile.ReadDirectory(dir, "p3.2xlarge", TraceStart);
        }
        catch (Exception e) when (e is FormatException or FileNotFoundException or IOException)
        {
            stderr.WriteLine($"error: --trace-dir: {e.Message}");
            return 2;
        }
        var catalog = LoadCatalog();
        var history = new SpotAvailabilityHistory(SpotAvailabilityHistory.DefaultTick);
        // Eight days of the market at the service's tick: the week the policy looks back on, and the day the jobs ran.
        var now = TraceStart.AddDays(8);
        for (var at = TraceStart; at <= now; at += history.Tick)
        {
            history.Record(at, Readings(traces, at));
        }
        var jobs = Enumerable.Range(0, jobCount).Select(i => RunningJob(i, traces, now)).ToList();

        var perRound = new List<double>(rounds);
        var decided = new int[3];
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        for (var r = 0; r < rounds; r++)
        {
            now += history.Tick;
            history.Record(now, Readings(traces, now));
            var started = Stopwatch.GetTimestamp();
            var market = history.At(now);
            foreach (var (job, instance) in jobs)
            {
                var inputs = new JobPolicyInputs(job, instance, now, market, catalog);
                decided[(int)SpotPolicy.Decide(inputs).Kind]++;
            }
            perRound.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        var cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
        perRound.Sort();
        stdout.WriteLine(Inv($"policy-speed: {jobCount} running jobs, {rounds} reconcile ticks, one thread (snapshot + JobPolicyInputs + SpotPolicy.Decide per job)"));
        stdout.WriteLine(Inv($"  per tick: p50 {Percentile(perRound, 0.50):0.00} ms, p95 {Percentile(perRound, 0.95):0.00} ms, max {perRound[^1]:0.00} ms (wall, one core)"));
        stdout.WriteLine(Inv($"  per decision: {Percentile(perRound, 0.50) * 1000 / jobCount:0.00} µs at p50; process CPU {cpuSeconds:0.00} s for {(long)jobCount * rounds} decisions"));
        stdout.WriteLine(Inv($"  decisions: {decided[(int)ChoiceKind.Spot]} spot, {decided[(int)ChoiceKind.OnDemand]} on-demand, {decided[(int)ChoiceKind.Idle]} idle"));
        stdout.WriteLine(Inv($"  target: a tick for {jobCount} jobs within 1 s of one core: {(Percentile(perRound, 0.95) <= 1000 * jobCount / 1000.0 ? "met" : "NOT met")} at p95"));
        return 0;
    }

    private static IEnumerable<SpotPoolReading> Readings(IReadOnlyList<SpotTrace> traces, DateTimeOffset at) =>
        traces.Select(t => new SpotPoolReading(t.Zone, t.InstanceType, t.AvailableAt(at), t.SpotPriceAt(at)));

    // Job i: started up to a day ago, deadline 52-70 h after its start, some work saved; its instance where it runs.
    private static (JobRecord Job, InstanceStatus? Instance) RunningJob(int i, IReadOnlyList<SpotTrace> traces, DateTimeOffset now)
    {
        var start = now.AddHours(-(i % 24) - 0.5);
        var zone = traces[i % traces.Count].Zone;
        var market = i % 4 == 1 ? Market.OnDemand : Market.Spot;
        var job = new Job
        {
            Id = $"job-{i}",
            DurationHours = 48,
            Deadline = start.AddHours(52 + (i % 19)),
            EarliestStart = start,
            Checkpointable = true,
            CheckpointIntervalHours = 0,
            RestartOverheadHours = 0.05,
            Resources = ResourceRequest.ForInstanceTypes(["p3.2xlarge"]),
        };
        var price = market == Market.Spot ? 0.918 : 3.06;
        var waiting = i % 4 == 3;
        var record = new JobRecord
        {
            Job = job,
            Team = "bench",
            SubmittedAt = start,
            State = waiting ? JobState.Interrupted : JobState.Running,
            Attempt = 1,
            DoneHours = (i % 24) * 0.5,
            Placement = new Placement(market, "p3.2xlarge", zone, start, price, price * 48, CostModel.FallbackAt(job)),
        };
        if (waiting)
        {
            return (record, null);
        }
        var since = now.AddHours(-0.25);
        var instance = new InstanceStatus($"i-{i}", ClientTokens.For(record.Key, 1), record.Team, record.Id, 1, market, "p3.2xlarge", zone,
            InstanceState.Running, since, since, null, null, price, 0, 0.25, null);
        return (record, instance);
    }

    private static double Percentile(List<double> sorted, double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];

    private static Catalog LoadCatalog()
    {
        var path = RepoRoot.PathTo(RepoRoot.Catalog, out var why) ?? throw new InvalidOperationException(why);
        using var reader = File.OpenText(path);
        return CatalogCsv.Parse(reader, path);
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
