using System.Globalization;
using Microsoft.Data.Sqlite;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Storage.Sqlite.Tests;

/// <summary>
/// Rows as older versions of the schema wrote them, in plain SQL: today's store writes today's schema, so an old file
/// has to be made the old way. Versions 1 and 2 key jobs by id alone, ordered by rowid; version 3 keys them (team, id)
/// with an explicit seq, and has no launch intent or cost mark.
/// </summary>
internal static class OldSchemaRows
{
    private const string Columns =
        "id, team, body, job, state, attempt, placement_market, placement_instance_type, placement_zone, placement_start, " +
        "placement_price_per_hour_usd, placement_expected_cost_usd, placement_fallback_at, instance_id, started_at, finished_at, " +
        "cost_so_far_usd, done_hours, last_error, version, submitted_at";

    private const string Values =
        "@id, @team, @body, @job, @state, @attempt, @market, @type, @zone, @start, @price, @expected, @fallback, @instance, @started, " +
        "@finished, @cost, @done, @error, @version, @at";

    /// <summary>A job and its events as versions 1 and 2 wrote them.</summary>
    public static async Task InsertJobAsync(string path, JobRecord r, string body, params JobEvent[] events)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var job = connection.CreateCommand();
        job.CommandText = $"INSERT INTO jobs ({Columns}) VALUES ({Values});";
        Bind(job, r, body);
        await job.ExecuteNonQueryAsync();
        foreach (var e in events)
        {
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO job_events (job_id, seq, at, from_state, to_state, cause) VALUES (@id, @seq, @at, @from, @to, @cause);";
            insert.Parameters.AddWithValue("@id", e.JobId);
            BindEvent(insert, e);
            await insert.ExecuteNonQueryAsync();
        }
    }

    /// <summary>A job and its events as version 3 wrote them: keyed (team, id), listed by <paramref name="seq"/>.</summary>
    public static async Task InsertVersion3JobAsync(string path, JobRecord r, string body, int seq, params JobEvent[] events)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var job = connection.CreateCommand();
        job.CommandText = $"INSERT INTO jobs ({Columns}, seq) VALUES ({Values}, @seq);";
        Bind(job, r, body);
        job.Parameters.AddWithValue("@seq", seq);
        await job.ExecuteNonQueryAsync();
        foreach (var e in events)
        {
            await using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO job_events (team, job_id, seq, at, from_state, to_state, cause) VALUES (@team, @id, @seq, @at, @from, @to, @cause);";
            insert.Parameters.AddWithValue("@team", e.Team);
            insert.Parameters.AddWithValue("@id", e.JobId);
            BindEvent(insert, e);
            await insert.ExecuteNonQueryAsync();
        }
    }

    private static void Bind(SqliteCommand job, JobRecord r, string body)
    {
        var p = r.Placement;
        foreach (var (name, value) in new (string, object?)[]
        {
            ("@id", r.Id), ("@team", r.Team), ("@body", body), ("@job", StoredJob.Write(r.Job)), ("@state", r.State.ToWire()),
            ("@attempt", r.Attempt), ("@market", p?.Market.ToWire()), ("@type", p?.InstanceType), ("@zone", p?.Zone),
            ("@start", Time(p?.PlannedStart)), ("@price", p?.PricePerHourUsd), ("@expected", p?.ExpectedCostUsd),
            ("@fallback", Time(p?.FallbackAt)), ("@instance", r.InstanceId), ("@started", Time(r.StartedAt)), ("@finished", Time(r.FinishedAt)),
            ("@cost", r.CostSoFarUsd), ("@done", r.DoneHours), ("@error", r.LastError), ("@version", r.Version), ("@at", Time(r.SubmittedAt)),
        })
        {
            job.Parameters.AddWithValue(name, value ?? DBNull.Value);
        }
    }

    private static void BindEvent(SqliteCommand insert, JobEvent e)
    {
        insert.Parameters.AddWithValue("@seq", e.Sequence);
        insert.Parameters.AddWithValue("@at", Time(e.At));
        insert.Parameters.AddWithValue("@from", (object?)e.From?.ToWire() ?? DBNull.Value);
        insert.Parameters.AddWithValue("@to", e.To.ToWire());
        insert.Parameters.AddWithValue("@cause", e.Cause);
    }

    private static string? Time(DateTimeOffset? t) => t?.ToString("O", CultureInfo.InvariantCulture);
}
