using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Runtime.Tests;

/// <summary>A real SQLite store in a temporary folder, a fake clock at <see cref="Now"/>, and the real catalog.</summary>
public abstract class StoreTestBase : IAsyncLifetime
{
    protected static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private readonly string _folder = Path.Combine(Path.GetTempPath(), $"spotwise-runtime-{Guid.NewGuid():N}");

    protected static Catalog Catalog => ShippedData.Catalog;

    protected FakeTimeProvider Time { get; } = new(Now);

    protected SqliteJobStore Store { get; private set; } = null!;

    public async Task InitializeAsync() => Store = await SqliteJobStore.OpenAsync(Path.Combine(_folder, "jobs.db"), CancellationToken.None);

    public async Task DisposeAsync()
    {
        await Store.DisposeAsync();
        Directory.Delete(_folder, recursive: true);
    }

    /// <summary>A job that runs only on p3.2xlarge (1×V100), due <paramref name="deadlineHours"/> after <see cref="Now"/>.</summary>
    protected static Job P3Job(string id, double hours, double deadlineHours) => new()
    {
        Id = id,
        DurationHours = hours,
        Deadline = Now.AddHours(deadlineHours),
        Resources = ResourceRequest.ForInstanceTypes(["p3.2xlarge"]),
    };

    /// <summary>The team the tests submit as.</summary>
    protected const string Team = "ml";

    protected static JobKey Key(string id) => new(Team, id);

    protected Task<JobRecord?> Get(string id) => Store.GetAsync(Key(id), CancellationToken.None);
}
