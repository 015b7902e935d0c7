using Npgsql;

namespace Spotwise.Storage.Postgres.Tests;

/// <summary>
/// A fresh, empty schema on the server scripts/postgres-up.sh started (SPOTWISE_STORE), dropped after the test: every
/// test has a database of its own to itself (the store's tables are found through the connection's search path),
/// without the cost of CREATE DATABASE per test.
/// </summary>
public sealed class TestSchema : IAsyncDisposable
{
    private TestSchema(string server, string name)
    {
        Server = server;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(server) { SearchPath = name }.ConnectionString;
    }

    public string Server { get; }

    public string Name { get; }

    /// <summary>SPOTWISE_STORE with this schema as the search path: what a store under test opens.</summary>
    public string ConnectionString { get; }

    public static async Task<TestSchema> CreateAsync()
    {
        var server = ServiceEnvironment.Require("SPOTWISE_STORE");
        var schema = new TestSchema(server, "test_" + Guid.NewGuid().ToString("N")[..16]);
        await schema.ExecuteAsync($"CREATE SCHEMA {schema.Name};");
        return schema;
    }

    /// <summary>Runs <paramref name="sql"/> on a connection of its own (outside any store), in this schema.</summary>
    public async Task<object?> ScalarAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync() => await ExecuteAsync($"DROP SCHEMA IF EXISTS {Name} CASCADE;");

    private async Task ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(Server);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
