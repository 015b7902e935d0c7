using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Server.Tests;

/// <summary>What the service learned from finished jobs, as a team sees it: the estimate a plan used, on the API and the job page.</summary>
public sealed class LearningFromHistoryTests : IAsyncLifetime, IDisposable
{
    private static CancellationToken Ct => CancellationToken.None;

    // Read again every cycle, so the cycle the test runs sees the history it wrote.
    private readonly SpotwiseServerFactory _factory = new(new Dictionary<string, string> { ["Spotwise:History:RefreshEvery"] = "00:00:00" });

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    public void Dispose() => _factory.Dispose();

    private IJobStore Store => _factory.Services.GetRequiredService<IJobStore>();

    /// <summary>A cpu_small job of team-a estimated at one hour that ran two on its first attempt, moved through the store's states.</summary>
    private async Task FinishedAsync(string id)
    {
        var now = _factory.Time.GetUtcNow();
        var job = new Job { Id = id, DurationHours = 1, Resources = ResourceClasses.Presets["cpu_small"] };
        await Store.SubmitAsync([new Submission(job, "team-a", $"{{\"jobId\":\"{id}\"}}")], now, Ct);
        var started = now.AddHours(-5);
        var key = new JobKey("team-a", id);
        await MoveAsync(key, r => r with { State = JobState.Planned, Placement = new Placement(Market.OnDemand, "m5.large", "us-east-1", started, 0.096, 0.096, null) });
        await MoveAsync(key, r => r with { State = JobState.Launching, Attempt = 1 });
        await MoveAsync(key, r => r with { State = JobState.Running, StartedAt = started });
        await MoveAsync(key, r => r with { State = JobState.Succeeded, FinishedAt = started.AddHours(2), DoneHours = 1 });
    }

    /// <summary>One change on the latest record; the service's own loops may write the job meanwhile, so a lost race reads again.</summary>
    private async Task MoveAsync(JobKey key, Func<JobRecord, JobRecord> change)
    {
        for (var i = 0; i < 5; i++)
        {
            if (await Store.TryUpdateAsync(change((await Store.GetAsync(key, Ct))!), "test history", _factory.Time.GetUtcNow(), Ct) is not null)
            {
                return;
            }
        }
        Assert.Fail($"could not move {key}");
    }

    [Fact]
    public async Task The_job_view_and_page_show_the_estimate_the_plan_used()
    {
        for (var i = 0; i < 5; i++)
        {
            await FinishedAsync($"past-{i}");
        }
        using var api = _factory.ClientFor("k1");
        var body = """{"jobId":"next","deadline":"+24h","estimatedDurationHours":2,"requiredResourceType":"cpu_small"}""";
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"))).StatusCode);
        await _factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(Ct);

        var view = await api.GetFromJsonAsync<JsonElement>("/api/jobs/next");

        // Five jobs at 2x against the prior (two jobs at 1x): 2^(5/7) = 1.64.
        var estimate = view.GetProperty("estimate");
        Assert.Equal((2.0, 1.64, 3.28, 5), (estimate.GetProperty("submittedHours").GetDouble(), estimate.GetProperty("ratio").GetDouble(),
            Math.Round(estimate.GetProperty("usedHours").GetDouble(), 6), estimate.GetProperty("samples").GetInt32()));
        Assert.Equal(2.0, view.GetProperty("estimatedDurationHours").GetDouble());
        var planned = view.GetProperty("plannedStart").GetDateTimeOffset();
        Assert.Equal(planned.AddHours(3.28), view.GetProperty("plannedEnd").GetDateTimeOffset());

        using var browser = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        await browser.PostAsync("/login", new FormUrlEncodedContent([new KeyValuePair<string, string>("apiKey", "k1")]));
        var page = WebUtility.HtmlDecode(await browser.GetStringAsync("/jobs/next"));
        Assert.Contains("3.3 h = 2.0 h × 1.64 learned from 5 finished jobs of this team and resource", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_without_enough_history_shows_its_estimate_as_submitted()
    {
        using var api = _factory.ClientFor("k1");
        var body = """{"jobId":"first","deadline":"+24h","estimatedDurationHours":2,"requiredResourceType":"cpu_small"}""";
        await api.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"));

        var estimate = (await api.GetFromJsonAsync<JsonElement>("/api/jobs/first")).GetProperty("estimate");

        Assert.Equal((2.0, 1.0, 2.0, 0), (estimate.GetProperty("submittedHours").GetDouble(), estimate.GetProperty("ratio").GetDouble(),
            estimate.GetProperty("usedHours").GetDouble(), estimate.GetProperty("samples").GetInt32()));
    }

    [Fact]
    public async Task A_history_setting_out_of_range_stops_the_start_naming_it()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:History:PriorRatio"] = "-1" });

        var e = Assert.ThrowsAny<Exception>(() => factory.Services.GetRequiredService<Scheduler>());

        Assert.Contains("Spotwise:History:PriorRatio is -1", e.ToString(), StringComparison.Ordinal);
    }
}
