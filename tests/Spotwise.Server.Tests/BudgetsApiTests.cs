using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Runtime;

namespace Spotwise.Server.Tests;

/// <summary>
/// Dollar budgets through the API: the admin key sets them, a team key reads its own, the intake refuses what the
/// budget cannot pay for, and the scheduler leaves out what it cannot plan within it (docs/teams.md#budgets).
/// </summary>
public sealed class BudgetsApiTests : IAsyncLifetime, IDisposable
{
    private const string AdminKey = "admin-secret";
    private const string Job1 = """{"jobId":"job-1","deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_small"}}""";
    private const string Later = """{"jobId":"later","earliestStart":"+2h","deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_small"}}""";

    private readonly SpotwiseServerFactory _factory = new(new Dictionary<string, string>
    {
        [Server.AdminKey.EnvironmentVariable] = AdminKey,
        // team-c has a key and no budget.
        ["Spotwise:ApiKeys"] = "k1=team-a,k2=team-b,k3=team-c",
        ["Spotwise:Budgets:team-b:Period"] = "day",
        ["Spotwise:Budgets:team-b:LimitUsd"] = "5",
    });

    private HttpClient _admin = null!;
    private HttpClient _teamA = null!;
    private HttpClient _teamB = null!;
    private HttpClient _anonymous = null!;

    public Task InitializeAsync()
    {
        _admin = _factory.ClientFor(AdminKey);
        _teamA = _factory.ClientFor("k1");
        _teamB = _factory.ClientFor("k2");
        _anonymous = _factory.CreateClient();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    public void Dispose()
    {
        _admin.Dispose();
        _teamA.Dispose();
        _teamB.Dispose();
        _anonymous.Dispose();
        _factory.Dispose();
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private IJobStore Store => _factory.Services.GetRequiredService<IJobStore>();

    private static Task<HttpResponseMessage> PutBudgetAsync(HttpClient client, string team, string body) => client.PutAsync($"/api/teams/{team}/budget", Json(body));

    [Fact]
    public async Task The_admin_key_sets_a_budget_and_the_team_reads_it_back_for_the_utc_week_starting_monday()
    {
        var put = await PutBudgetAsync(_admin, "team-a", """{"period": "week", "limitUsd": 100}""");

        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        var read = await _teamA.GetFromJsonAsync<BudgetView>("/api/teams/team-a/budget");
        // The factory's clock starts on Monday 2 March 2026, 08:00 UTC.
        Assert.Equal(new BudgetView("team-a", "week", new(2026, 3, 2, 0, 0, 0, TimeSpan.Zero), new(2026, 3, 9, 0, 0, 0, TimeSpan.Zero), 100, 0, 0, 100), read);
        Assert.Equal(read, await _admin.GetFromJsonAsync<BudgetView>("/api/teams/team-a/budget"));
    }

    [Fact]
    public async Task A_team_key_may_not_set_a_budget_nor_read_another_teams_and_no_key_is_401()
    {
        Assert.Equal(HttpStatusCode.Forbidden, (await PutBudgetAsync(_teamA, "team-a", """{"period": "week", "limitUsd": 1000}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await PutBudgetAsync(_anonymous, "team-a", """{"period": "week", "limitUsd": 1000}""")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _teamA.GetAsync("/api/teams/team-b/budget")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await _anonymous.GetAsync("/api/teams/team-b/budget")).StatusCode);
        // The admin key is no team's: it cannot reach a team's jobs.
        Assert.Equal(HttpStatusCode.Forbidden, (await _admin.GetAsync("/api/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.GetAsync("/api/teams/team-a/budget")).StatusCode);
    }

    [Fact]
    public async Task A_bad_budget_body_is_400_naming_each_field_and_its_value()
    {
        var response = await PutBudgetAsync(_admin, "team-a", """{"period": "fortnight", "limitUsd": -5, "currency": "EUR"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<ValidationProblemDetails>())!;
        Assert.Contains("\"fortnight\"", problem.Errors["period"][0], StringComparison.Ordinal);
        Assert.Contains("-5", problem.Errors["limitUsd"][0], StringComparison.Ordinal);
        Assert.Contains("currency", problem.Errors["currency"][0], StringComparison.Ordinal);
        var notJson = await PutBudgetAsync(_admin, "team-a", "{\"period\": ");
        Assert.Equal(HttpStatusCode.BadRequest, notJson.StatusCode);
        Assert.True((await notJson.Content.ReadFromJsonAsync<ValidationProblemDetails>())!.Errors.ContainsKey("body"));
        Assert.Equal(HttpStatusCode.NotFound, (await _teamA.GetAsync("/api/teams/team-a/budget")).StatusCode);
    }

    [Fact]
    public async Task A_configured_budget_is_read_and_a_budget_set_through_the_api_overrides_it()
    {
        var configured = await _teamB.GetFromJsonAsync<BudgetView>("/api/teams/team-b/budget");
        Assert.Equal(("day", 5.0, new DateTimeOffset(2026, 3, 3, 0, 0, 0, TimeSpan.Zero)), (configured!.Period, configured.LimitUsd, configured.PeriodEnd));

        await PutBudgetAsync(_admin, "team-b", """{"period": "month", "limitUsd": 250.5}""");

        var set = await _teamB.GetFromJsonAsync<BudgetView>("/api/teams/team-b/budget");
        Assert.Equal(("month", 250.5, new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 4, 1, 0, 0, 0, TimeSpan.Zero)),
            (set!.Period, set.LimitUsd, set.PeriodStart, set.PeriodEnd));
    }

    [Fact]
    public async Task The_budget_counts_what_ran_in_the_period_and_what_the_plan_commits()
    {
        await PutBudgetAsync(_admin, "team-a", """{"period": "week", "limitUsd": 100}""");
        await _teamA.PostAsync("/api/jobs", Json(Job1));
        await AccrueAsync("job-1", 1.25);
        await _teamA.DeleteAsync("/api/jobs/job-1");
        await _teamA.PostAsync("/api/jobs", Json(Later));
        await _factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);
        var planned = (await Store.GetAsync(new JobKey("team-a", "later"), default))!;
        Assert.Equal(JobState.Planned, planned.State);

        var budget = (await _teamA.GetFromJsonAsync<BudgetView>("/api/teams/team-a/budget"))!;

        Assert.Equal(1.25, budget.SpentUsd, 6);
        Assert.Equal(planned.Placement!.ExpectedCostUsd, budget.CommittedUsd, 4);
        Assert.Equal(100 - 1.25 - budget.CommittedUsd, budget.LeftUsd, 4);
    }

    [Fact]
    public async Task A_submission_the_budget_cannot_pay_for_is_409_with_the_figures_and_nothing_is_stored()
    {
        await PutBudgetAsync(_admin, "team-a", """{"period": "day", "limitUsd": 0}""");

        var response = await _teamA.PostAsync("/api/jobs", Json(Job1));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var root = problem.RootElement;
        Assert.Equal("Over budget", root.GetProperty("title").GetString());
        Assert.Equal(0, root.GetProperty("leftUsd").GetDouble());
        var needed = root.GetProperty("neededUsd").GetDouble();
        Assert.True(needed > 0, $"needed {needed}");
        var job = Assert.Single(root.GetProperty("jobs").EnumerateArray());
        Assert.Equal(("job-1", needed), (job.GetProperty("jobId").GetString(), job.GetProperty("neededUsd").GetDouble()));
        Assert.StartsWith("budget: team team-a has $0.00 left today", root.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await _teamA.GetAsync("/api/jobs/job-1")).StatusCode);
        // Another team's budget is not this one's.
        Assert.Equal(HttpStatusCode.Created, (await _teamB.PostAsync("/api/jobs", Json(Job1))).StatusCode);
    }

    [Fact]
    public async Task The_scheduler_leaves_out_a_planned_job_once_its_teams_budget_is_spent_and_says_so()
    {
        await _teamA.PostAsync("/api/jobs", Json(Later));
        var scheduler = _factory.Services.GetRequiredService<Scheduler>();
        await scheduler.RunCycleAsync(default);
        Assert.Equal(JobState.Planned, (await Store.GetAsync(new JobKey("team-a", "later"), default))!.State);

        await PutBudgetAsync(_admin, "team-a", """{"period": "week", "limitUsd": 0}""");
        await scheduler.RunCycleAsync(default);

        var job = await _teamA.GetFromJsonAsync<JobView>("/api/jobs/later");
        Assert.Equal("queued", job!.State);
        Assert.StartsWith("budget: team team-a has $0.00 left this week", job.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_overview_shows_the_teams_budget_as_the_API_reports_it_and_nothing_for_a_team_without_one()
    {
        await PutBudgetAsync(_admin, "team-a", """{"period": "week", "limitUsd": 100}""");
        await _teamA.PostAsync("/api/jobs", Json(Later));
        await _factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);
        var budget = (await _teamA.GetFromJsonAsync<BudgetView>("/api/teams/team-a/budget"))!;

        var html = await OverviewAsync("k1");

        Assert.True(budget.CommittedUsd > 0, "the planned job commits its expected cost");
        Assert.Contains($"data-budget=\"committed\">committed<b>{WebUtility.HtmlEncode(Components.Show.Usd(budget.CommittedUsd))}</b>", html, StringComparison.Ordinal);
        Assert.Contains($"data-budget=\"left\">left<b>{WebUtility.HtmlEncode(Components.Show.Usd(budget.LeftUsd))}</b>", html, StringComparison.Ordinal);
        Assert.Contains("data-budget=\"spent\">spent<b>$0.00</b>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-budget=", await OverviewAsync("k3"), StringComparison.Ordinal);
    }

    /// <summary>The overview page's HTML for a key signed in through the login form.</summary>
    private async Task<string> OverviewAsync(string key)
    {
        using var browser = _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        var login = await browser.PostAsync("/login", new FormUrlEncodedContent([KeyValuePair.Create("apiKey", key)]));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        return await (await browser.GetAsync("/")).Content.ReadAsStringAsync();
    }

    /// <summary>Gives a job accrued cost as the reconcile loop would (the loop may write the job meanwhile: read again and retry).</summary>
    private async Task AccrueAsync(string id, double usd)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var job = (await Store.GetAsync(new JobKey("team-a", id), default))!;
            if (await Store.TryUpdateAsync(job with { CostSoFarUsd = usd }, "test: cost accrued", _factory.Time.GetUtcNow(), default) is not null)
            {
                return;
            }
        }
        Assert.Fail($"{id} kept changing");
    }
}
