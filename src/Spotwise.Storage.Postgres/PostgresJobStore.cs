using System.Globalization;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;
using Spotwise.Runtime.Budgeting;
using Spotwise.Runtime.History;
using Spotwise.Runtime.Leadership;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Storage.Postgres;

/// <summary>
/// The job store in PostgreSQL (docs/scale-out.md), shared by any number of service replicas. Every write is one
/// transaction committed with <c>synchronous_commit = on</c>: a submission is in the server's fsynced WAL before
/// <see cref="SubmitAsync"/> returns. A batch of submissions is one statement (arrays unnested), under an advisory lock
/// so submission order (<c>seq</c>) is commit order; a batch of updates is one read and one version-guarded statement.
/// The rows are SQLite's (docs/storage.md): the same JSON for jobs and launch intents, the same time text.
/// <para>
/// It keeps the leader lease of the replicas that share the database (<see cref="ILeaderLease"/>) and fences the
/// leader's writes of jobs and plans with its epoch (<see cref="LeaderFence"/>) in the write's own transaction: the
/// lease row is read <c>FOR SHARE</c> there, so a takeover waits for a write in flight and a write after it sees the
/// new epoch.
/// </para>
/// <para>And the teams' budgets set through the API (<see cref="IBudgetStore"/>).</para>
/// </summary>
public sealed class PostgresJobStore : IJobStore, ILeaderLease, IBudgetStore, ISubmissionNotifications, IAsyncDisposable, IDisposable
{
    /// <summary>The channel a commit that queued new jobs notifies (docs/scale-out.md#waking-the-leader).</summary>
    public const string SubmissionChannel = "spotwise_jobs";

    /// <summary>How many plans are kept, the latest included; older ones are deleted as new ones are saved.</summary>
    public const int PlansKept = 50;

    private static readonly string[] RecordColumnNames =
    [
        "id", "team", "job", "state", "attempt", "placement_market", "placement_instance_type", "placement_zone", "placement_start",
        "placement_price_per_hour_usd", "placement_expected_cost_usd", "placement_fallback_at", "instance_id", "started_at",
        "finished_at", "cost_so_far_usd", "done_hours", "last_error", "version", "submitted_at", "launch_intent", "cost_accrued_at", "placement_provider",
    ];

    private static readonly string RecordColumns = string.Join(", ", RecordColumnNames);

    private static readonly string JobsRecordColumns = string.Join(", ", RecordColumnNames.Select(c => "j." + c));

    private static readonly JsonSerializerOptions PlanJson = new(PlanDocument.JsonOptions) { WriteIndented = false };

    private readonly NpgsqlDataSource _data;

    /// <summary>This store's name in its notifications: its own process learns of its submissions in-process, not from them.</summary>
    private readonly string _notifier = Guid.NewGuid().ToString("N");

    private bool _disposed;

    private PostgresJobStore(NpgsqlDataSource data) => _data = data;

    /// <summary>Connects, and brings the schema up to date (safe when several replicas open at once).</summary>
    /// <exception cref="StoreUnavailableException">The database cannot be reached or refuses the login.</exception>
    public static Task<PostgresJobStore> OpenAsync(string connectionString, CancellationToken cancellationToken) =>
        OpenAsync(connectionString, Migrations.All, cancellationToken);

    internal static async Task<PostgresJobStore> OpenAsync(string connectionString, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        if (PostgresConnection.Problem(connectionString) is { } problem)
        {
            throw new ArgumentException($"the store's connection string {problem}", nameof(connectionString));
        }
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        // Sent at connection start, whatever the server's default: an acknowledged write waits for the WAL's fsync.
        builder.Options = string.Join(' ', new[] { builder.Options, "-c synchronous_commit=on" }.Where(o => !string.IsNullOrWhiteSpace(o)));
        // The store's statements are few and fixed: prepared once per connection, a batch skips parsing and planning.
        if (builder.MaxAutoPrepare == 0)
        {
            builder.MaxAutoPrepare = 32;
        }
        var store = new PostgresJobStore(NpgsqlDataSource.Create(builder));
        try
        {
            await Migrations.MigrateAsync(store._data, migrations, cancellationToken);
            return store;
        }
        catch (Exception e) when (PostgresConnection.IsUnreachable(e) && !cancellationToken.IsCancellationRequested)
        {
            await store.DisposeAsync();
            throw new StoreUnavailableException($"cannot open the job store: {PostgresConnection.Describe(connectionString)}: {e.Message}", e);
        }
        catch
        {
            await store.DisposeAsync();
            throw;
        }
    }

    public async Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<Submission> batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return [];
        }
        var plan = SubmitPlan.Of(batch);
        var unique = plan.Unique;
        // Serialised before the statement: only the statement holds the lock.
        string[] teams = [.. unique.Select(s => s.Team)], ids = [.. unique.Select(s => s.Job.Id)], bodies = [.. unique.Select(s => s.Body)],
            jobs = [.. unique.Select(s => StoredJob.Write(s.Job))];
        ObjectDisposedException.ThrowIf(_disposed, this);
        await using var connection = await _data.OpenConnectionAsync(cancellationToken);
        // One round trip and one commit: a batch sent without an explicit transaction runs as one implicit transaction,
        // so the advisory lock its first statement takes is held through the second and released by its commit, with
        // no client round trip in between (under load, each one costs the lock's other takers milliseconds).
        await using var statements = new NpgsqlBatch(connection);
        var take = new NpgsqlBatchCommand("SELECT pg_advisory_xact_lock($1);");
        take.Parameters.Add(new NpgsqlParameter<long> { TypedValue = LockKeys.Submissions });
        statements.BatchCommands.Add(take);
        // One statement for the whole batch: the rows already there come back (duplicates or conflicts, decided below);
        // the others are inserted, in the batch's order, with their first event.
        var command = new NpgsqlBatchCommand(
            "WITH input AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) WITH ORDINALITY AS i(team, id, body, job, ord)), " +
            $"existing AS (SELECT i.ord, {JobsRecordColumns}, j.body FROM input i JOIN jobs j ON j.team = i.team AND j.id = i.id), " +
            "created AS (INSERT INTO jobs (team, id, body, job, state, attempt, cost_so_far_usd, done_hours, version, submitted_at) " +
            "  SELECT i.team, i.id, i.body, i.job, 'queued', 0, 0, 0, 1, $5 FROM input i " +
            "  WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.team = i.team AND j.id = i.id) ORDER BY i.ord RETURNING team, id), " +
            // One notification when anything was created (none for a batch of duplicates), sent by PostgreSQL at
            // the commit: the leader's LISTEN hears of a job only once it can read it. Joined into the events'
            // insert, which always runs, so it is evaluated in this statement at no extra round trip.
            $"notified AS (SELECT pg_notify('{SubmissionChannel}', $6) FROM (SELECT 1 FROM created LIMIT 1) c), " +
            "first_events AS (INSERT INTO job_events (team, job_id, seq, at, from_state, to_state, cause) " +
            "  SELECT c.team, c.id, 1, $5, NULL, 'queued', 'submitted' FROM created c CROSS JOIN notified) " +
            "SELECT * FROM existing;");
        command.Parameters.Add(Texts(teams));
        command.Parameters.Add(Texts(ids));
        command.Parameters.Add(Texts(bodies));
        command.Parameters.Add(Texts(jobs));
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Time(now) });
        command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = _notifier });
        statements.BatchCommands.Add(command);
        var existing = new Dictionary<int, (JobRecord Record, string Body)>();
        await using (var reader = await statements.ExecuteReaderAsync(cancellationToken))
        {
            await reader.NextResultAsync(cancellationToken); // past the lock's one row
            while (await reader.ReadAsync(cancellationToken))
            {
                existing[(int)reader.GetInt64(0) - 1] = (ReadRecord(reader, 1), reader.GetString(1 + RecordColumnNames.Length));
            }
        }
        return plan.Answer(existing, now);
    }

    public async Task<JobRecord?> GetAsync(JobKey key, CancellationToken cancellationToken)
    {
        await using var command = _data.CreateCommand($"SELECT {RecordColumns} FROM jobs WHERE team = $1 AND id = $2;");
        command.Parameters.Add(Text(key.Team));
        command.Parameters.Add(Text(key.Id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRecord(reader, 0) : null;
    }

    public async Task<IReadOnlyList<JobRecord>> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        var after = query.AfterKey();
        if (query.States is { Count: 0 })
        {
            return [];
        }
        // Keyset paging on seq: the cursor's own seq, looked up within the team (an unknown id matches nothing).
        await using var command = _data.CreateCommand(
            $"SELECT {RecordColumns} FROM jobs " +
            "WHERE ($1::text IS NULL OR team = $1) AND ($2::text[] IS NULL OR state = ANY($2)) " +
            "AND ($3::text IS NULL OR seq > (SELECT c.seq FROM jobs c WHERE c.team = $1 AND c.id = $3)) " +
            // Finished since: the index on (state, spotwise_instant(finished_at)) (migration 5) answers it.
            "AND ($5::timestamptz IS NULL OR spotwise_instant(finished_at) IS NULL OR spotwise_instant(finished_at) >= $5) " +
            "ORDER BY seq LIMIT $4;");
        command.Parameters.Add(Text(query.Team));
        command.Parameters.Add(new NpgsqlParameter
        {
            NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text,
            Value = query.States is { } states ? states.Distinct().Select(s => s.ToWire()).ToArray() : DBNull.Value
        });
        command.Parameters.Add(Text(after?.Id));
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.Integer, Value = query.Limit is { } limit ? Math.Max(0, limit) : DBNull.Value });
        command.Parameters.Add(new NpgsqlParameter { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = query.FinishedSince is { } since ? since.ToUniversalTime() : DBNull.Value });
        var records = new List<JobRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(ReadRecord(reader, 0));
        }
        return records;
    }

    public async Task<IReadOnlyDictionary<JobState, int>> CountByStateAsync(string? team, CancellationToken cancellationToken)
    {
        await using var command = _data.CreateCommand("SELECT state, COUNT(*) FROM jobs WHERE $1::text IS NULL OR team = $1 GROUP BY state;");
        command.Parameters.Add(Text(team));
        var counts = Enum.GetValues<JobState>().ToDictionary(s => s, _ => 0);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[State(reader.GetString(0))] = (int)reader.GetInt64(1);
        }
        return counts;
    }

    public async Task<double> SpendSoFarUsdAsync(string? team, CancellationToken cancellationToken)
    {
        await using var command = _data.CreateCommand("SELECT COALESCE(SUM(cost_so_far_usd), 0) FROM jobs WHERE $1::text IS NULL OR team = $1;");
        command.Parameters.Add(Text(team));
        return Convert.ToDouble(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<JobEvent>> EventsAsync(JobKey key, CancellationToken cancellationToken)
    {
        await using var command = _data.CreateCommand(
            "SELECT seq, at, from_state, to_state, cause FROM job_events WHERE team = $1 AND job_id = $2 ORDER BY seq;");
        command.Parameters.Add(Text(key.Team));
        command.Parameters.Add(Text(key.Id));
        var events = new List<JobEvent>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            events.Add(new JobEvent(key.Team, key.Id, reader.GetInt64(0), Time(reader.GetString(1)),
                reader.IsDBNull(2) ? null : State(reader.GetString(2)), State(reader.GetString(3)), reader.GetString(4)));
        }
        return events;
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The job is not in the store, or the state machine forbids the move.</exception>
    public async Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken) =>
        (await TryUpdateManyAsync([(updated, cause)], at, cancellationToken))[0];

    public async Task<IReadOnlyList<JobRecord?>> TryUpdateManyAsync(IReadOnlyList<(JobRecord Updated, string Cause)> updates, DateTimeOffset at,
        CancellationToken cancellationToken)
    {
        if (updates.Count == 0)
        {
            return [];
        }
        return await WriteAsync<IReadOnlyList<JobRecord?>>(null, async (connection, tx) =>
        {
            await CheckFenceAsync(connection, tx, cancellationToken);
            var results = new List<JobRecord?>(updates.Count);
            // A job named twice must see its first update before its second: the batch goes in runs of distinct jobs.
            foreach (var run in UpdateRuns(updates))
            {
                results.AddRange(await UpdateRunAsync(connection, tx, run, at, cancellationToken));
            }
            return results;
        }, cancellationToken);
    }

    private static IEnumerable<List<(JobRecord Updated, string Cause)>> UpdateRuns(IReadOnlyList<(JobRecord Updated, string Cause)> updates)
    {
        var run = new List<(JobRecord, string)>();
        var keys = new HashSet<JobKey>();
        foreach (var update in updates)
        {
            if (!keys.Add(update.Updated.Key))
            {
                yield return run;
                run = [];
                keys = [update.Updated.Key];
            }
            run.Add(update);
        }
        yield return run;
    }

    /// <summary>
    /// One read of the stored rows and one statement that writes every update whose version still holds, with its event:
    /// the rule (<see cref="JobUpdates.Apply"/>) is checked on what was read, and the statement's own version guard
    /// refuses whatever another writer changed in between.
    /// </summary>
    private static async Task<JobRecord?[]> UpdateRunAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<(JobRecord Updated, string Cause)> run,
        DateTimeOffset at, CancellationToken cancellationToken)
    {
        string[] teams = [.. run.Select(u => u.Updated.Team)], ids = [.. run.Select(u => u.Updated.Id)];
        var stored = new Dictionary<JobKey, JobRecord>();
        await using (var find = new NpgsqlCommand(
            $"SELECT {JobsRecordColumns} FROM jobs j JOIN unnest($1::text[], $2::text[]) AS k(team, id) ON j.team = k.team AND j.id = k.id;", connection, tx))
        {
            find.Parameters.Add(Texts(teams));
            find.Parameters.Add(Texts(ids));
            await using var reader = await find.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                var record = ReadRecord(reader, 0);
                stored[record.Key] = record;
            }
        }
        var results = new JobRecord?[run.Count];
        var writes = new List<(int Index, JobRecord Record, JobState? From, string Cause, JobRecord Updated)>();
        var logs = new List<AttemptLogWrite>();
        for (var i = 0; i < run.Count; i++)
        {
            var (updated, cause) = run[i];
            var old = stored.GetValueOrDefault(updated.Key) ?? throw JobUpdates.NotInStore(updated.Key);
            if (JobUpdates.Apply(old, updated, cause) is var (record, moved))
            {
                writes.Add((i, record, moved ? old.State : null, cause, updated));
                if (AttemptLog.For(old, updated, at) is { } log)
                {
                    logs.Add(log);
                }
            }
        }
        if (writes.Count == 0)
        {
            return results;
        }
        await using var write = new NpgsqlCommand(
            "WITH u AS (SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::int[], $6::text[], $7::text[], $8::text[], " +
            "  $9::text[], $10::float8[], $11::float8[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::float8[], $18::float8[], " +
            "  $19::text[], $20::text[], $21::text[], $22::text[], $23::text[]) AS u(team, id, version, state, attempt, market, type, zone, start, " +
            "  price, expected, fallback, provider, instance, started, finished, cost, done, error, intent, accrued, from_state, cause)), " +
            "updated AS (UPDATE jobs j SET state = u.state, attempt = u.attempt, placement_market = u.market, placement_instance_type = u.type, " +
            "  placement_zone = u.zone, placement_start = u.start, placement_price_per_hour_usd = u.price, placement_expected_cost_usd = u.expected, " +
            "  placement_fallback_at = u.fallback, placement_provider = u.provider, instance_id = u.instance, started_at = u.started, " +
            "  finished_at = u.finished, cost_so_far_usd = u.cost, done_hours = u.done, last_error = u.error, launch_intent = u.intent, " +
            "  cost_accrued_at = u.accrued, version = j.version + 1 " +
            "  FROM u WHERE j.team = u.team AND j.id = u.id AND j.version = u.version RETURNING j.team, j.id), " +
            "events AS (INSERT INTO job_events (team, job_id, seq, at, from_state, to_state, cause) " +
            "  SELECT u.team, u.id, (SELECT COALESCE(MAX(e.seq), 0) + 1 FROM job_events e WHERE e.team = u.team AND e.job_id = u.id), " +
            "  $24, u.from_state, u.state, u.cause FROM updated d JOIN u ON u.team = d.team AND u.id = d.id WHERE u.from_state IS NOT NULL) " +
            "SELECT team, id FROM updated;", connection, tx);
        var p = writes.Select(w => w.Updated.Placement).ToArray();
        write.Parameters.Add(Texts([.. writes.Select(w => w.Updated.Team)]));
        write.Parameters.Add(Texts([.. writes.Select(w => w.Updated.Id)]));
        write.Parameters.Add(new NpgsqlParameter<long[]> { TypedValue = [.. writes.Select(w => w.Updated.Version)] });
        write.Parameters.Add(Texts([.. writes.Select(w => w.Updated.State.ToWire())]));
        write.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. writes.Select(w => w.Updated.Attempt)] });
        write.Parameters.Add(Texts([.. p.Select(x => x?.Market.ToWire())]));
        write.Parameters.Add(Texts([.. p.Select(x => x?.InstanceType)]));
        write.Parameters.Add(Texts([.. p.Select(x => x?.Zone)]));
        write.Parameters.Add(Texts([.. p.Select(x => Time(x?.PlannedStart))]));
        write.Parameters.Add(Doubles([.. p.Select(x => x?.PricePerHourUsd)]));
        write.Parameters.Add(Doubles([.. p.Select(x => x?.ExpectedCostUsd)]));
        write.Parameters.Add(Texts([.. p.Select(x => Time(x?.FallbackAt))]));
        write.Parameters.Add(Texts([.. p.Select(x => x?.Provider)]));
        write.Parameters.Add(Texts([.. writes.Select(w => w.Updated.InstanceId)]));
        write.Parameters.Add(Texts([.. writes.Select(w => Time(w.Updated.StartedAt))]));
        write.Parameters.Add(Texts([.. writes.Select(w => Time(w.Updated.FinishedAt))]));
        write.Parameters.Add(Doubles([.. writes.Select(w => (double?)w.Updated.CostSoFarUsd)]));
        write.Parameters.Add(Doubles([.. writes.Select(w => (double?)w.Updated.DoneHours)]));
        write.Parameters.Add(Texts([.. writes.Select(w => w.Updated.LastError)]));
        write.Parameters.Add(Texts([.. writes.Select(w => StoredLaunch.Write(w.Updated.LaunchIntent))]));
        write.Parameters.Add(Texts([.. writes.Select(w => Time(w.Updated.CostAccruedAt))]));
        write.Parameters.Add(Texts([.. writes.Select(w => w.From?.ToWire())]));
        write.Parameters.Add(Texts([.. writes.Select(w => w.Cause)]));
        write.Parameters.Add(new NpgsqlParameter<string> { TypedValue = Time(at) });
        var done = new HashSet<JobKey>();
        await using (var reader = await write.ExecuteReaderAsync(cancellationToken))
        {
            while (await reader.ReadAsync(cancellationToken))
            {
                done.Add(new JobKey(reader.GetString(0), reader.GetString(1)));
            }
        }
        foreach (var w in writes.Where(w => done.Contains(w.Record.Key)))
        {
            results[w.Index] = w.Record;
        }
        await LogAttemptsAsync(connection, tx, [.. logs.Where(l => done.Contains(l.Job))], cancellationToken);
        return results;
    }

    /// <summary>
    /// The attempt log's rows for the updates that were written, in their transaction: a start once, an end only on a row
    /// with none (or alone, for an attempt never seen running), so a retried update never counts an attempt twice.
    /// </summary>
    private static async Task LogAttemptsAsync(NpgsqlConnection connection, NpgsqlTransaction tx, List<AttemptLogWrite> logs, CancellationToken cancellationToken)
    {
        if (logs.Count == 0)
        {
            return;
        }
        await using var write = new NpgsqlCommand(
            "INSERT INTO attempts AS a (team, job_id, attempt, provider, zone, instance_type, market, started_unix_s, ended_unix_s, outcome) " +
            "SELECT * FROM unnest($1::text[], $2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::float8[], $9::float8[], $10::text[]) " +
            "ON CONFLICT (team, job_id, attempt) DO UPDATE SET ended_unix_s = excluded.ended_unix_s, outcome = excluded.outcome " +
            "WHERE a.ended_unix_s IS NULL AND excluded.outcome IS NOT NULL;", connection, tx);
        write.Parameters.Add(Texts([.. logs.Select(l => l.Job.Team)]));
        write.Parameters.Add(Texts([.. logs.Select(l => l.Job.Id)]));
        write.Parameters.Add(new NpgsqlParameter<int[]> { TypedValue = [.. logs.Select(l => l.Attempt)] });
        write.Parameters.Add(Texts([.. logs.Select(l => l.Pool.Provider)]));
        write.Parameters.Add(Texts([.. logs.Select(l => l.Pool.Zone)]));
        write.Parameters.Add(Texts([.. logs.Select(l => l.Pool.InstanceType)]));
        write.Parameters.Add(Texts([.. logs.Select(l => l.Pool.Market.ToWire())]));
        write.Parameters.Add(Doubles([.. logs.Select(l => (double?)PoolExposure.UnixSeconds(l.At))]));
        write.Parameters.Add(Doubles([.. logs.Select(l => l.Outcome is null ? null : (double?)PoolExposure.UnixSeconds(l.At))]));
        write.Parameters.Add(Texts([.. logs.Select(l => l.Outcome?.ToWire())]));
        await write.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<PoolExposure>> SpotExposureAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var command = _data.CreateCommand(
            "SELECT provider, zone, instance_type, " +
            "COALESCE(SUM(GREATEST(ended_unix_s - started_unix_s, 0)), 0) / 3600.0, " +
            "COUNT(*) FILTER (WHERE outcome = 'interrupted')::int, COUNT(*)::int " +
            "FROM attempts WHERE market = 'spot' AND ended_unix_s >= $1 GROUP BY provider, zone, instance_type ORDER BY provider, zone, instance_type;");
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = PoolExposure.UnixSeconds(since) });
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await PoolExposure.ReadAllAsync(reader, cancellationToken);
    }

    public async Task SavePlanAsync(PlanDocument plan, DateTimeOffset at, CancellationToken cancellationToken)
    {
        // Serialised and compressed before the transaction: only the insert waits on the server.
        var compressed = PlanBlob.Write(plan, PlanJson);
        await WriteAsync(null, async (connection, tx) =>
        {
            await CheckFenceAsync(connection, tx, cancellationToken);
            await using var insert = new NpgsqlCommand(
                "WITH added AS (INSERT INTO plans (at, document_gzip) VALUES ($1, $2) RETURNING id) " +
                "DELETE FROM plans WHERE id <= (SELECT id FROM added) - $3;", connection, tx);
            insert.Parameters.Add(Text(Time(at)));
            insert.Parameters.Add(new NpgsqlParameter<byte[]> { TypedValue = compressed });
            insert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = PlansKept });
            await insert.ExecuteNonQueryAsync(cancellationToken);
            return 0;
        }, cancellationToken);
    }

    public async Task<PlanDocument?> LatestPlanAsync(CancellationToken cancellationToken)
    {
        await using var command = _data.CreateCommand("SELECT document_gzip FROM plans ORDER BY id DESC LIMIT 1;");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        await using var stored = reader.GetStream(0);
        return PlanBlob.Read(stored, PlanJson);
    }

    public Task<Lease> TryAcquireAsync(string replicaId, TimeSpan ttl, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(LockKeys.Lease, async (connection, tx) =>
        {
            var stored = await ReadLeaseAsync(connection, tx, cancellationToken);
            var next = LeaseRules.Next(stored, replicaId, ttl, now);
            if (next != stored)
            {
                await using var upsert = new NpgsqlCommand(
                    "INSERT INTO leader_lease (id, holder, epoch, expires_at) VALUES (1, $1, $2, $3) " +
                    "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch, expires_at = excluded.expires_at;", connection, tx);
                upsert.Parameters.Add(Text(next.Holder));
                upsert.Parameters.Add(new NpgsqlParameter<long> { TypedValue = next.Epoch });
                upsert.Parameters.Add(Text(Time(next.ExpiresAt)));
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
            return next;
        }, cancellationToken);

    public Task ReleaseAsync(string replicaId, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(LockKeys.Lease, async (connection, tx) =>
        {
            // The rule is read in C# (times are text with their offsets, compared as instants).
            if (await ReadLeaseAsync(connection, tx, cancellationToken) is { } stored && stored.IsHeldBy(replicaId, now))
            {
                await using var release = new NpgsqlCommand("UPDATE leader_lease SET expires_at = $1 WHERE id = 1;", connection, tx);
                release.Parameters.Add(Text(Time(now)));
                await release.ExecuteNonQueryAsync(cancellationToken);
            }
            return 0;
        }, cancellationToken);

    public async Task<IReadOnlyDictionary<string, BudgetLimit>> BudgetLimitsAsync(CancellationToken cancellationToken)
    {
        await using var command = _data.CreateCommand("SELECT team, period, limit_usd FROM team_budgets;");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var budgets = new Dictionary<string, BudgetLimit>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            budgets[reader.GetString(0)] = BudgetPeriods.TryParse(reader.GetString(1), out var period)
                ? new BudgetLimit(period, reader.GetDouble(2))
                : throw new InvalidOperationException($"team_budgets: team '{reader.GetString(0)}' has period '{reader.GetString(1)}'");
        }
        return budgets;
    }

    public async Task SetBudgetLimitAsync(string team, BudgetLimit limit, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await using var command = _data.CreateCommand(
            "INSERT INTO team_budgets (team, period, limit_usd, updated_at) VALUES ($1, $2, $3, $4) " +
            "ON CONFLICT (team) DO UPDATE SET period = excluded.period, limit_usd = excluded.limit_usd, updated_at = excluded.updated_at;");
        command.Parameters.Add(Text(team));
        command.Parameters.Add(Text(limit.Period.ToWire()));
        command.Parameters.Add(new NpgsqlParameter<double> { TypedValue = limit.LimitUsd });
        command.Parameters.Add(Text(Time(at)));
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<Lease?> CurrentAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _data.OpenConnectionAsync(cancellationToken);
        return await ReadLeaseAsync(connection, null, cancellationToken);
    }

    private static async Task<Lease?> ReadLeaseAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, CancellationToken cancellationToken)
    {
        await using var read = new NpgsqlCommand("SELECT holder, epoch, expires_at FROM leader_lease WHERE id = 1;", connection, tx);
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new Lease(reader.GetString(0), reader.GetInt64(1), Time(reader.GetString(2))) : null;
    }

    /// <summary>
    /// Refuses, inside the write's transaction, leader work under an epoch older than the stored lease's. The row is
    /// locked FOR SHARE until the commit: a takeover's update of it waits for this write, and this write, had it waited on
    /// a takeover, reads the new epoch.
    /// </summary>
    private static async Task CheckFenceAsync(NpgsqlConnection connection, NpgsqlTransaction tx, CancellationToken cancellationToken)
    {
        if (LeaderFence.Epoch is null)
        {
            return;
        }
        await using var read = new NpgsqlCommand("SELECT epoch FROM leader_lease WHERE id = 1 FOR SHARE;", connection, tx);
        var stored = await read.ExecuteScalarAsync(cancellationToken);
        LeaderFence.Check(stored is null or DBNull ? null : Convert.ToInt64(stored, CultureInfo.InvariantCulture));
    }

    /// <summary>
    /// Holds one connection that <c>LISTEN</c>s on <see cref="SubmissionChannel"/> and calls <paramref name="queued"/> for
    /// every commit of another store instance that queued jobs; returns when cancelled, throws when the connection
    /// breaks. An idle listen is checked every <see cref="ListenCheck"/> with a trivial query, so a server that went away
    /// without closing the socket is noticed.
    /// </summary>
    public async Task ListenAsync(Action listening, Action queued, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await using var connection = await _data.OpenConnectionAsync(cancellationToken);
        connection.Notification += (_, e) =>
        {
            if (e.Channel == SubmissionChannel && e.Payload != _notifier)
            {
                queued();
            }
        };
        await using (var listen = new NpgsqlCommand($"LISTEN {SubmissionChannel};", connection))
        {
            await listen.ExecuteNonQueryAsync(cancellationToken);
        }
        listening();
        while (true)
        {
            if (!await connection.WaitAsync(ListenCheck, cancellationToken))
            {
                await using var check = new NpgsqlCommand("SELECT 1;", connection);
                await check.ExecuteScalarAsync(cancellationToken);
            }
        }
    }

    /// <summary>How long a listen waits for a notification before it checks that its connection still answers (real time).</summary>
    public static TimeSpan ListenCheck { get; } = TimeSpan.FromSeconds(30);

    /// <summary>Closes the pooled connections.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _data.DisposeAsync();
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>One transaction, after taking the advisory lock <paramref name="lockKey"/> if given (in the same round trip as BEGIN).</summary>
    private async Task<T> WriteAsync<T>(long? lockKey, Func<NpgsqlConnection, NpgsqlTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await using var connection = await _data.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        if (lockKey is { } key)
        {
            await using var take = new NpgsqlCommand("SELECT pg_advisory_xact_lock($1);", connection, tx);
            take.Parameters.Add(new NpgsqlParameter<long> { TypedValue = key });
            await take.ExecuteNonQueryAsync(cancellationToken);
        }
        var result = await work(connection, tx);
        await tx.CommitAsync(cancellationToken);
        return result;
    }

    private static NpgsqlParameter Text(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)value ?? DBNull.Value };

    private static NpgsqlParameter Texts(string?[] values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values };

    private static NpgsqlParameter Doubles(double?[] values) => new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Double, Value = values };

    private static JobRecord ReadRecord(NpgsqlDataReader r, int o)
    {
        Placement? placement = null;
        if (!r.IsDBNull(o + 5))
        {
            if (!MarketNames.TryParse(r.GetString(o + 5), out var market))
            {
                throw new InvalidDataException($"job '{r.GetString(o)}' of team '{r.GetString(o + 1)}': stored market '{r.GetString(o + 5)}' is unknown");
            }
            placement = new Placement(market, r.GetString(o + 6), r.GetString(o + 7), Time(r.GetString(o + 8)), r.GetDouble(o + 9), r.GetDouble(o + 10),
                OptionalTime(r, o + 11))
            {
                Provider = r.IsDBNull(o + 22) ? null : r.GetString(o + 22),
            };
        }
        return new JobRecord
        {
            Job = StoredJob.Read(r.GetString(o + 2)),
            Team = r.GetString(o + 1),
            State = State(r.GetString(o + 3)),
            Attempt = r.GetInt32(o + 4),
            Placement = placement,
            InstanceId = r.IsDBNull(o + 12) ? null : r.GetString(o + 12),
            StartedAt = OptionalTime(r, o + 13),
            FinishedAt = OptionalTime(r, o + 14),
            CostSoFarUsd = r.GetDouble(o + 15),
            DoneHours = r.GetDouble(o + 16),
            LastError = r.IsDBNull(o + 17) ? null : r.GetString(o + 17),
            Version = r.GetInt64(o + 18),
            SubmittedAt = Time(r.GetString(o + 19)),
            LaunchIntent = r.IsDBNull(o + 20) ? null : StoredLaunch.Read(r.GetString(o + 20)),
            CostAccruedAt = OptionalTime(r, o + 21),
        };
    }

    private static JobState State(string text) =>
        JobStates.TryParse(text, out var state) ? state : throw new InvalidDataException($"stored job state '{text}' is unknown");

    // Times are ISO 8601 round-trip text, as in the SQLite store: exact to the tick, offset kept.
    private static string Time(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    private static string? Time(DateTimeOffset? t) => t is { } v ? Time(v) : null;

    private static DateTimeOffset Time(string text) => DateTimeOffset.ParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    private static DateTimeOffset? OptionalTime(NpgsqlDataReader r, int i) => r.IsDBNull(i) ? null : Time(r.GetString(i));
}
