using Npgsql;

namespace Spotwise.Bench;

/// <summary>
/// Where a bench keeps the service's queue: a temporary SQLite file, or a fresh schema (dropped after) on the
/// PostgreSQL the connection string names (SPOTWISE_STORE by default, as scripts/postgres-up.sh prints it), so every
/// run starts from an empty store without touching anything else in the database.
/// </summary>
public sealed class BenchStore : IAsyncDisposable
{
    private readonly string? _folder;
    private readonly string? _server;
    private readonly string? _schema;

    private BenchStore(string name, string? dbPath, string? connectionString, string? folder, string? server, string? schema)
    {
        Name = name;
        DbPath = dbPath;
        ConnectionString = connectionString;
        _folder = folder;
        _server = server;
        _schema = schema;
    }

    public const string Variable = "SPOTWISE_STORE";

    /// <summary><c>sqlite</c> or <c>postgres</c>.</summary>
    public string Name { get; }

    /// <summary>The SQLite file (null on PostgreSQL).</summary>
    public string? DbPath { get; }

    /// <summary>The PostgreSQL connection string, search path set to the fresh schema (null on SQLite).</summary>
    public string? ConnectionString { get; }

    public string Describe => DbPath is not null ? $"SQLite in {DbPath}" : $"PostgreSQL schema {_schema} ({Storage.Postgres.PostgresConnection.Describe(_server!)})";

    /// <summary>The <c>serve</c> flags that select this store.</summary>
    public string[] ServeFlags => DbPath is not null ? ["--db", DbPath] : ["--store", ConnectionString!];

    /// <summary>The configuration setting that selects this store.</summary>
    public string Setting => DbPath is not null ? $"--Spotwise:Db={DbPath}" : $"--Spotwise:Store={ConnectionString}";

    /// <summary>The stores <paramref name="choice"/> names (sqlite, postgres, both); an error when it names none or PostgreSQL has no server.</summary>
    public static (string[] Names, string? Error) Parse(string choice, string? server)
    {
        string[] names = choice switch
        {
            "sqlite" => ["sqlite"],
            "postgres" => ["postgres"],
            "both" => ["sqlite", "postgres"],
            _ => [],
        };
        if (names.Length == 0)
        {
            return ([], $"--store: '{choice}' is not a store; choose sqlite, postgres or both");
        }
        if (names.Contains("postgres") && Storage.Postgres.PostgresConnection.Problem(server) is { } problem)
        {
            return ([], $"--postgres (default ${Variable}): the connection string {problem}; run `bash scripts/postgres-up.sh` and export the line it prints");
        }
        return (names, null);
    }

    public static async Task<BenchStore> CreateAsync(string name, string? server, string purpose)
    {
        if (name == "sqlite")
        {
            var folder = Path.Combine(Path.GetTempPath(), $"spotwise-{purpose}-{Guid.NewGuid():N}");
            Directory.CreateDirectory(folder);
            return new BenchStore(name, Path.Combine(folder, "jobs.db"), null, folder, null, null);
        }
        var schema = $"bench_{purpose}_{Guid.NewGuid():N}"[..40];
        await ExecuteAsync(server!, $"CREATE SCHEMA {schema};");
        var connectionString = new NpgsqlConnectionStringBuilder(server) { SearchPath = schema }.ConnectionString;
        return new BenchStore(name, null, connectionString, null, server, schema);
    }

    public async ValueTask DisposeAsync()
    {
        if (_folder is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(_folder, recursive: true);
        }
        if (_schema is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await ExecuteAsync(_server!, $"DROP SCHEMA IF EXISTS {_schema} CASCADE;");
        }
    }

    private static async Task ExecuteAsync(string server, string sql)
    {
        await using var connection = new NpgsqlConnection(server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
