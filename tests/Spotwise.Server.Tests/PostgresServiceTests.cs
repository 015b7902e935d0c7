using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Runtime;
using Spotwise.Storage.Postgres;
using Spotwise.Storage.Postgres.Tests;

namespace Spotwise.Server.Tests;

/// <summary>The whole service on PostgreSQL (Spotwise:Store), on the server scripts/postgres-up.sh started, in a fresh schema.</summary>
public sealed class PostgresServiceTests
{
    private const string Job1 = """{"jobId":"job-1","deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_small"}}""";

    [ServiceFact("SPOTWISE_STORE")]
    public async Task A_job_submitted_over_http_is_stored_in_postgresql_and_planned()
    {
        await using var schema = await TestSchema.CreateAsync();
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:Store"] = schema.ConnectionString });
        using var client = factory.ClientFor("k1");

        var response = await client.PostAsync("/api/jobs", new StringContent(Job1, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var store = factory.Services.GetRequiredService<IJobStore>();
        var deadline = TimeProvider.System.GetTimestamp() + (15 * TimeProvider.System.TimestampFrequency);
        while ((await store.GetAsync(new JobKey("team-a", "job-1"), default))?.State != JobState.Planned && TimeProvider.System.GetTimestamp() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
        Assert.Equal(JobState.Planned, (await store.GetAsync(new JobKey("team-a", "job-1"), default))!.State);
        // In PostgreSQL, not in the factory's SQLite file: another connection sees it, and the plan that placed it.
        Assert.Equal("planned", await schema.ScalarAsync("SELECT state FROM jobs WHERE team = 'team-a' AND id = 'job-1';"));
        Assert.True((long)(await schema.ScalarAsync("SELECT COUNT(*) FROM plans;"))! >= 1);
        Assert.False(File.Exists(factory.DbPath));
    }

    [Fact]
    public async Task An_unreachable_database_fails_the_start_with_where_it_was_looked_for()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string>
        {
            ["Spotwise:Store"] = "Host=127.0.0.1;Port=1;Database=spotwise;Username=spotwise;Timeout=5",
        });

        var e = Assert.ThrowsAny<Exception>(() => factory.CreateClient());

        Assert.Contains("PostgreSQL at 127.0.0.1:1", (e as StoreUnavailableException ?? e.InnerException as StoreUnavailableException)?.Message ?? e.ToString(),
            StringComparison.Ordinal);
    }
}
