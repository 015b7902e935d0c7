using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Storage.Contract;
using Xunit.Abstractions;
using static Spotwise.Storage.Contract.TestJobs;

namespace Spotwise.Storage.Sqlite.Tests;

/// <summary>The contract on a real SQLite file in a temp folder of its own, plus what only a file can show.</summary>
public sealed class SqliteJobStoreTests(ITestOutputHelper output) : JobStoreContract
{
    private readonly string _folder = Directory.CreateTempSubdirectory("spotwise-store-").FullName;

    private string DbPath => Path.Combine(_folder, "spotwise.db");

    protected override async Task<IJobStore> CreateStoreAsync() => await SqliteJobStore.OpenAsync(DbPath, Ct);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task The_file_is_in_wal_journal_mode()
    {
        Assert.Equal("wal", await PragmaAsync("journal_mode"));
        Assert.True(File.Exists(DbPath));
    }

    [Fact]
    public async Task Opening_a_path_in_a_missing_folder_creates_both()
    {
        var path = Path.Combine(_folder, "deeper", "still", "jobs.db");

        await using (var store = await SqliteJobStore.OpenAsync(path, Ct))
        {
            await store.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        }

        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task Reopening_the_file_keeps_every_job_event_and_plan()
    {
        var jobs = Enumerable.Range(0, 250).Select(i => i % 3 == 0 ? Rich($"j{i}") : Simple($"j{i}", "t")).ToList();
        await Store.SubmitAsync([.. jobs.Select(j => Submit(j))], T0, Ct);
        await MoveAsync(Key("j1"), JobState.Planned, "plan");
        await Store.SavePlanAsync(Plan("greedy", T0), T0, Ct);
        var before = await Store.ListAsync(new JobQuery(), Ct);
        await ((SqliteJobStore)Store).DisposeAsync();

        await using var reopened = await SqliteJobStore.OpenAsync(DbPath, Ct);

        var after = await reopened.ListAsync(new JobQuery(), Ct);
        Assert.Equal(before.Count, after.Count);
        foreach (var (b, a) in before.Zip(after))
        {
            Same(b, a);
        }
        Assert.Equal(["submitted", "plan"], (await reopened.EventsAsync(Key("j1"), Ct)).Select(e => e.Cause));
        Assert.Equal(Plan("greedy", T0).ToJson(), (await reopened.LatestPlanAsync(Ct))!.ToJson());
    }

    [Fact]
    public async Task A_job_acknowledged_is_in_the_file_even_if_the_process_never_closes_the_store()
    {
        await Store.SubmitAsync([Submit(Rich("j1"))], T0, Ct);

        // A second, independent reader of the file (as after a crash: the first store is never disposed first).
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = DbPath, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM jobs WHERE id = 'j1';";
        Assert.Equal(BodyOf(Rich("j1")), await command.ExecuteScalarAsync());
    }

    [Fact]
    public async Task A_version_1_file_opens_with_the_current_code_and_migrating_again_changes_nothing()
    {
        await ((SqliteJobStore)Store).DisposeAsync();
        var path = Path.Combine(_folder, "v1.db");
        await using (await SqliteJobStore.OpenAsync(path, [Migrations.All[0]], Ct))
        {
        }
        await OldSchemaRows.InsertJobAsync(path, Queued(Rich("old"), TeamA), BodyOf(Rich("old")), Submitted(Key("old"), T0));

        for (var i = 0; i < 2; i++)
        {
            await using var current = await SqliteJobStore.OpenAsync(path, Ct);
            Same(Rich("old"), (await current.GetAsync(Key("old"), Ct))!.Job);
        }
        Assert.Equal(Migrations.Latest(Migrations.All), await UserVersionAsync(path));
    }

    [Fact]
    public async Task A_version_2_file_with_jobs_and_events_is_keyed_by_team_at_version_3_with_nothing_lost()
    {
        await ((SqliteJobStore)Store).DisposeAsync();
        var path = Path.Combine(_folder, "v2.db");
        await using (await SqliteJobStore.OpenAsync(path, [.. Migrations.All.Take(2)], Ct))
        {
        }
        var placement = new Placement(Market.Spot, "g5.xlarge", "us-east-1b", T0.AddHours(1).AddTicks(3), 0.3071, 1.234567891, T0.AddHours(5).AddTicks(11));
        JobRecord[] records =
        [
            Queued(Simple("c"), "b"),
            Queued(Rich("a"), "a") with { State = JobState.Running, Attempt = 2, Placement = placement, InstanceId = "i-1", StartedAt = T0.AddHours(1),
                CostSoFarUsd = 0.1 + 0.2, DoneHours = 1.0 / 7, LastError = "attempt 1: spot reclaimed", Version = 7 },
            Queued(Simple("b"), "a") with { State = JobState.Succeeded, FinishedAt = T0.AddHours(2), Version = 3 },
        ];
        foreach (var r in records)
        {
            await OldSchemaRows.InsertJobAsync(path, r, BodyOf(r.Job), [Submitted(r.Key, r.SubmittedAt), .. r.State == JobState.Queued ? Array.Empty<JobEvent>() :
                [new JobEvent(r.Team, r.Id, 2, T0.AddMinutes(1), JobState.Queued, JobState.Planned, "planned"),
                 new JobEvent(r.Team, r.Id, 3, T0.AddMinutes(2), JobState.Planned, r.State, "moved on")]]);
        }

        await using var current = await SqliteJobStore.OpenAsync(path, Ct);

        // Through version 3 and on to the latest: what version 3 changed is what is checked here.
        Assert.Equal(Migrations.Latest(Migrations.All), await UserVersionAsync(path));
        var listed = await current.ListAsync(new JobQuery(), Ct);
        Assert.Equal(records.Select(r => r.Key), listed.Select(r => r.Key));
        foreach (var (expected, read) in records.Zip(listed))
        {
            Same(expected, read);
            Same(expected, (await current.GetAsync(expected.Key, Ct))!);
            var events = await current.EventsAsync(expected.Key, Ct);
            Assert.Equal(expected.State == JobState.Queued ? [JobState.Queued] : [JobState.Queued, JobState.Planned, expected.State], events.Select(e => e.To));
            Assert.All(events, e => Assert.Equal(expected.Key, e.Key));
        }
        // Submission order goes on after the migrated jobs, paging works per team, and the ids are now the teams' own.
        var created = await current.SubmitAsync([Submit(Simple("a"), "b"), Submit(Simple("d"), "a")], T0.AddHours(3), Ct);
        Assert.All(created, r => Assert.Equal(SubmitOutcome.Created, r.Outcome));
        Assert.Equal(["a", "b", "d"], Ids(await current.ListAsync(new JobQuery(Team: "a"), Ct)));
        Assert.Equal(["d"], Ids(await current.ListAsync(new JobQuery(Team: "a", After: "b"), Ct)));
        Assert.Equal(["c", "a"], Ids(await current.ListAsync(new JobQuery(Team: "b"), Ct)));
        Assert.Equal(SubmitOutcome.Duplicate, Assert.Single(await current.SubmitAsync([Submit(Rich("a"), "a")], T0, Ct)).Outcome);
        var running = (await current.GetAsync(Key("a", "a"), Ct))!;
        Assert.NotNull(await current.TryUpdateAsync(running with { State = JobState.Succeeded }, "done", T0.AddHours(4), Ct));
        Assert.Equal(4, (await current.EventsAsync(Key("a", "a"), Ct)).Count);
        Assert.Equal("ok", (await ScalarAsync(path, "PRAGMA integrity_check;"))?.ToString());
        Assert.Null(await ScalarAsync(path, "PRAGMA foreign_key_check;"));
    }

    [Fact]
    public async Task A_version_3_file_with_jobs_and_events_opens_at_the_latest_version_with_nothing_lost_and_stores_launch_intents_and_providers()
    {
        await ((SqliteJobStore)Store).DisposeAsync();
        var path = Path.Combine(_folder, "v3.db");
        await using (await SqliteJobStore.OpenAsync(path, [.. Migrations.All.Take(3)], Ct))
        {
        }
        var placement = new Placement(Market.Spot, "g5.xlarge", "us-east-1b", T0.AddHours(1).AddTicks(3), 0.3071, 1.234567891, T0.AddHours(5).AddTicks(11));
        JobRecord[] records =
        [
            Queued(Rich("a"), "a") with { State = JobState.Running, Attempt = 2, Placement = placement, InstanceId = "i-1", StartedAt = T0.AddHours(1),
                CostSoFarUsd = 0.1 + 0.2, DoneHours = 1.0 / 7, LastError = "attempt 1: spot reclaimed", Version = 7 },
            Queued(Simple("a"), "b"),
        ];
        for (var i = 0; i < records.Length; i++)
        {
            var r = records[i];
            await OldSchemaRows.InsertVersion3JobAsync(path, r, BodyOf(r.Job), seq: i + 1, [Submitted(r.Key, r.SubmittedAt), .. r.State == JobState.Queued ? Array.Empty<JobEvent>() :
                [new JobEvent(r.Team, r.Id, 2, T0.AddMinutes(1), JobState.Queued, JobState.Planned, "planned"),
                 new JobEvent(r.Team, r.Id, 3, T0.AddMinutes(2), JobState.Planned, r.State, "moved on")]]);
        }

        await using var current = await SqliteJobStore.OpenAsync(path, Ct);

        // Through version 4 (launch intent, cost mark) and 5 (placement provider) to the latest.
        Assert.Equal(Migrations.Latest(Migrations.All), await UserVersionAsync(path));
        var listed = await current.ListAsync(new JobQuery(), Ct);
        Assert.Equal(records.Select(r => r.Key), listed.Select(r => r.Key));
        foreach (var (expected, read) in records.Zip(listed))
        {
            // No intent, no cost mark, no provider: what version 3 had, and nothing invented.
            Same(expected, read);
            Assert.Equal(expected.State == JobState.Queued ? 1 : 3, (await current.EventsAsync(expected.Key, Ct)).Count);
        }
        var intent = new LaunchRequest("a/a#3", "a", "a", 3, Market.OnDemand, "g5.xlarge", "us-east-1", 1.0 / 3, true, 0.25, "python train.py") { Provider = "aws" };
        var running = listed[0];
        var launching = running with
        {
            State = JobState.Launching,
            Attempt = 3,
            LaunchIntent = intent,
            InstanceId = null,
            CostAccruedAt = T0.AddHours(2).AddTicks(1),
            Placement = running.Placement! with { Provider = "aws" },
        };
        Assert.NotNull(await current.TryUpdateAsync(launching, "safety net", T0.AddHours(2), Ct));
        var reread = (await current.GetAsync(running.Key, Ct))!;
        Assert.Equal(intent, reread.LaunchIntent);
        Assert.Equal("aws", reread.Placement!.Provider);
        Assert.Equal(T0.AddHours(2).AddTicks(1), reread.CostAccruedAt);
        Assert.Equal(4, (await current.EventsAsync(running.Key, Ct)).Count);
        Assert.Equal("ok", (await ScalarAsync(path, "PRAGMA integrity_check;"))?.ToString());
    }

    [Fact]
    public async Task A_plan_stored_as_plain_json_by_version_1_is_read_after_the_upgrade()
    {
        await ((SqliteJobStore)Store).DisposeAsync();
        var path = Path.Combine(_folder, "v1-plan.db");
        await using (var v1 = await SqliteJobStore.OpenAsync(path, [Migrations.All[0]], Ct))
        {
            await using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path}");
            await connection.OpenAsync(Ct);
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO plans (at, document) VALUES ('2026-03-02T08:00:00.0000000+00:00', @json);";
            insert.Parameters.AddWithValue("@json", System.Text.Json.JsonSerializer.Serialize(Plan("from-v1", T0), Spotwise.Core.Serialization.PlanDocument.JsonOptions));
            await insert.ExecuteNonQueryAsync(Ct);
        }

        await using var current = await SqliteJobStore.OpenAsync(path, Ct);

        Assert.Equal("from-v1", (await current.LatestPlanAsync(Ct))!.Planner);
        await current.SavePlanAsync(Plan("from-v2", T0.AddMinutes(1)), T0.AddMinutes(1), Ct);
        Assert.Equal("from-v2", (await current.LatestPlanAsync(Ct))!.Planner);
    }

    [Fact]
    public async Task Appending_a_migration_upgrades_an_existing_file_once()
    {
        await Store.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        await ((SqliteJobStore)Store).DisposeAsync();
        var next = Migrations.Latest(Migrations.All) + 1;
        IReadOnlyList<Migration> withNext = [.. Migrations.All, new(next, "ALTER TABLE jobs ADD COLUMN note TEXT")];

        await using (await SqliteJobStore.OpenAsync(DbPath, withNext, Ct))
        {
        }
        // Were the step run twice, ALTER TABLE would fail on the existing column.
        await using var again = await SqliteJobStore.OpenAsync(DbPath, withNext, Ct);

        Assert.Equal(next, await UserVersionAsync(DbPath));
        Assert.NotNull(await again.GetAsync(Key("j1"), Ct));
    }

    [Fact]
    public async Task A_file_written_by_newer_code_is_refused_with_its_version()
    {
        await ((SqliteJobStore)Store).DisposeAsync();
        IReadOnlyList<Migration> future = [.. Migrations.All, new(Migrations.All.Count + 1, "CREATE TABLE later (x INTEGER)")];
        await using (await SqliteJobStore.OpenAsync(DbPath, future, Ct))
        {
        }

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => SqliteJobStore.OpenAsync(DbPath, Ct));

        Assert.Contains("newer", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Concurrent_submissions_from_several_tasks_are_all_stored_exactly_once()
    {
        // Eight clients, each sending batches that overlap the others' (retries of the same jobs).
        const int clients = 8, jobs = 400, batch = 25;
        var answers = await Task.WhenAll(Enumerable.Range(0, clients).Select(c => Task.Run(async () =>
        {
            var order = Enumerable.Range(0, jobs).Select(i => (i * (c + 1) * 7919) % jobs).Distinct().ToList();
            var mine = new List<SubmitResult>();
            foreach (var chunk in order.Chunk(batch))
            {
                mine.AddRange(await Store.SubmitAsync([.. chunk.Select(i => Submit(Simple($"job-{i}")))], T0, Ct));
            }
            return mine;
        })));

        var all = answers.SelectMany(a => a).ToList();
        Assert.DoesNotContain(all, r => r.Outcome == SubmitOutcome.Conflict);
        var created = all.Where(r => r.Outcome == SubmitOutcome.Created).GroupBy(r => r.JobId).ToList();
        Assert.All(created, g => Assert.Single(g));
        var stored = await Store.ListAsync(new JobQuery(), Ct);
        Assert.Equal(created.Count, stored.Count);
        Assert.Equal(stored.Count, stored.Select(r => r.Id).Distinct().Count());
        Assert.Equal(stored.Count, (await Store.CountByStateAsync(null, Ct))[JobState.Queued]);
        foreach (var r in stored)
        {
            Assert.Single(await Store.EventsAsync(r.Key, Ct));
        }
    }

    [Fact]
    public async Task The_file_passes_integrity_check_after_a_busy_run_of_writers_and_readers()
    {
        await Store.SubmitAsync([.. Enumerable.Range(0, 200).Select(i => Submit(Simple($"j{i}")))], T0, Ct);
        var lostRaces = 0;
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                var id = $"j{(i * 13 + w) % 200}";
                var read = (await Store.GetAsync(Key(id), Ct))!;
                var next = read.State == JobState.Queued ? JobState.Planned : JobState.Queued;
                if (await Store.TryUpdateAsync(read with { State = next, CostSoFarUsd = read.CostSoFarUsd + 1 }, $"w{w}", T0, Ct) is null)
                {
                    Interlocked.Increment(ref lostRaces);
                }
            }
        }));
        var submitters = Enumerable.Range(0, 2).Select(s => Task.Run(async () =>
        {
            for (var i = 0; i < 20; i++)
            {
                await Store.SubmitAsync([.. Enumerable.Range(0, 10).Select(k => Submit(Simple($"s{s}-{i}-{k}")))], T0, Ct);
                await Store.SavePlanAsync(Plan($"p{s}-{i}", T0), T0, Ct);
            }
        }));
        var readers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await Store.ListAsync(new JobQuery(States: [JobState.Planned]), Ct);
                await Store.CountByStateAsync(null, Ct);
                await Store.LatestPlanAsync(Ct);
            }
        }));

        await Task.WhenAll([.. writers, .. submitters, .. readers]);

        Assert.Equal("ok", await PragmaAsync("integrity_check"));
        Assert.Equal(600, (await Store.CountByStateAsync(null, Ct)).Values.Sum());
        // Every successful update added one to the cost and (as each one changes the state) one event.
        var records = await Store.ListAsync(new JobQuery(), Ct);
        Assert.Equal(800 - lostRaces, (int)records.Sum(r => r.CostSoFarUsd));
        foreach (var r in records)
        {
            Assert.Equal((int)r.CostSoFarUsd + 1, (await Store.EventsAsync(r.Key, Ct)).Count);
            Assert.Equal((long)r.CostSoFarUsd + 1, r.Version);
        }
    }

    [Fact]
    public async Task Old_plans_are_trimmed_to_the_history_kept()
    {
        for (var i = 0; i < SqliteJobStore.PlansKept + 10; i++)
        {
            await Store.SavePlanAsync(Plan($"p{i}", T0.AddMinutes(i)), T0.AddMinutes(i), Ct);
        }

        Assert.Equal($"p{SqliteJobStore.PlansKept + 9}", (await Store.LatestPlanAsync(Ct))!.Planner);
        Assert.Equal((long)SqliteJobStore.PlansKept, await ScalarAsync(DbPath, "SELECT COUNT(*) FROM plans;"));
    }

    /// <summary>Not a timed test: it checks batches of 100 are all stored, and prints the rate for docs/storage.md.</summary>
    [Fact]
    public async Task Batches_of_100_are_all_stored()
    {
        const int batches = 50;
        var clock = Stopwatch.StartNew();
        for (var b = 0; b < batches; b++)
        {
            await Store.SubmitAsync([.. Enumerable.Range(0, 100).Select(i => Submit(Rich($"b{b}-{i}")))], T0, Ct);
        }
        clock.Stop();

        Assert.Equal(batches * 100, (await Store.CountByStateAsync(null, Ct))[JobState.Queued]);
        output.WriteLine($"{batches} batches of 100: {batches * 100 / clock.Elapsed.TotalSeconds:F0} submissions/s, {clock.Elapsed.TotalMilliseconds / batches:F1} ms per batch");
    }

    private static JobRecord Queued(Job job, string team) => new() { Job = job, Team = team, SubmittedAt = T0, Version = 1 };

    private static JobEvent Submitted(JobKey key, DateTimeOffset at) => new(key.Team, key.Id, 1, at, null, JobState.Queued, "submitted");

    private async Task<string?> PragmaAsync(string name) => (await ScalarAsync(DbPath, $"PRAGMA {name};"))?.ToString();

    private static async Task<int> UserVersionAsync(string path) => Convert.ToInt32(await ScalarAsync(path, "PRAGMA user_version;"), System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<object?> ScalarAsync(string path, string sql)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync();
    }
}

/// <summary>The lease contract on one SQLite file that each replica opens on its own, as two <c>serve</c> processes on one machine do.</summary>
public sealed class SqliteLeaseTests : LeaseContract
{
    private readonly string _folder = Directory.CreateTempSubdirectory("spotwise-lease-").FullName;

    protected override async Task<IJobStore> OpenReplicaAsync() => await SqliteJobStore.OpenAsync(Path.Combine(_folder, "spotwise.db"), Ct);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}

/// <summary>The budget contract on one SQLite file, each handle opened on its own, as two <c>serve</c> processes would.</summary>
public sealed class SqliteBudgetTests : BudgetContract
{
    private readonly string _folder = Directory.CreateTempSubdirectory("spotwise-budgets-").FullName;

    protected override async Task<IJobStore> OpenAsync() => await SqliteJobStore.OpenAsync(Path.Combine(_folder, "spotwise.db"), Ct);

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }
}
