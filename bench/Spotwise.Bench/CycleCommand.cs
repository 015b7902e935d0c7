using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Bench.Workloads;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Runtime;
using Spotwise.Storage.Postgres;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Bench;

/// <summary>
/// <c>cycle</c>: one scheduling cycle of the service over a queue of N Alibaba-derived jobs held in a real SQLite
/// file (or, with <c>--store postgres</c>, a fresh schema on PostgreSQL): read the queue, plan, validate, store the plan
/// and every placement (docs/benchmarks.md, issues 3 and 15). <c>--finished N</c> first stores N jobs that ran and
/// succeeded, their ends spread evenly over the last <c>--finished-days</c> days, the history a long-lived store has: the
/// cycle's fair share and run history read them as <c>serve</c> does (issue 16).
/// </summary>
public static class CycleCommand
{
    public const string Usage = "cycle [--jobs 10000] [--planner greedy] [--time-limit 15] [--seed 1] [--store sqlite|postgres] [--postgres CONNECTION (default $SPOTWISE_STORE)] [--finished 0] [--finished-days 90]";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new ArgReader(args, ["--jobs", "--planner", "--time-limit", "--seed", "--store", "--postgres", "--finished", "--finished-days"], []);
        var server = a.Text("--postgres") ?? Environment.GetEnvironmentVariable(BenchStore.Variable);
        var (stores, storeError) = BenchStore.Parse(a.Text("--store") ?? "sqlite", server);
        if (storeError is not null || stores.Length != 1)
        {
            a.AddError(storeError ?? "--store: one store per cycle run (sqlite or postgres)");
        }
        var jobs = a.WholeNumber("--jobs", 1, 1_000_000) ?? 10_000;
        var plannerName = a.Text("--planner") ?? GreedyPlanner.PlannerName;
        var timeLimit = a.PositiveNumber("--time-limit") ?? 15;
        var seed = a.WholeNumber("--seed", int.MinValue, int.MaxValue) ?? 1;
        var finished = a.WholeNumber("--finished", 0, 1_000_000) ?? 0;
        var finishedDays = a.PositiveNumber("--finished-days") ?? 90;
        var planner = Planners.Create(plannerName);
        if (planner is null)
        {
            a.AddError($"--planner: '{plannerName}' is not a planner; choose from {string.Join(", ", Planners.Names)}");
        }
        var tracePath = RepoRoot.PathTo(RepoRoot.AlibabaPods, out var why1);
        var catalogPath = RepoRoot.PathTo(RepoRoot.Catalog, out var why2);
        if (tracePath is null || catalogPath is null)
        {
            a.AddError($"cannot find the repository's data: {why1 ?? why2}");
        }
        if (a.Errors.Count > 0)
        {
            return ArgReader.Refuse(a.Errors, Usage, stderr);
        }
        var now = new DateTimeOffset(2026, 11, 24, 9, 0, 0, TimeSpan.Zero);
        using var catalogReader = new StreamReader(catalogPath!);
        var catalog = CatalogCsv.Parse(catalogReader, catalogPath!);
        var queue = AlibabaWorkload.Generate(AlibabaTrace.Read(tracePath!), jobs, seed, now);
        await using var where = await BenchStore.CreateAsync(stores[0], server, "cycle");
        // Declared after the store's place, so the store closes before its schema or file is removed.
        await using var opened = where.DbPath is { } db
            ? (IAsyncDisposable)await SqliteJobStore.OpenAsync(db, CancellationToken.None)
            : await PostgresJobStore.OpenAsync(where.ConnectionString!, CancellationToken.None);
        var store = (IJobStore)opened;
        foreach (var batch in queue.Chunk(1000))
        {
            await store.SubmitAsync([.. batch.Select(j => new Submission(j, j.Team ?? "default", j.Id))], now, CancellationToken.None);
        }
        if (finished > 0)
        {
            await StoreFinishedAsync(store, AlibabaWorkload.Generate(AlibabaTrace.Read(tracePath!), finished, seed + 1, now), now, finishedDays);
        }
        var time = new FixedTime(now);
        // The run history as serve keeps it: the first cycle reads it.
        var scheduler = new Scheduler(store, new CatalogPriceFeed(catalog), planner!,
            new SchedulerOptions { Solve = SolveOptions.Default with { TimeLimit = TimeSpan.FromSeconds(timeLimit) } }, time, NullLogger<Scheduler>.Instance,
            history: new Spotwise.Runtime.History.RunHistoryTracker());
        var clock = Stopwatch.StartNew();
        var plan = await scheduler.RunCycleAsync(CancellationToken.None);
        var seconds = clock.Elapsed.TotalSeconds;
        var planned = (await store.CountByStateAsync(null, CancellationToken.None)).GetValueOrDefault(JobState.Planned);
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cycle over {jobs:N0} queued jobs ({finished:N0} finished) with {plannerName} on {where.Name}: {seconds:0.00} s in all (planner {plan?.Totals.SolveSeconds:0.00} s), " +
            $"{planned:N0} placements stored, status {plan?.Status.ToString().ToLowerInvariant()}, expected {plan?.Totals.ExpectedCostUsd:N2} USD"));
        return 0;
    }

    /// <summary>
    /// Stores <paramref name="jobs"/> as jobs that ran an attempt and succeeded, the i-th ending i/count of
    /// <paramref name="days"/> before <paramref name="now"/>, through the store's own state machine.
    /// </summary>
    private static async Task StoreFinishedAsync(IJobStore store, IReadOnlyList<Job> jobs, DateTimeOffset now, double days)
    {
        var span = TimeSpan.FromDays(days);
        var index = 0;
        foreach (var batch in jobs.Chunk(1000))
        {
            var records = (await store.SubmitAsync([.. batch.Select(j => new Submission(j with { Id = "done-" + j.Id }, j.Team ?? "default", "done-" + j.Id))],
                now - span, CancellationToken.None)).Select(r => r.Record!).ToList();
            var ends = records.Select(_ => now - span * (index++ / (double)jobs.Count)).ToList();
            foreach (var step in (JobState[])[JobState.Planned, JobState.Launching, JobState.Running, JobState.Succeeded])
            {
                var moved = await store.TryUpdateManyAsync([.. records.Select((r, i) => (Ended(r, step, ends[i]), "bench history"))], now - span, CancellationToken.None);
                records = [.. moved.Select(r => r!)];
            }
        }
    }

    private static JobRecord Ended(JobRecord r, JobState state, DateTimeOffset end) => state switch
    {
        JobState.Planned => r with { State = state, Placement = new Spotwise.Runtime.Placement(Market.OnDemand, "m5.large", "us-east-1a", end.AddHours(-r.Job.DurationHours), 0.096, 0.096 * r.Job.DurationHours, null) },
        JobState.Launching => r with { State = state, Attempt = 1 },
        JobState.Running => r with { State = state, StartedAt = end.AddHours(-r.Job.DurationHours) },
        _ => r with { State = state, FinishedAt = end, DoneHours = r.Job.DurationHours, CostSoFarUsd = 0.096 * r.Job.DurationHours },
    };

    /// <summary>The benchmark's moment of planning: the same for every run, so runs compare.</summary>
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
