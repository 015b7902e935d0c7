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
