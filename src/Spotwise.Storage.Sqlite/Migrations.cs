using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Spotwise.Storage.Sqlite;

/// <summary>One step of the schema: the SQL that takes a file from <see cref="Version"/> - 1 to <see cref="Version"/>.</summary>
public sealed record Migration(int Version, string Sql);

/// <summary>
/// The schema, as an ordered list of steps. The file's <c>PRAGMA user_version</c> says how many have run; opening a
/// file runs the rest, each in the same transaction as the version bump, so a crash leaves the file at a whole version.
/// A new version is one appended line: <c>new(2, "ALTER TABLE jobs ADD COLUMN ...")</c>. Never edit a released step.
/// </summary>
public static class Migrations
{
    public static IReadOnlyList<Migration> All { get; } =
    [
        new(1, """
            CREATE TABLE jobs (
                id TEXT NOT NULL PRIMARY KEY,
                team TEXT NOT NULL,
                body TEXT NOT NULL,
                job TEXT NOT NULL,
                state TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                placement_market TEXT,
                placement_instance_type TEXT,
                placement_zone TEXT,
                placement_start TEXT,
                placement_price_per_hour_usd REAL,
                placement_expected_cost_usd REAL,
                placement_fallback_at TEXT,
                instance_id TEXT,
                started_at TEXT,
                finished_at TEXT,
                cost_so_far_usd REAL NOT NULL,
                done_hours REAL NOT NULL,
                last_error TEXT,
                version INTEGER NOT NULL,
                submitted_at TEXT NOT NULL
            );
            CREATE INDEX jobs_by_state ON jobs (state);
            CREATE INDEX jobs_by_team_state ON jobs (team, state);
            CREATE TABLE job_events (
                job_id TEXT NOT NULL REFERENCES jobs (id),
                seq INTEGER NOT NULL,
                at TEXT NOT NULL,
                from_state TEXT,
                to_state TEXT NOT NULL,
                cause TEXT NOT NULL,
                PRIMARY KEY (job_id, seq)
            ) WITHOUT ROWID;
            CREATE TABLE plans (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                at TEXT NOT NULL,
                document TEXT NOT NULL
            );
            """),
        // Plans as gzipped JSON: a 100,000-job plan is ~35 MB of text, written under the store's only writer lock
        // every cycle (submissions waited behind it) and kept 50 times over. New rows leave `document` empty.
        new(2, "ALTER TABLE plans ADD COLUMN document_gzip BLOB"),
        // Job ids are a team's own (issue 10): two teams may both have "job-1", so jobs are keyed (team, id) and events
        // (team, job_id, seq). Listing keeps submission order through an explicit `seq` (the old rowid), not SQLite's
        // rowid, so paging means the same in any store. SQLite cannot change a primary key in place: the tables are
        // rebuilt. The new tables' foreign key names `jobs_v3` until the rename (which rewrites it), so the old `jobs`
        // is dropped with no child left pointing at it; `PRAGMA foreign_keys` cannot be switched off inside the
        // migration's transaction.
        new(3, """
            CREATE TABLE jobs_v3 (
                team TEXT NOT NULL,
                id TEXT NOT NULL,
                seq INTEGER NOT NULL UNIQUE,
                body TEXT NOT NULL,
                job TEXT NOT NULL,
                state TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                placement_market TEXT,
                placement_instance_type TEXT,
                placement_zone TEXT,
                placement_start TEXT,
                placement_price_per_hour_usd REAL,
                placement_expected_cost_usd REAL,
                placement_fallback_at TEXT,
                instance_id TEXT,
                started_at TEXT,
                finished_at TEXT,
                cost_so_far_usd REAL NOT NULL,
                done_hours REAL NOT NULL,
                last_error TEXT,
                version INTEGER NOT NULL,
                submitted_at TEXT NOT NULL,
                PRIMARY KEY (team, id)
            );
            INSERT INTO jobs_v3 (team, id, seq, body, job, state, attempt, placement_market, placement_instance_type, placement_zone,
                placement_start, placement_price_per_hour_usd, placement_expected_cost_usd, placement_fallback_at, instance_id, started_at,
                finished_at, cost_so_far_usd, done_hours, last_error, version, submitted_at)
            SELECT team, id, rowid, body, job, state, attempt, placement_market, placement_instance_type, placement_zone,
                placement_start, placement_price_per_hour_usd, placement_expected_cost_usd, placement_fallback_at, instance_id, started_at,
                finished_at, cost_so_far_usd, done_hours, last_error, version, submitted_at
            FROM jobs;
            CREATE TABLE job_events_v3 (
                team TEXT NOT NULL,
                job_id TEXT NOT NULL,
                seq INTEGER NOT NULL,
                at TEXT NOT NULL,
                from_state TEXT,
                to_state TEXT NOT NULL,
                cause TEXT NOT NULL,
                PRIMARY KEY (team, job_id, seq),
                FOREIGN KEY (team, job_id) REFERENCES jobs_v3 (team, id)
            ) WITHOUT ROWID;
            INSERT INTO job_events_v3 (team, job_id, seq, at, from_state, to_state, cause)
            SELECT j.team, e.job_id, e.seq, e.at, e.from_state, e.to_state, e.cause
            FROM job_events e JOIN jobs j ON j.id = e.job_id;
            DROP TABLE job_events;
            DROP TABLE jobs;
            ALTER TABLE jobs_v3 RENAME TO jobs;
            ALTER TABLE job_events_v3 RENAME TO job_events;
            CREATE INDEX jobs_by_state ON jobs (state);
            CREATE INDEX jobs_by_team_state ON jobs (team, state);
            """),
        // One control loop (issue 11): a launch's intent (its exact request) is stored before the backend is called, and
        // cost accrues every tick from price × time up to `cost_accrued_at`. Rows from before have neither: a launched
        // job's request is rebuilt as before, and its cost accrues from its instance's start (what it had is kept).
        new(4, """
            ALTER TABLE jobs ADD COLUMN launch_intent TEXT;
            ALTER TABLE jobs ADD COLUMN cost_accrued_at TEXT;
            """),
        // A placement names the provider of its offer, so the launch goes to the backend serving it (issue 11). Rows
        // placed before keep NULL: the service's default provider.
        new(5, "ALTER TABLE jobs ADD COLUMN placement_provider TEXT"),
        // Two schedulers (issue 15): the one leader lease of the store, and its epoch, which fences the leader's writes.
        // One row at most (id 1); absent until a replica first takes the lease, and then never deleted, so the epoch
        // only grows.
        new(6, """
            CREATE TABLE leader_lease (
                id INTEGER PRIMARY KEY CHECK (id = 1),
                holder TEXT NOT NULL,
                epoch INTEGER NOT NULL,
                expires_at TEXT NOT NULL
            );
            """),
        // Dollar budgets (issue 16): a team's budget set through the admin API, over the configuration's. One row per team,
        // replaced by the next PUT; `period` is the wire word (day, week, month).
        new(7, """
            CREATE TABLE team_budgets (
                team TEXT NOT NULL PRIMARY KEY,
                period TEXT NOT NULL,
                limit_usd REAL NOT NULL,
                updated_at TEXT NOT NULL
            );
            """),
        // Interruption rates per pool (issue 16): one row per attempt that ran, keyed by (team, job, attempt), written in the
        // job update's own transaction (AttemptLog): a start once (INSERT OR IGNORE), an end only while it has none, so a
        // retried update never counts twice. Times are Unix seconds, not the jobs' ISO text: the look-back compares them
        // and the exposure sums their differences, in SQL, for any offset the writer used.
        new(8, """
            CREATE TABLE attempts (
                team TEXT NOT NULL,
                job_id TEXT NOT NULL,
                attempt INTEGER NOT NULL,
                provider TEXT NOT NULL,
                zone TEXT NOT NULL,
                instance_type TEXT NOT NULL,
                market TEXT NOT NULL,
                started_unix_s REAL NOT NULL,
                ended_unix_s REAL,
                outcome TEXT,
                PRIMARY KEY (team, job_id, attempt)
            ) WITHOUT ROWID;
            CREATE INDEX attempts_by_end ON attempts (ended_unix_s) WHERE market = 'spot';
            """),
        // Bounded reads per cycle (issue 16): fair share, budgets and the run history read only the jobs finished inside
        // their window (JobQuery.FinishedSince), not every job ever finished. Times are round-trip text with their
        // offset, so the index is on julianday(), which reads the offset and compares instants (deterministic: no 'now').
        new(9, "CREATE INDEX jobs_by_state_finished ON jobs (state, julianday(finished_at))"),
    ];

    public static int Latest(IReadOnlyList<Migration> migrations) => migrations.Count == 0 ? 0 : migrations[^1].Version;

    /// <summary>Runs the steps the file has not seen, in order, in one immediate transaction.</summary>
    /// <exception cref="InvalidOperationException">The list is out of order, or the file was written by newer code.</exception>
    internal static async Task<int> MigrateAsync(SqliteConnection connection, IReadOnlyList<Migration> migrations, CancellationToken cancellationToken)
    {
        for (var i = 0; i < migrations.Count; i++)
        {
            if (migrations[i].Version != i + 1)
            {
                throw new InvalidOperationException($"migration #{i + 1} says version {migrations[i].Version}: versions must be 1, 2, 3, ... in order");
            }
        }
        await using var tx = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        var current = await UserVersionAsync(connection, tx, cancellationToken);
        var latest = Latest(migrations);
        if (current > latest)
        {
            throw new InvalidOperationException(
                $"the store file is at schema version {current}, newer than this program knows ({latest}): upgrade Spotwise, or use another file");
        }
        foreach (var step in migrations.Where(m => m.Version > current))
        {
            await using var command = connection.CreateCommand();
            command.Transaction = tx;
            // PRAGMA takes no parameters; the number comes from the list above, never from input.
            command.CommandText = step.Sql + ";\nPRAGMA user_version = " + step.Version.ToString(CultureInfo.InvariantCulture) + ";";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        await tx.CommitAsync(cancellationToken);
        return latest;
    }

    internal static async Task<int> UserVersionAsync(SqliteConnection connection, SqliteTransaction? tx, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
    }
}
