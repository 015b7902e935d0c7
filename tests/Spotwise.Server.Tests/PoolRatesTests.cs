using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Server.Tests;

/// <summary>The interruption rate a spot pool's own attempts taught, as a team sees it: on the price list, the why endpoint and the job page.</summary>
public sealed class PoolRatesTests : IAsyncLifetime, IDisposable
{
    private static CancellationToken Ct => CancellationToken.None;

    // Read again every cycle, so the cycle the test runs sees the attempts it wrote.
    private readonly SpotwiseServerFactory _factory = new(new Dictionary<string, string> { ["Spotwise:History:Pools:RefreshEvery"] = "00:00:00" });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    public void Dispose() => _factory.Dispose();

    private IJobStore Store => _factory.Services.GetRequiredService<IJobStore>();

    /// <summary>
    /// A p3.2xlarge job of another team that ran four hours on spot in the region's pool and was interrupted, then cancelled
    /// (so the service's loops leave it alone), moved through the store's states.
    /// </summary>
    private async Task InterruptedAsync(string id, int hoursAgo)
    {
        var now = _factory.Time.GetUtcNow();
        var job = new Job { Id = id, DurationHours = 8, Resources = ResourceRequest.ForInstanceTypes(["p3.2xlarge"]) };
        await Store.SubmitAsync([new Submission(job, "past", $"{{\"jobId\":\"{id}\"}}")], now, Ct);
        var key = new JobKey("past", id);
        var spot = new Placement(Market.Spot, "p3.2xlarge", "us-east-1", now, 0.612, 3, null) { Provider = "aws" };
        await MoveAsync(key, r => r with { State = JobState.Planned, Placement = spot }, now);
        await MoveAsync(key, r => r with { State = JobState.Launching, Attempt = 1 }, now);
        await MoveAsync(key, r => r with { State = JobState.Running, InstanceId = "i-" + id }, now.AddHours(-hoursAgo - 4));
        await MoveAsync(key, r => r with { State = JobState.Interrupted }, now.AddHours(-hoursAgo));
        await MoveAsync(key, r => r with { State = JobState.Cancelled }, now);
    }

    /// <summary>One change on the latest record; the service's own loops may write the job meanwhile, so a lost race reads again.</summary>
    private async Task MoveAsync(JobKey key, Func<JobRecord, JobRecord> change, DateTimeOffset at)
    {
        for (var i = 0; i < 5; i++)
        {
            if (await Store.TryUpdateAsync(change((await Store.GetAsync(key, Ct))!), "test attempts", at, Ct) is not null)
            {
                return;
            }
        }
        Assert.Fail($"could not move {key}");
    }

    [Fact]
    public async Task The_price_list_why_and_job_page_show_the_rate_a_pools_attempts_taught()
    {
        for (var i = 0; i < 5; i++)
        {
            await InterruptedAsync($"lost-{i}", 5 * i);
        }
        using var api = _factory.ClientFor("k1");
        var body = """{"jobId":"next","deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"instanceTypes":["p3.2xlarge"]}}""";
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode);
        await _factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(Ct);

        // 20 h and 5 interruptions against the band's 0.000394/h worth 100 h: (5 + 0.0394) / 120 = 0.042/h.
        var prices = await api.GetFromJsonAsync<JsonElement>("/api/prices?instanceType=p3.2xlarge");
        var p3 = Assert.Single(prices.GetProperty("prices").EnumerateArray());
        var pool = Assert.Single(p3.GetProperty("spotPools").EnumerateArray());
        Assert.Equal(("us-east-1", 20.0, 5), (pool.GetProperty("zone").GetString(), pool.GetProperty("exposureHours").GetDouble(), pool.GetProperty("interruptions").GetInt32()));
        Assert.Equal(0.042, pool.GetProperty("learnedInterruptionRatePerHour").GetDouble(), 4);
        Assert.Equal(InterruptionBands.HourlyRate(4), p3.GetProperty("spotInterruptionRatePerHour").GetDouble());

        var why = await api.GetFromJsonAsync<JsonElement>("/api/jobs/next/why");
        var placement = why.GetProperty("placement");
        Assert.Equal(("spot", "us-east-1"), (placement.GetProperty("market").GetString(), placement.GetProperty("zone").GetString()));
        var rate = placement.GetProperty("spotRate");
        Assert.Equal("learned", rate.GetProperty("source").GetString());
        Assert.StartsWith("learned 0.042/h from 20 h on us-east-1/p3.2xlarge (5 interruptions; band 4: 0.000394/h)", rate.GetProperty("text").GetString(), StringComparison.Ordinal);

        using var browser = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        await browser.PostAsync("/login", new FormUrlEncodedContent([new KeyValuePair<string, string>("apiKey", "k1")]));
        var page = WebUtility.HtmlDecode(await browser.GetStringAsync("/jobs/next"));
        Assert.Contains("spot interruption rate: learned 0.042/h from 20 h on us-east-1/p3.2xlarge", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pool_history_setting_out_of_range_stops_the_start_naming_it()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:History:Pools:MinimumHours"] = "0" });

        var e = Assert.ThrowsAny<Exception>(() => factory.Services.GetRequiredService<Scheduler>());

        Assert.Contains("Spotwise:History:Pools:MinimumHours is 0", e.ToString(), StringComparison.Ordinal);
    }
}
