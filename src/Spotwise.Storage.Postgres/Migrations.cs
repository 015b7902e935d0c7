using Npgsql;

namespace Spotwise.Storage.Postgres;

/// <summary>One step of the schema: the SQL that takes a database from <see cref="Version"/> - 1 to <see cref="Version"/>.</summary>
public sealed record Migration(int Version, string Sql);

/// <summary>
/// The schema, as an ordered list of steps (docs/scale-out.md). The <c>schema_version</c> table lists the steps that
/// ran; opening a store runs the rest in one transaction, under a transaction-scoped advisory lock, so two replicas
/// starting at once apply each step exactly once and a crash leaves the database at a whole version. A new version is
/// one appended line. Never edit a released step.
/// </summary>
public static class Migrations
{
    public static IReadOnlyList<Migration> All { get; } =
    [
        // The same rows as SQLite's schema 5. Times are ISO 8601 round-trip text (timestamptz keeps neither the tick nor
        // the offset a job was submitted with, and both must come back); the submitted body is text, compared byte for
        // byte for idempotency; the job and the launch intent are the stores' shared JSON text (StoredJob,
        // StoredLaunch), not jsonb, which would re-encode what is read back exactly. `seq` is an identity: submissions
        // take turns on an advisory lock, so its order is the commit order and a paging cursor never skips a job.
        new(1, """
            CREATE TABLE jobs (
                team text NOT NULL,
                id text NOT NULL,
                seq bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
                body text NOT NULL,
                job text NOT NULL,
                state text NOT NULL,
                attempt integer NOT NULL,
                placement_market text,
                placement_instance_type text,
                placement_zone text,
                placement_start text,
                placement_price_per_hour_usd double precision,
                placement_expected_cost_usd double precision,
                placement_fallback_at text,
                placement_provider text,
                instance_id text,
                started_at text,
                finished_at text,
                cost_so_far_usd double precision NOT NULL,
                done_hours double precision NOT NULL,
                last_error text,
                version bigint NOT NULL,
                submitted_at text NOT NULL,
                launch_intent text,
                cost_accrued_at text,
                PRIMARY KEY (team, id)
            );
            CREATE INDEX jobs_by_state ON jobs (state, seq);
            CREATE INDEX jobs_by_team_state ON jobs (team, state);
            CREATE INDEX jobs_by_team_seq ON jobs (team, seq);
            CREATE TABLE job_events (
                team text NOT NULL,
                job_id text NOT NULL,
                seq bigint NOT NULL,
                at text NOT NULL,
                from_state text,
                to_state text NOT NULL,
                cause text NOT NULL,
                PRIMARY KEY (team, job_id, seq),
                FOREIGN KEY (team, job_id) REFERENCES jobs (team, id)
            );
            CREATE TABLE plans (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                at text NOT NULL,
                document_gzip bytea NOT NULL
            );
            """),
        // Two schedulers (issue 15): the one leader lease of the store (SQLite's schema 6), whose epoch fences the leader's
        // writes. One row at most, absent until a replica first takes it and never deleted, so the epoch only grows.
        new(2, """
            CREATE TABLE leader_lease (
                id integer PRIMARY KEY CHECK (id = 1),
                holder text NOT NULL,
                epoch bigint NOT NULL,
                expires_at text NOT NULL
            );
            """),
        // Dollar budgets (issue 16, SQLite's schema 7): a team's budget set through the admin API, over the configuration's.
        new(3, """
            CREATE TABLE team_budgets (
                team text PRIMARY KEY,
                period text NOT NULL,
                limit_usd double precision NOT NULL,
                updated_at text NOT NULL
            );
            """),
        // Interruption rates per pool (issue 16, SQLite's schema 8): one row per attempt that ran, keyed by (team, job, attempt),
        // written in the job update's own transaction (AttemptLog), so a retried update never counts twice. Times are Unix
        // seconds: the look-back compares them and the exposure sums their differences in SQL.
        new(4, """
            CREATE TABLE attempts (
                team text NOT NULL,
                job_id text NOT NULL,
                attempt integer NOT NULL,
                provider text NOT NULL,
                zone text NOT NULL,
                instance_type text NOT NULL,
                market text NOT NULL,
                started_unix_s double precision NOT NULL,
                ended_unix_s double precision,
                outcome text,
                PRIMARY KEY (team, job_id, attempt)
            );
            CREATE INDEX attempts_by_end ON attempts (ended_unix_s) WHERE market = 'spot';
            """),
        // Bounded reads per cycle (issue 16, SQLite's schema 9): jobs finished since a moment, from an index. Times are
        // round-trip text with an explicit offset; a cast of such text to timestamptz does not depend on the session's
        // TimeZone or DateStyle, so the function that does it is declared IMMUTABLE and can be indexed (a plain cast of
        // text cannot: PostgreSQL cannot know every text carries its offset).
        new(5, """
            CREATE FUNCTION spotwise_instant(t text) RETURNS timestamptz LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
                AS 'SELECT t::timestamptz';
            CREATE INDEX jobs_by_state_finished ON jobs (state, spotwise_instant(finished_at));
            """),
    ];

    public static int Latest(IReadOnlyList<Migration> migrations) => migrations.Count == 0 ? 0 : migrations[^1].Version;

    /// <summary>Runs the steps the database has not seen, in order, in one transaction under the migration lock.</summary>
    /// <exception cref="InvalidOperationException">The list is out of order, or the database was written by newer code.</exception>
    internal static async Task<int> MigrateAsync(NpgsqlDataSource data, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"migration #{i + 1} says version {migrations[i].Version}: versions must be 1, 2, 3, ... in order");
            }
        }
        await using var connection = await data.OpenConnectionAsync(cancellationToken);
        await using var tx = await connection.BeginTransactionAsync(cancellationToken);
        // Taken before the version table is even looked at: a second replica waits here until the first has committed,
        // then finds nothing left to do.
        await Sql.ExecuteAsync(connection, tx, $"SELECT pg_advisory_xact_lock({LockKeys.Migrations});", cancellationToken);
        await Sql.ExecuteAsync(connection, tx,
            "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now());",
            cancellationToken);
        var current = Convert.ToInt32(await Sql.ScalarAsync(connection, tx, "SELECT COALESCE(MAX(version), 0) FROM schema_version;", cancellationToken),
            System.Globalization.CultureInfo.InvariantCulture);
        var latest = Latest(migrations);
        if (current > latest)
        {
            throw new InvalidOperationException(
                $"the database is at schema version {current}, newer than this program knows ({latest}): upgrade Spotwise, or use another database");
        }
        foreach (var step in migrations.Where(m => m.Version > current))
        {
            await Sql.ExecuteAsync(connection, tx, step.Sql, cancellationToken);
            await using var record = new NpgsqlCommand("INSERT INTO schema_version (version) VALUES ($1);", connection, tx);
            record.Parameters.Add(new NpgsqlParameter<int> { TypedValue = step.Version });
            await record.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return latest;
    }
}

/// <summary>
/// The advisory lock keys the store takes (transaction-scoped, so a crashed holder lets go with its connection). One
/// 64-bit space per database: "SPOTWIS" in ASCII, then a small number per lock.
/// </summary>
internal static class LockKeys
{
    private const long Base = 0x53504F54574953_00;

    public const long Migrations = Base + 1;

    /// <summary>Submissions take turns, so `seq` order is commit order (a cursor never passes a job still being committed).</summary>
    public const long Submissions = Base + 2;

    /// <summary>Tries for the leader lease take turns: the first take inserts the row, which no row lock can guard.</summary>
    public const long Lease = Base + 3;
}

internal static class Sql
{
    public static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    public static async Task<object?> ScalarAsync(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, tx);
        return await command.ExecuteScalarAsync(cancellationToken);
    }
}
