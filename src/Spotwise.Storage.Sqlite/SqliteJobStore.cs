using System.Globalization;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;
using Spotwise.Runtime.Budgeting;
using Spotwise.Runtime.History;
using Spotwise.Runtime.Leadership;

namespace Spotwise.Storage.Sqlite;

/// <summary>
/// The job store in one SQLite file (docs/storage.md). WAL journal with <c>synchronous=FULL</c>: a submission is in
/// the log and fsynced before <see cref="SubmitAsync"/> returns. Safe to share between the HTTP handlers and the
/// control loop: every call takes a pooled connection of its own; readers run alongside the writer (WAL), and writers
/// take turns on a semaphore (and <c>BEGIN IMMEDIATE</c> plus a busy timeout against other processes).
/// <para>
/// It also keeps the leader lease of the replicas that share the file (<see cref="ILeaderLease"/>), and fences the
/// leader's writes of jobs and plans with its epoch (<see cref="LeaderFence"/>), in the write's own transaction.
/// </para>
/// <para>And the teams' budgets set through the API (<see cref="IBudgetStore"/>).</para>
/// </summary>
public sealed class SqliteJobStore : IJobStore, ILeaderLease, IBudgetStore, IAsyncDisposable, IDisposable
{
    /// <summary>How many plans are kept, the latest included; older ones are deleted as new ones are saved.</summary>
    public const int PlansKept = 50;

    private const int BusyTimeoutMs = 30_000;

    private const string RecordColumns =
        "id, team, job, state, attempt, placement_market, placement_instance_type, placement_zone, placement_start, " +
        "placement_price_per_hour_usd, placement_expected_cost_usd, placement_fallback_at, instance_id, started_at, " +
        "finished_at, cost_so_far_usd, done_hours, last_error, version, submitted_at, launch_intent, cost_accrued_at, placement_provider";

    private readonly string _connectionString;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private bool _disposed;

    private SqliteJobStore(string connectionString) => _connectionString = connectionString;

    /// <summary>The file this store writes.</summary>
    public string Path { get; private init; } = "";

    /// <summary>Opens (creating if needed) the store file, switches it to WAL and brings its schema up to date.</summary>
    public static Task<SqliteJobStore> OpenAsync(string path, CancellationToken cancellationToken) =>
        OpenAsync(path, Migrations.All, cancellationToken);

    internal static async Task<SqliteJobStore> OpenAsync(string path, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        var full = System.IO.Path.GetFullPath(path);
        if (System.IO.Path.GetDirectoryName(full) is { Length: > 0 } dir)
        {
            Directory.CreateDirectory(dir);
        }
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = full,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = BusyTimeoutMs / 1000,
        }.ToString();
        var store = new SqliteJobStore(connectionString) { Path = full };
        try
        {
            await using var connection = await store.OpenConnectionAsync(cancellationToken);
            var mode = await ScalarAsync(connection, "PRAGMA journal_mode = WAL;", cancellationToken);
            if (!string.Equals(mode as string, "wal", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidOperationException($"{full}: SQLite refused WAL journal mode (got '{mode}'); is the file on a network share?");
            }
            await Migrations.MigrateAsync(connection, migrations, cancellationToken);
            return store;
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
        return await WriteAsync(async (connection, tx) =>
        {
            await using var find = Command(connection, tx, $"SELECT {RecordColumns}, body FROM jobs WHERE team = @team AND id = @id;", "@team", "@id");
            // seq keeps submission order for paging; MAX over its unique index is one index step, and the writer lock
            // (BEGIN IMMEDIATE) makes it safe.
            await using var insert = Command(connection, tx,
                "INSERT INTO jobs (team, id, seq, body, job, state, attempt, cost_so_far_usd, done_hours, version, submitted_at) " +
                "VALUES (@team, @id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM jobs), @body, @job, @state, 0, 0, 0, 1, @at);",
                "@id", "@team", "@body", "@job", "@state", "@at");
            await using var firstEvent = Command(connection, tx,
                "INSERT INTO job_events (team, job_id, seq, at, from_state, to_state, cause) VALUES (@team, @id, 1, @at, NULL, @state, 'submitted');",
                "@team", "@id", "@at", "@state");
            var results = new List<SubmitResult>(batch.Count);
            foreach (var submission in batch)
            {
                var id = submission.Job.Id;
                Set(find, ("@team", submission.Team), ("@id", id));
                await using (var reader = await find.ExecuteReaderAsync(cancellationToken))
                {
                    if (await reader.ReadAsync(cancellationToken))
                    {
                        var same = reader.GetString(23) == submission.Body;
                        results.Add(same ? new SubmitResult(id, SubmitOutcome.Duplicate, ReadRecord(reader)) : new SubmitResult(id, SubmitOutcome.Conflict, null));
                        continue;
                    }
                }
                var record = new JobRecord { Job = submission.Job, Team = submission.Team, SubmittedAt = now, State = JobState.Queued, Version = 1 };
                Set(insert, ("@id", id), ("@team", submission.Team), ("@body", submission.Body), ("@job", StoredJob.Write(submission.Job)),
                    ("@state", JobState.Queued.ToWire()), ("@at", Time(now)));
                await insert.ExecuteNonQueryAsync(cancellationToken);
                Set(firstEvent, ("@team", submission.Team), ("@id", id), ("@at", Time(now)), ("@state", JobState.Queued.ToWire()));
                await firstEvent.ExecuteNonQueryAsync(cancellationToken);
                results.Add(new SubmitResult(id, SubmitOutcome.Created, record));
            }
            return (IReadOnlyList<SubmitResult>)results;
        }, cancellationToken);
    }

    public async Task<JobRecord?> GetAsync(JobKey key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null, $"SELECT {RecordColumns} FROM jobs WHERE team = @team AND id = @id;", "@team", "@id");
        Set(command, ("@team", key.Team), ("@id", key.Id));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadRecord(reader) : null;
    }

    public async Task<IReadOnlyList<JobRecord>> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        var after = query.AfterKey();
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = new List<string>();
        if (query.Team is not null)
        {
            where.Add("team = @team");
            command.Parameters.AddWithValue("@team", query.Team);
        }
        if (query.States is { } states)
        {
            if (states.Count == 0)
            {
                return [];
            }
            // Only parameter names are built here (@s0, @s1, ...); the states go in as values.
            var names = states.Distinct().Select((s, i) =>
            {
                var name = "@s" + i.ToString(CultureInfo.InvariantCulture);
                command.Parameters.AddWithValue(name, s.ToWire());
                return name;
            }).ToList();
            where.Add($"state IN ({string.Join(", ", names)})");
        }
        if (query.FinishedSince is { } since)
        {
            // julianday() reads the text's own offset, so rows written at any offset compare as instants; the index on
            // (state, julianday(finished_at)) (schema 9) answers it without reading the long-finished rows.
            where.Add("(julianday(finished_at) IS NULL OR julianday(finished_at) >= julianday(@since))");
            command.Parameters.AddWithValue("@since", Time(since));
        }
        if (after is { } cursor)
        {
            // An unknown id matches nothing (seq > NULL): a cursor must name a listed job. Team is already bound.
            where.Add("seq > (SELECT seq FROM jobs WHERE team = @team AND id = @after)");
            command.Parameters.AddWithValue("@after", cursor.Id);
        }
        command.Parameters.AddWithValue("@limit", query.Limit is { } limit ? Math.Max(0, limit) : -1);
        command.CommandText = $"SELECT {RecordColumns} FROM jobs" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") +
            " ORDER BY seq LIMIT @limit;";
        var records = new List<JobRecord>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            records.Add(ReadRecord(reader));
        }
        return records;
    }

    public async Task<IReadOnlyDictionary<JobState, int>> CountByStateAsync(string? team, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = team is null
            ? "SELECT state, COUNT(*) FROM jobs GROUP BY state;"
            : "SELECT state, COUNT(*) FROM jobs WHERE team = @team GROUP BY state;";
        if (team is not null)
        {
            command.Parameters.AddWithValue("@team", team);
        }
        var counts = Enum.GetValues<JobState>().ToDictionary(s => s, _ => 0);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            counts[State(reader.GetString(0))] = reader.GetInt32(1);
        }
        return counts;
    }

    public async Task<double> SpendSoFarUsdAsync(string? team, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null,
            "SELECT COALESCE(SUM(cost_so_far_usd), 0) FROM jobs WHERE @team IS NULL OR team = @team;", "@team");
        command.Parameters["@team"].Value = (object?)team ?? DBNull.Value;
        return Convert.ToDouble(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }

    public async Task<IReadOnlyList<JobEvent>> EventsAsync(JobKey key, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null,
            "SELECT seq, at, from_state, to_state, cause FROM job_events WHERE team = @team AND job_id = @id ORDER BY seq;", "@team", "@id");
        Set(command, ("@team", key.Team), ("@id", key.Id));
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
    /// <remarks>
    /// Only what changes over a job's life is written: the submitted job, its team and submission time are kept as
    /// stored, and the returned record carries the stored ones.
    /// </remarks>
    /// <exception cref="InvalidOperationException">The job is not in the store, or the state machine forbids the move.</exception>
    public Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, tx) =>
        {
            await CheckFenceAsync(connection, tx, cancellationToken);
            await using var updater = new Updater(connection, tx);
            return await updater.TryUpdateAsync(updated, cause, at, cancellationToken);
        }, cancellationToken);

    public Task<IReadOnlyList<JobRecord?>> TryUpdateManyAsync(IReadOnlyList<(JobRecord Updated, string Cause)> updates, DateTimeOffset at,
        CancellationToken cancellationToken) =>
        WriteAsync<IReadOnlyList<JobRecord?>>(async (connection, tx) =>
        {
            await CheckFenceAsync(connection, tx, cancellationToken);
            // One set of statements for the whole batch: preparing three statements per job was most of a cycle's write.
            await using var updater = new Updater(connection, tx);
            var results = new List<JobRecord?>(updates.Count);
            foreach (var (updated, cause) in updates)
            {
                results.Add(await updater.TryUpdateAsync(updated, cause, at, cancellationToken));
            }
            return results;
        }, cancellationToken);

    /// <summary>The read-check-write of one version-guarded update, its statements prepared once per transaction.</summary>
    private sealed class Updater(SqliteConnection connection, SqliteTransaction tx) : IAsyncDisposable
    {
        private readonly SqliteCommand _find = Command(connection, tx, $"SELECT {RecordColumns} FROM jobs WHERE team = @team AND id = @id;", "@team", "@id");

        private readonly SqliteCommand _update = Command(connection, tx,
            "UPDATE jobs SET state = @state, attempt = @attempt, placement_market = @market, placement_instance_type = @type, " +
            "placement_zone = @zone, placement_start = @start, placement_price_per_hour_usd = @price, placement_expected_cost_usd = @expected, " +
            "placement_fallback_at = @fallback, placement_provider = @provider, instance_id = @instance, started_at = @started, finished_at = @finished, " +
            "cost_so_far_usd = @cost, done_hours = @done, last_error = @error, launch_intent = @intent, cost_accrued_at = @accrued, " +
            "version = version + 1 " +
            "WHERE team = @team AND id = @id AND version = @version;");

        private readonly SqliteCommand _addEvent = Command(connection, tx,
            "INSERT INTO job_events (team, job_id, seq, at, from_state, to_state, cause) " +
            "VALUES (@team, @id, (SELECT COALESCE(MAX(seq), 0) + 1 FROM job_events WHERE team = @team AND job_id = @id), @at, @from, @to, @cause);");

        // A start is written once; an end fills a started row that has none, or stands alone (an attempt never seen running).
        private readonly SqliteCommand _logAttempt = Command(connection, tx,
            "INSERT INTO attempts (team, job_id, attempt, provider, zone, instance_type, market, started_unix_s, ended_unix_s, outcome) " +
            "VALUES (@team, @id, @attempt, @provider, @zone, @type, @market, @at, @ended, @outcome) " +
            "ON CONFLICT (team, job_id, attempt) DO UPDATE SET ended_unix_s = excluded.ended_unix_s, outcome = excluded.outcome " +
            "WHERE attempts.ended_unix_s IS NULL AND excluded.outcome IS NOT NULL;",
            "@team", "@id", "@attempt", "@provider", "@zone", "@type", "@market", "@at", "@ended", "@outcome");

        public async Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken)
        {
            JobRecord stored;
            Set(_find, ("@team", updated.Team), ("@id", updated.Id));
            await using (var reader = await _find.ExecuteReaderAsync(cancellationToken))
            {
                if (!await reader.ReadAsync(cancellationToken))
                {
                    throw JobUpdates.NotInStore(updated.Key);
                }
                stored = ReadRecord(reader);
            }
            if (JobUpdates.Apply(stored, updated, cause) is not var (record, moved))
            {
                return null;
            }
            var p = updated.Placement;
            Set(_update, ("@state", updated.State.ToWire()), ("@attempt", updated.Attempt), ("@market", p?.Market.ToWire()),
                ("@type", p?.InstanceType), ("@zone", p?.Zone), ("@start", Time(p?.PlannedStart)), ("@price", p?.PricePerHourUsd),
                ("@expected", p?.ExpectedCostUsd), ("@fallback", Time(p?.FallbackAt)), ("@provider", p?.Provider), ("@instance", updated.InstanceId),
                ("@started", Time(updated.StartedAt)), ("@finished", Time(updated.FinishedAt)), ("@cost", updated.CostSoFarUsd),
                ("@done", updated.DoneHours), ("@error", updated.LastError), ("@intent", StoredLaunch.Write(updated.LaunchIntent)),
                ("@accrued", Time(updated.CostAccruedAt)), ("@team", updated.Team), ("@id", updated.Id), ("@version", updated.Version));
            if (await _update.ExecuteNonQueryAsync(cancellationToken) != 1)
            {
                return null;
            }
            if (moved)
            {
                Set(_addEvent, ("@team", updated.Team), ("@id", updated.Id), ("@at", Time(at)), ("@from", stored.State.ToWire()), ("@to", updated.State.ToWire()),
                    ("@cause", cause));
                await _addEvent.ExecuteNonQueryAsync(cancellationToken);
            }
            if (AttemptLog.For(stored, updated, at) is { } log)
            {
                var unix = PoolExposure.UnixSeconds(log.At);
                Set(_logAttempt, ("@team", log.Job.Team), ("@id", log.Job.Id), ("@attempt", log.Attempt), ("@provider", log.Pool.Provider),
                    ("@zone", log.Pool.Zone), ("@type", log.Pool.InstanceType), ("@market", log.Pool.Market.ToWire()), ("@at", unix),
                    ("@ended", log.Outcome is null ? null : unix), ("@outcome", log.Outcome?.ToWire()));
                await _logAttempt.ExecuteNonQueryAsync(cancellationToken);
            }
            return record;
        }

        public async ValueTask DisposeAsync()
        {
            await _find.DisposeAsync();
            await _update.DisposeAsync();
            await _addEvent.DisposeAsync();
            await _logAttempt.DisposeAsync();
        }
    }

    public async Task SavePlanAsync(PlanDocument plan, DateTimeOffset at, CancellationToken cancellationToken)
    {
        // Serialised and compressed before the writer lock is taken: only the insert holds it.
        var compressed = PlanBlob.Write(plan, PlanJson);
        await WriteAsync(async (connection, tx) =>
        {
            await CheckFenceAsync(connection, tx, cancellationToken);
            await using var insert = Command(connection, tx,
                "INSERT INTO plans (at, document, document_gzip) VALUES (@at, '', @gzip);" +
                "DELETE FROM plans WHERE id <= last_insert_rowid() - @kept;");
            Set(insert, ("@at", Time(at)), ("@gzip", compressed), ("@kept", PlansKept));
            await insert.ExecuteNonQueryAsync(cancellationToken);
            return 0;
        }, cancellationToken);
    }

    public async Task<PlanDocument?> LatestPlanAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null, "SELECT document, document_gzip FROM plans ORDER BY id DESC LIMIT 1;");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }
        // Rows written before schema version 2 hold plain JSON in `document`.
        return reader.IsDBNull(1)
            ? JsonSerializer.Deserialize<PlanDocument>(reader.GetString(0), PlanJson)
            : PlanBlob.Read(reader.GetStream(1), PlanJson);
    }

    public async Task<IReadOnlyList<PoolExposure>> SpotExposureAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var command = Command(connection, null,
            "SELECT provider, zone, instance_type, " +
            "SUM(CASE WHEN ended_unix_s > started_unix_s THEN ended_unix_s - started_unix_s ELSE 0 END) / 3600.0, " +
            "SUM(CASE WHEN outcome = 'interrupted' THEN 1 ELSE 0 END), COUNT(*) " +
            "FROM attempts WHERE market = 'spot' AND ended_unix_s >= @since GROUP BY provider, zone, instance_type ORDER BY provider, zone, instance_type;",
            "@since");
        Set(command, ("@since", PoolExposure.UnixSeconds(since)));
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await PoolExposure.ReadAllAsync(reader, cancellationToken);
    }

    public Task<Lease> TryAcquireAsync(string replicaId, TimeSpan ttl, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, tx) =>
        {
            var stored = await ReadLeaseAsync(connection, tx, cancellationToken);
            var next = LeaseRules.Next(stored, replicaId, ttl, now);
            if (next != stored)
            {
                await using var upsert = Command(connection, tx,
                    "INSERT INTO leader_lease (id, holder, epoch, expires_at) VALUES (1, @holder, @epoch, @expires) " +
                    "ON CONFLICT (id) DO UPDATE SET holder = excluded.holder, epoch = excluded.epoch, expires_at = excluded.expires_at;");
                Set(upsert, ("@holder", next.Holder), ("@epoch", next.Epoch), ("@expires", Time(next.ExpiresAt)));
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }
            return next;
        }, cancellationToken);

    public Task ReleaseAsync(string replicaId, DateTimeOffset now, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, tx) =>
        {
            await using var release = Command(connection, tx, "UPDATE leader_lease SET expires_at = @now WHERE id = 1 AND holder = @holder AND expires_at > @now;");
            Set(release, ("@now", Time(now)), ("@holder", replicaId));
            return await release.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    public async Task<Lease?> CurrentAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        return await ReadLeaseAsync(connection, null, cancellationToken);
    }

    private static async Task<Lease?> ReadLeaseAsync(SqliteConnection connection, SqliteTransaction? tx, CancellationToken cancellationToken)
    {
        await using var read = Command(connection, tx, "SELECT holder, epoch, expires_at FROM leader_lease WHERE id = 1;");
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new Lease(reader.GetString(0), reader.GetInt64(1), Time(reader.GetString(2))) : null;
    }

    public async Task<IReadOnlyDictionary<string, BudgetLimit>> BudgetLimitsAsync(CancellationToken cancellationToken)
    {
        await using var connection = await OpenConnectionAsync(cancellationToken);
        await using var read = Command(connection, null, "SELECT team, period, limit_usd FROM team_budgets;");
        await using var reader = await read.ExecuteReaderAsync(cancellationToken);
        var budgets = new Dictionary<string, BudgetLimit>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            // Only the API writes rows, with a period it parsed: a word it cannot read back is a broken file.
            budgets[reader.GetString(0)] = BudgetPeriods.TryParse(reader.GetString(1), out var period)
                ? new BudgetLimit(period, reader.GetDouble(2))
                : throw new InvalidOperationException($"team_budgets: team '{reader.GetString(0)}' has period '{reader.GetString(1)}'");
        }
        return budgets;
    }

    public Task SetBudgetLimitAsync(string team, BudgetLimit limit, DateTimeOffset at, CancellationToken cancellationToken) =>
        WriteAsync(async (connection, tx) =>
        {
            await using var upsert = Command(connection, tx,
                "INSERT INTO team_budgets (team, period, limit_usd, updated_at) VALUES (@team, @period, @limit, @at) " +
                "ON CONFLICT (team) DO UPDATE SET period = excluded.period, limit_usd = excluded.limit_usd, updated_at = excluded.updated_at;");
            Set(upsert, ("@team", team), ("@period", limit.Period.ToWire()), ("@limit", limit.LimitUsd), ("@at", Time(at)));
            return await upsert.ExecuteNonQueryAsync(cancellationToken);
        }, cancellationToken);

    /// <summary>Refuses, inside the write's transaction, leader work under an epoch older than the stored lease's (<see cref="LeaderFence"/>).</summary>
    private static async Task CheckFenceAsync(SqliteConnection connection, SqliteTransaction tx, CancellationToken cancellationToken)
    {
        if (LeaderFence.Epoch is null)
        {
            return;
        }
        await using var read = Command(connection, tx, "SELECT epoch FROM leader_lease WHERE id = 1;");
        var stored = await read.ExecuteScalarAsync(cancellationToken);
        LeaderFence.Check(stored is null or DBNull ? null : Convert.ToInt64(stored, CultureInfo.InvariantCulture));
    }

    /// <summary>Folds the write-ahead log into the file and lets go of it (pooled connections are closed).</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }
        _disposed = true;
        await _writeLock.WaitAsync();
        try
        {
            await using var connection = new SqliteConnection(_connectionString);
            try
            {
                await connection.OpenAsync();
                await ScalarAsync(connection, "PRAGMA wal_checkpoint(TRUNCATE);", CancellationToken.None);
            }
            catch (SqliteException)
            {
                // A checkpoint is housekeeping: the log is folded in by the next open anyway.
            }
            SqliteConnection.ClearPool(connection);
        }
        finally
        {
            _writeLock.Release();
            _writeLock.Dispose();
        }
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    private static readonly JsonSerializerOptions PlanJson = new(PlanDocument.JsonOptions) { WriteIndented = false };

    private async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, Task<T>> work, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await using var connection = await OpenConnectionAsync(cancellationToken);
            // Microsoft.Data.Sqlite begins IMMEDIATE unless asked for deferred: the write lock is taken up front.
            await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
            var result = await work(connection, tx);
            await tx.CommitAsync(cancellationToken);
            return result;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private async Task<SqliteConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            // Per connection, so every pooled one says it: FULL fsyncs the WAL at each commit, which is what makes an
            // acknowledged submission survive a power cut and not only a process crash.
            await ScalarAsync(connection,
                "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = " +
                BusyTimeoutMs.ToString(CultureInfo.InvariantCulture) + ";", cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<object?> ScalarAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        return await command.ExecuteScalarAsync(cancellationToken);
    }

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction? tx, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }
        return command;
    }

    private static void Set(SqliteCommand command, params (string Name, object? Value)[] values)
    {
        foreach (var (name, value) in values)
        {
            if (!command.Parameters.Contains(name))
            {
                command.Parameters.Add(new SqliteParameter { ParameterName = name });
            }
            command.Parameters[name].Value = value ?? DBNull.Value;
        }
    }

    private static JobRecord ReadRecord(SqliteDataReader r)
    {
        Placement? placement = null;
        if (!r.IsDBNull(5))
        {
            if (!MarketNames.TryParse(r.GetString(5), out var market))
            {
                throw new InvalidDataException($"job '{r.GetString(0)}' of team '{r.GetString(1)}': stored market '{r.GetString(5)}' is unknown");
            }
            placement = new Placement(market, r.GetString(6), r.GetString(7), Time(r.GetString(8)), r.GetDouble(9), r.GetDouble(10),
                OptionalTime(r, 11))
            {
                Provider = r.IsDBNull(22) ? null : r.GetString(22),
            };
        }
        return new JobRecord
        {
            Job = StoredJob.Read(r.GetString(2)),
            Team = r.GetString(1),
            State = State(r.GetString(3)),
            Attempt = r.GetInt32(4),
            Placement = placement,
            InstanceId = r.IsDBNull(12) ? null : r.GetString(12),
            StartedAt = OptionalTime(r, 13),
            FinishedAt = OptionalTime(r, 14),
            CostSoFarUsd = r.GetDouble(15),
            DoneHours = r.GetDouble(16),
            LastError = r.IsDBNull(17) ? null : r.GetString(17),
            Version = r.GetInt64(18),
            SubmittedAt = Time(r.GetString(19)),
            LaunchIntent = r.IsDBNull(20) ? null : StoredLaunch.Read(r.GetString(20)),
            CostAccruedAt = OptionalTime(r, 21),
        };
    }

    private static JobState State(string text) =>
        JobStates.TryParse(text, out var state) ? state : throw new InvalidDataException($"stored job state '{text}' is unknown");

    // Times are ISO 8601 round-trip text ("2026-11-24T18:00:00.1234567+02:00"): exact to the tick, offset kept, readable.
    private static string Time(DateTimeOffset t) => t.ToString("O", CultureInfo.InvariantCulture);

    private static string? Time(DateTimeOffset? t) => t is { } v ? Time(v) : null;

    private static DateTimeOffset Time(string text) => DateTimeOffset.ParseExact(text, "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);

    private static DateTimeOffset? OptionalTime(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : Time(r.GetString(i));
}
