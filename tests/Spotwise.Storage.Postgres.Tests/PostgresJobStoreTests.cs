using System.Diagnostics;
using Npgsql;
using Spotwise.Runtime;
using Spotwise.Storage.Contract;
using Xunit.Abstractions;
using static Spotwise.Storage.Contract.TestJobs;

namespace Spotwise.Storage.Postgres.Tests;

/// <summary>The contract on a real PostgreSQL (scripts/postgres-up.sh), each test in a fresh schema, plus what only a shared server can show.</summary>
[StoreServer("SPOTWISE_STORE")]
public sealed class PostgresJobStoreTests(ITestOutputHelper output) : JobStoreContract
{
    private TestSchema? _schema;

    private TestSchema Schema => _schema ?? throw new InvalidOperationException("the schema is made in CreateStoreAsync");

    protected override async Task<IJobStore> CreateStoreAsync()
    {
        _schema = await TestSchema.CreateAsync();
        return await PostgresJobStore.OpenAsync(_schema.ConnectionString, Ct);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_schema is not null)
        {
            await _schema.DisposeAsync();
        }
    }

    [StoreFact]
    public async Task Two_replicas_opening_an_empty_database_at_once_migrate_it_once()
    {
        await using var fresh = await TestSchema.CreateAsync();

        var opened = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostgresJobStore.OpenAsync(fresh.ConnectionString, Ct)));

        try
        {
            Assert.Equal((long)Migrations.All.Count, await fresh.ScalarAsync("SELECT COUNT(*) FROM schema_version;"));
            Assert.Equal(Migrations.Latest(Migrations.All), await fresh.ScalarAsync("SELECT MAX(version) FROM schema_version;"));
            await opened[0].SubmitAsync([Submit(Simple("j1"))], T0, Ct);
            Assert.NotNull(await opened[3].GetAsync(Key("j1"), Ct));
        }
        finally
        {
            foreach (var store in opened)
            {
                await store.DisposeAsync();
            }
        }
    }

    [StoreFact]
    public async Task Appending_a_migration_upgrades_an_existing_database_once()
    {
        await Store.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        var next = Migrations.Latest(Migrations.All) + 1;
        IReadOnlyList<Migration> withNext = [.. Migrations.All, new(next, "ALTER TABLE jobs ADD COLUMN note text")];

        await using (await PostgresJobStore.OpenAsync(Schema.ConnectionString, withNext, Ct))
        {
        }
        // Were the step run twice, ALTER TABLE would fail on the existing column.
        await using var again = await PostgresJobStore.OpenAsync(Schema.ConnectionString, withNext, Ct);

        Assert.Equal(next, await Schema.ScalarAsync("SELECT MAX(version) FROM schema_version;"));
        Assert.NotNull(await again.GetAsync(Key("j1"), Ct));
    }

    [StoreFact]
    public async Task A_database_written_by_newer_code_is_refused_with_its_version()
    {
        IReadOnlyList<Migration> future = [.. Migrations.All, new(Migrations.All.Count + 1, "CREATE TABLE later (x integer)")];
        await using (await PostgresJobStore.OpenAsync(Schema.ConnectionString, future, Ct))
        {
        }

        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => PostgresJobStore.OpenAsync(Schema.ConnectionString, Ct));

        Assert.Contains("newer", e.Message, StringComparison.Ordinal);
    }

    [StoreFact]
    public async Task A_job_acknowledged_is_committed_for_every_other_connection()
    {
        await Store.SubmitAsync([Submit(Rich("j1"))], T0, Ct);

        Assert.Equal(BodyOf(Rich("j1")), await Schema.ScalarAsync("SELECT body FROM jobs WHERE team = 'team-a' AND id = 'j1';"));
        Assert.Equal("on", await Schema.ScalarAsync("SHOW synchronous_commit;"));
    }

    [StoreFact]
    public async Task Two_replicas_submitting_the_same_jobs_at_once_create_each_exactly_once_in_one_order()
    {
        await using var other = await PostgresJobStore.OpenAsync(Schema.ConnectionString, Ct);
        var batches = Enumerable.Range(0, 20).Select(b => Enumerable.Range(0, 50).Select(i => Submit(Simple($"j{(b * 50 + i) % 600}"))).ToList()).ToList();

        var answers = await Task.WhenAll(batches.Select((batch, i) => (i % 2 == 0 ? Store : other).SubmitAsync(batch, T0, Ct)));

        var all = answers.SelectMany(a => a).ToList();
        Assert.Equal(600, all.Count(r => r.Outcome == SubmitOutcome.Created));
        Assert.Equal(400, all.Count(r => r.Outcome == SubmitOutcome.Duplicate));
        var listed = await other.ListAsync(new JobQuery(Team: TeamA), Ct);
        Assert.Equal(600, listed.Select(r => r.Id).Distinct().Count());
        // Paging by cursor walks the same order as one listing, whichever replica wrote the job.
        var paged = new List<JobRecord>();
        for (string? after = null; ;)
        {
            var page = await Store.ListAsync(new JobQuery(Team: TeamA, Limit: 70, After: after), Ct);
            if (page.Count == 0)
            {
                break;
            }
            paged.AddRange(page);
            after = page[^1].Id;
        }
        Assert.Equal(listed.Select(r => r.Id), paged.Select(r => r.Id));
    }

    [StoreFact]
    public async Task Two_replicas_updating_one_job_at_its_version_let_exactly_one_win()
    {
        await using var other = await PostgresJobStore.OpenAsync(Schema.ConnectionString, Ct);
        await Store.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        var read = (await Store.GetAsync(Key("j1"), Ct))!;

        var results = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            (i % 2 == 0 ? Store : other).TryUpdateAsync(read with { State = JobState.Planned, LastError = $"writer {i}" }, $"writer {i}", T0, Ct)));

        Assert.Single(results, r => r is not null);
        Assert.Equal(2, (await Store.EventsAsync(Key("j1"), Ct)).Count);
        Assert.Equal(read.Version + 1, (await other.GetAsync(Key("j1"), Ct))!.Version);
    }

    [StoreFact]
    public async Task A_job_named_twice_in_one_batch_of_updates_sees_its_first_update()
    {
        await Store.SubmitAsync([Submit(Simple("j1"))], T0, Ct);
        var read = (await Store.GetAsync(Key("j1"), Ct))!;

        var results = await Store.TryUpdateManyAsync(
            [(read with { State = JobState.Planned }, "first"), (read with { State = JobState.Cancelled }, "second, stale")], T0, Ct);

        Assert.NotNull(results[0]);
        Assert.Null(results[1]);
        Assert.Equal(JobState.Planned, (await Store.GetAsync(Key("j1"), Ct))!.State);
    }

    [StoreFact]
    public async Task Batches_of_100_are_all_stored()
    {
        var jobs = Enumerable.Range(0, 10_000).Select(i => Submit(Simple($"j{i}"))).ToList();
        var watch = Stopwatch.StartNew();
        foreach (var batch in jobs.Chunk(100))
        {
            await Store.SubmitAsync(batch, T0, Ct);
        }
        watch.Stop();

        output.WriteLine($"10,000 jobs in batches of 100: {watch.Elapsed.TotalMilliseconds:F0} ms, {10_000 / watch.Elapsed.TotalSeconds:F0} submissions/s");
        Assert.Equal(10_000, (await Store.CountByStateAsync(null, Ct))[JobState.Queued]);
    }
}

/// <summary>What an operator sees when the database is not there or the string is wrong: no server needed.</summary>
public sealed class PostgresConnectionTests
{
    [Fact]
    public async Task An_unreachable_database_is_a_clear_error_naming_where_it_was_looked_for()
    {
        // Port 1 on loopback: nothing listens, the connection is refused at once.
        var e = await Assert.ThrowsAsync<StoreUnavailableException>(() =>
            PostgresJobStore.OpenAsync("Host=127.0.0.1;Port=1;Database=spotwise;Username=spotwise;Timeout=5", CancellationToken.None));

        Assert.Contains("127.0.0.1:1", e.Message, StringComparison.Ordinal);
        Assert.Contains("spotwise", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a connection string")]
    [InlineData("Database=spotwise;Username=spotwise")]
    [InlineData("Host=db;Bogus=1")]
    public void A_string_that_names_no_database_is_a_problem(string text) => Assert.NotNull(PostgresConnection.Problem(text));

    [Fact]
    public void A_password_never_appears_in_a_problem()
    {
        var problem = PostgresConnection.Problem("Password=hunter2;Bogus=1");

        Assert.NotNull(problem);
        Assert.DoesNotContain("hunter2", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_plain_connection_string_is_fine() =>
        Assert.Null(PostgresConnection.Problem("Host=127.0.0.1;Port=55432;Database=spotwise;Username=spotwise"));

    [Fact]
    public void The_description_names_host_port_database_and_user_but_not_the_password() =>
        Assert.Equal("PostgreSQL at db:5433, database 'jobs', user 'sw'",
            PostgresConnection.Describe(new NpgsqlConnectionStringBuilder("Host=db;Port=5433;Database=jobs;Username=sw;Password=secret").ConnectionString));
}

/// <summary>The lease contract on one PostgreSQL schema that each replica opens with its own data source, as two <c>serve</c> processes do.</summary>
[StoreServer("SPOTWISE_STORE")]
public sealed class PostgresLeaseTests : LeaseContract
{
    private TestSchema? _schema;

    protected override async Task<IJobStore> OpenReplicaAsync()
    {
        _schema ??= await TestSchema.CreateAsync();
        return await PostgresJobStore.OpenAsync(_schema.ConnectionString, Ct);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_schema is not null)
        {
            await _schema.DisposeAsync();
        }
    }
}

/// <summary>The budget contract on one PostgreSQL schema, each handle with its own data source.</summary>
[StoreServer("SPOTWISE_STORE")]
public sealed class PostgresBudgetTests : BudgetContract
{
    private TestSchema? _schema;

    protected override async Task<IJobStore> OpenAsync()
    {
        _schema ??= await TestSchema.CreateAsync();
        return await PostgresJobStore.OpenAsync(_schema.ConnectionString, Ct);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_schema is not null)
        {
            await _schema.DisposeAsync();
        }
    }
}
