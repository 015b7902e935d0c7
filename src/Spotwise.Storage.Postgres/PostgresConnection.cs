using System.Net.Sockets;
using Npgsql;

namespace Spotwise.Storage.Postgres;

/// <summary>What the store needs of a connection string, checked before anything connects.</summary>
public static class PostgresConnection
{
    /// <summary>Why <paramref name="connectionString"/> cannot name a PostgreSQL database, or null when it can.</summary>
    public static string? Problem(string? connectionString)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return "is empty; give a PostgreSQL connection string such as \"Host=db;Database=spotwise;Username=spotwise\"";
        }
        NpgsqlConnectionStringBuilder parsed;
        try
        {
            parsed = new NpgsqlConnectionStringBuilder(connectionString);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            return $"'{Redacted(connectionString)}' is not a PostgreSQL connection string ({e.Message}); give one such as \"Host=db;Database=spotwise;Username=spotwise\"";
        }
        return string.IsNullOrWhiteSpace(parsed.Host)
            ? $"'{Redacted(connectionString)}' names no Host; give one such as \"Host=db;Database=spotwise;Username=spotwise\""
            : null;
    }

    /// <summary>Where the string points (host, port, database, user), for messages: never the password.</summary>
    public static string Describe(string connectionString)
    {
        var b = new NpgsqlConnectionStringBuilder(connectionString);
        return $"PostgreSQL at {b.Host}:{b.Port}, database '{b.Database ?? b.Username}', user '{b.Username}'";
    }

    /// <summary>The string with any password replaced, for error messages.</summary>
    public static string Redacted(string connectionString)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(connectionString);
            if (b.Password is not null)
            {
                b.Password = "***";
            }
            return b.ConnectionString;
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidCastException)
        {
            // Unparseable: say nothing of what it holds beyond its length; it may contain a password.
            return $"<{connectionString.Length} characters>";
        }
    }

    /// <summary>The failures that mean "the database is not there" rather than a bug: refused, unknown host, bad login, timeout.</summary>
    internal static bool IsUnreachable(Exception e) =>
        e is NpgsqlException or SocketException or TimeoutException || (e.InnerException is { } inner && IsUnreachable(inner));
}

/// <summary>The store's database could not be reached or refused the login when the store opened: an operator's problem, not a bug.</summary>
public sealed class StoreUnavailableException(string message, Exception inner) : Exception(message, inner);
