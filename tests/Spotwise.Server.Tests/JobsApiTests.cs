using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;

namespace Spotwise.Server.Tests;

public sealed class JobsApiTests : IAsyncLifetime, IDisposable
{
    private const string Job1 = """{"jobId":"job-1","priority":5,"deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_small"}}""";

    private readonly SpotwiseServerFactory _factory = new();
    private HttpClient _teamA = null!;
    private HttpClient _teamB = null!;

    public Task InitializeAsync()
    {
        _teamA = _factory.ClientFor("k1");
        _teamB = _factory.ClientFor("k2");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    public void Dispose()
    {
        _teamA.Dispose();
        _teamB.Dispose();
        _factory.Dispose();
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private IJobStore Store => _factory.Services.GetRequiredService<IJobStore>();

    [Fact]
    public async Task A_new_job_is_created_with_its_location_and_shows_queued_or_planned()
    {
        var response = await _teamA.PostAsync("/api/jobs", Json(Job1));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/api/jobs/job-1", response.Headers.Location?.OriginalString);
        var created = await response.Content.ReadFromJsonAsync<JobView>();
        Assert.Equal("job-1", created!.JobId);
        Assert.Equal("team-a", created.Team);
        Assert.Equal(SpotwiseServerFactory.Start.AddHours(24), created.Deadline);

        var view = await _teamA.GetFromJsonAsync<JobView>("/api/jobs/job-1");
        Assert.True(view!.State is "queued" or "planned", view.State);
        Assert.Equal("queued", view.Events![0].To);
        Assert.Equal("submitted", view.Events[0].Cause);
    }

    [Fact]
    public async Task The_same_body_again_is_answered_200_with_the_same_job_even_with_other_whitespace()
    {
        var first = await _teamA.PostAsync("/api/jobs", Json(Job1));
        var again = await _teamA.PostAsync("/api/jobs", Json(Job1));
        var spaced = await _teamA.PostAsync("/api/jobs", Json(Job1.Replace(",", ",\n    ", StringComparison.Ordinal).Replace(":", " : ", StringComparison.Ordinal)));

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(HttpStatusCode.OK, spaced.StatusCode);
        Assert.Equal("job-1", (await spaced.Content.ReadFromJsonAsync<JobView>())!.JobId);
        Assert.Single(await Store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task A_different_body_under_a_used_id_is_a_409_problem()
    {
        await _teamA.PostAsync("/api/jobs", Json(Job1));

        var response = await _teamA.PostAsync("/api/jobs", Json(Job1.Replace("\"priority\":5", "\"priority\":9", StringComparison.Ordinal)));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
        Assert.Contains("job-1", problem!.Detail, StringComparison.Ordinal);
        Assert.Equal(5, (await Store.GetAsync(new JobKey("team-a", "job-1"), default))!.Job.Priority);
    }

    [Fact]
    public async Task A_bad_batch_element_is_a_400_naming_its_index_and_field_and_nothing_is_stored()
    {
        var bad = """{"jobId":"job-2","estimatedDurationHours":-3,"resourceRequirements":{"type":"cpu_small"}}""";

        var response = await _teamA.PostAsync("/api/jobs", Json($"[{Job1},{bad}]"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<HttpValidationProblemDetails>();
        var message = Assert.Single(problem!.Errors["jobs[1].estimatedDurationHours"]);
        Assert.Contains("job-2", message, StringComparison.Ordinal);
        Assert.Contains("-3", message, StringComparison.Ordinal);
        Assert.Empty(await Store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task A_single_bad_job_is_a_400_keyed_by_the_field()
    {
        var response = await _teamA.PostAsync("/api/jobs", Json("""{"jobId":"job-9","estimatedDurationHours":1,"resourceRequirements":{"type":"cpu_small"},"deadline":"tomorrow"}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<HttpValidationProblemDetails>();
        Assert.Contains("tomorrow", Assert.Single(problem!.Errors["deadline"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_bad_scheduling_window_is_a_400_naming_windows_and_the_value()
    {
        var response = await _teamA.PostAsync("/api/jobs", Json("""{"jobId":"job-9","estimatedDurationHours":1,"resourceRequirements":{"type":"cpu_small"},"windows":["Sat-Sun","Mon-Fry 20:00-06:00"]}"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<HttpValidationProblemDetails>();
        Assert.Contains("Mon-Fry", Assert.Single(problem!.Errors["windows[1]"]), StringComparison.Ordinal);
        Assert.Empty(await Store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task A_job_with_scheduling_windows_is_stored_and_shown_with_them()
    {
        var response = await _teamA.PostAsync("/api/jobs", Json("""{"jobId":"job-9","estimatedDurationHours":1,"resourceRequirements":{"type":"cpu_small"},"windows":["Mon-Fri 20:00-06:00 Europe/Berlin","Sat-Sun"]}"""));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var view = await _teamA.GetFromJsonAsync<JobView>("/api/jobs/job-9");
        Assert.Equal(["Mon-Fri 20:00-06:00 Europe/Berlin", "Sat-Sun"], view!.Windows);
    }

    [Fact]
    public async Task A_batch_answers_each_job_with_its_outcome()
    {
        await _teamA.PostAsync("/api/jobs", Json(Job1));
        var job2 = Job1.Replace("job-1", "job-2", StringComparison.Ordinal);

        var response = await _teamA.PostAsync("/api/jobs", Json($"[{Job1},{job2}]"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var items = await response.Content.ReadFromJsonAsync<List<SubmitItemView>>();
        Assert.NotNull(items);
        Assert.Equal(["duplicate", "created"], items.Select(i => i.Outcome));
        Assert.Equal("job-2", items[1].Job?.JobId);
    }

    [Fact]
    public async Task A_request_without_a_key_or_with_an_unknown_key_is_401()
    {
        using var anonymous = _factory.CreateClient();
        using var stranger = _factory.ClientFor("nope");

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.PostAsync("/api/jobs", Json(Job1))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/api/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/healthz")).StatusCode);
    }

    [Fact]
    public async Task Another_team_neither_sees_nor_cancels_a_job_it_gets_404()
    {
        await _teamA.PostAsync("/api/jobs", Json(Job1));

        Assert.Equal(HttpStatusCode.NotFound, (await _teamB.GetAsync("/api/jobs/job-1")).StatusCode);
        Assert.Empty((await _teamB.GetFromJsonAsync<List<JobView>>("/api/jobs"))!);
        Assert.Equal(HttpStatusCode.NotFound, (await _teamB.DeleteAsync("/api/jobs/job-1")).StatusCode);
        Assert.Single((await _teamA.GetFromJsonAsync<List<JobView>>("/api/jobs"))!);
        Assert.False((await Store.GetAsync(new JobKey("team-a", "job-1"), default))!.State.IsFinal());
    }

    [Fact]
    public async Task Two_teams_may_both_use_an_id_and_each_reads_and_cancels_only_its_own()
    {
        var fromA = await _teamA.PostAsync("/api/jobs", Json(Job1));
        var fromB = await _teamB.PostAsync("/api/jobs", Json(Job1.Replace("\"priority\":5", "\"priority\":9", StringComparison.Ordinal)));

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.Created), (fromA.StatusCode, fromB.StatusCode));
        var a = await _teamA.GetFromJsonAsync<JobView>("/api/jobs/job-1");
        var b = await _teamB.GetFromJsonAsync<JobView>("/api/jobs/job-1");
        Assert.Equal(("team-a", 5, "team-b", 9), (a!.Team, a.Priority, b!.Team, b.Priority));

        Assert.Equal(HttpStatusCode.OK, (await _teamB.DeleteAsync("/api/jobs/job-1")).StatusCode);

        Assert.Equal("cancelled", (await _teamB.GetFromJsonAsync<JobView>("/api/jobs/job-1"))!.State);
        var stillA = await _teamA.GetFromJsonAsync<JobView>("/api/jobs/job-1");
        Assert.NotEqual("cancelled", stillA!.State);
        Assert.DoesNotContain(stillA.Events!, e => e.To == "cancelled");
        Assert.Equal(["job-1"], (await _teamA.GetFromJsonAsync<List<JobView>>("/api/jobs?state=queued,planned"))!.Select(j => j.JobId));
    }

    [Fact]
    public async Task The_same_body_from_another_team_is_created_not_a_duplicate_of_the_first_teams_job()
    {
        await _teamA.PostAsync("/api/jobs", Json(Job1));

        var again = await _teamB.PostAsync("/api/jobs", Json(Job1));

        Assert.Equal(HttpStatusCode.Created, again.StatusCode);
        Assert.Equal("team-b", (await again.Content.ReadFromJsonAsync<JobView>())!.Team);
    }

    [Fact]
    public async Task A_cancelled_job_is_cancelled_and_a_second_cancel_is_409_naming_its_state()
    {
        await _teamA.PostAsync("/api/jobs", Json(Job1));

        var cancel = await _teamA.DeleteAsync("/api/jobs/job-1");
        var again = await _teamA.DeleteAsync("/api/jobs/job-1");

        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        Assert.Equal("cancelled", (await _teamA.GetFromJsonAsync<JobView>("/api/jobs/job-1"))!.State);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("cancelled", (await again.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_list_filters_by_state_and_refuses_an_unknown_state_naming_it()
    {
        await _teamA.PostAsync("/api/jobs", Json(Job1));
        await _teamA.DeleteAsync("/api/jobs/job-1");

        var cancelled = await _teamA.GetFromJsonAsync<List<JobView>>("/api/jobs?state=cancelled");
        var running = await _teamA.GetFromJsonAsync<List<JobView>>("/api/jobs?state=running");
        var bad = await _teamA.GetAsync("/api/jobs?state=sleeping");

        Assert.Equal("job-1", Assert.Single(cancelled!).JobId);
        Assert.Empty(running!);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("sleeping", Assert.Single((await bad.Content.ReadFromJsonAsync<HttpValidationProblemDetails>())!.Errors["state"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_list_pages_with_a_next_link_until_the_last_page()
    {
        var batch = "[" + string.Join(",", Enumerable.Range(1, 5).Select(i => Job1.Replace("job-1", $"job-{i}", StringComparison.Ordinal))) + "]";
        await _teamA.PostAsync("/api/jobs", Json(batch));
        await _teamB.PostAsync("/api/jobs", Json(Job1.Replace("job-1", "b-1", StringComparison.Ordinal)));
        var seen = new List<string>();
        var links = new List<string>();

        string? url = "/api/jobs?limit=2";
        while (url is not null)
        {
            using var page = await _teamA.GetAsync(url);
            seen.AddRange((await page.Content.ReadFromJsonAsync<List<JobView>>())!.Select(j => j.JobId));
            url = page.Headers.TryGetValues("Link", out var link) ? Assert.Single(link).Split('>')[0].TrimStart('<') : null;
            links.Add(url ?? "(none)");
        }

        Assert.Equal(["job-1", "job-2", "job-3", "job-4", "job-5"], seen);
        Assert.Equal(["/api/jobs?limit=2&after=job-2", "/api/jobs?limit=2&after=job-4", "(none)"], links);
    }

    [Fact]
    public async Task A_page_cursor_that_is_not_the_teams_job_is_a_400_naming_after()
    {
        await _teamB.PostAsync("/api/jobs", Json(Job1));

        var others = await _teamA.GetAsync("/api/jobs?after=job-1");
        var unknown = await _teamA.GetAsync("/api/jobs?after=nope");

        Assert.Equal((HttpStatusCode.BadRequest, HttpStatusCode.BadRequest), (others.StatusCode, unknown.StatusCode));
        Assert.Contains("nope", Assert.Single((await unknown.Content.ReadFromJsonAsync<HttpValidationProblemDetails>())!.Errors["after"]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_running_jobs_cost_so_far_moves_between_two_GETs_and_money_and_metrics_read_the_same_figure()
    {
        await _teamA.PostAsync("/api/jobs", Json(Job1));
        await _factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);
        var loop = _factory.Services.GetRequiredService<Spotwise.Runtime.Reconciliation.ReconcileLoop>();
        await loop.TickAsync(default);
        // Past the boot: the instance runs and its cost accrues from then.
        _factory.Time.Advance(TimeSpan.FromMinutes(10));
        await loop.TickAsync(default);
        var first = await _teamA.GetFromJsonAsync<JobView>("/api/jobs/job-1");

        _factory.Time.Advance(TimeSpan.FromHours(1));
        await loop.TickAsync(default);
        var second = await _teamA.GetFromJsonAsync<JobView>("/api/jobs/job-1");

        Assert.Equal("running", second!.State);
        Assert.True(first!.CostSoFarUsd > 0, $"cost so far {first.CostSoFarUsd} after 10 minutes");
        var price = (await Store.GetAsync(new JobKey("team-a", "job-1"), default))!.Placement!.PricePerHourUsd;
        Assert.Equal(price, second.CostSoFarUsd - first.CostSoFarUsd, 9);
        var money = await _teamA.GetFromJsonAsync<MoneyView>("/api/money");
        Assert.Equal(Math.Round(second.CostSoFarUsd, 4), money!.SpentUsd);
        var metrics = await _teamA.GetStringAsync("/metrics");
        Assert.Contains(FormattableString.Invariant($"spotwise_spend_usd_total {second.CostSoFarUsd}"), metrics, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_plan_is_served_after_a_scheduler_cycle_and_the_job_is_planned()
    {
        await _teamA.PostAsync("/api/jobs", Json(Job1));

        await _factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);

        var response = await _teamA.GetAsync("/api/plan");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var plan = await response.Content.ReadFromJsonAsync<PlanDocument>();
        Assert.Equal("job-1", Assert.Single(plan!.Schedule).JobId);
        var view = await _teamA.GetFromJsonAsync<JobView>("/api/jobs/job-1");
        Assert.Equal("planned", view!.State);
        Assert.NotNull(view.InstanceType);
        Assert.NotNull(view.PlannedStart);
    }

    [Fact]
    public async Task A_team_sees_only_its_own_jobs_in_the_plan_with_the_whole_plans_totals()
    {
        // Not due at the frozen clock, so whichever cycle runs last (the server's own loop races this test's) plans both.
        var later = Job1.Replace("\"priority\":5,", "\"priority\":5,\"earliestStart\":\"+1h\",", StringComparison.Ordinal);
        await _teamA.PostAsync("/api/jobs", Json(later));
        await _teamB.PostAsync("/api/jobs", Json(later.Replace("job-1", "secret-b", StringComparison.Ordinal)));
        await _factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);

        var planA = await _teamA.GetFromJsonAsync<PlanDocument>("/api/plan");
        var textB = await _teamB.GetStringAsync("/api/plan");

        Assert.Equal("job-1", Assert.Single(planA!.Schedule).JobId);
        Assert.Equal(2, planA.Totals.JobsPlanned);
        Assert.DoesNotContain("job-1", textB, StringComparison.Ordinal);
        Assert.Contains("secret-b", textB, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_team_sees_its_own_job_of_a_shared_id_in_the_plan_under_the_plain_id()
    {
        // Not due for an hour, so no cycle treats one as launching and leaves it out of the plan. The service's own loop
        // plans on each submission too: a cycle of its that read the queue between the two posts may store its plan after
        // this test's, but the second post's signal brings a later cycle that holds both, so the latest plan soon does.
        var later = Job1.Replace("\"priority\":5,", "\"priority\":5,\"earliestStart\":\"+1h\",", StringComparison.Ordinal);
        await _teamA.PostAsync("/api/jobs", Json(later));
        await _teamB.PostAsync("/api/jobs", Json(later));
        await _factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);
        await LatestPlanHoldsAsync(2);

        var planA = await _teamA.GetFromJsonAsync<PlanDocument>("/api/plan");
        var planB = await _teamB.GetFromJsonAsync<PlanDocument>("/api/plan");

        Assert.Equal(("job-1", "job-1"), (Assert.Single(planA!.Schedule).JobId, Assert.Single(planB!.Schedule).JobId));
        Assert.Equal(2, planA.Totals.JobsPlanned);
        // The stored plan names both jobs by key; the API never shows the prefix.
        Assert.Equal(["team-a/job-1", "team-b/job-1"],
            (await Store.LatestPlanAsync(default))!.Schedule.Select(x => x.JobId).Order(StringComparer.Ordinal));
    }

    /// <summary>Waits on the store's change signal (no polling) until the latest stored plan places <paramref name="jobs"/> jobs, at most 10 s.</summary>
    private async Task LatestPlanHoldsAsync(int jobs)
    {
        var signal = _factory.Services.GetRequiredService<Spotwise.Server.Dashboard.ChangeSignal>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var next = signal.NextAsync(timeout.Token);
            if ((await Store.LatestPlanAsync(default))?.Totals.JobsPlanned == jobs)
            {
                return;
            }
            await next;
        }
    }

    [Fact]
    public async Task A_preview_returns_a_plan_and_stores_nothing()
    {
        var job2 = Job1.Replace("job-1", "job-2", StringComparison.Ordinal);

        var response = await _teamA.PostAsync("/api/plan/preview", Json($"[{Job1},{job2}]"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var plan = await response.Content.ReadFromJsonAsync<PlanDocument>();
        Assert.Equal(2, plan!.Schedule.Count + plan.Unplanned.Count);
        Assert.Equal(2, plan.Totals.JobsPlanned);
        Assert.Empty(await Store.ListAsync(new JobQuery(), default));
        Assert.Null(await Store.LatestPlanAsync(default));
    }

    [Fact]
    public async Task A_preview_with_a_bad_job_is_a_400()
    {
        var response = await _teamA.PostAsync("/api/plan/preview", Json("""[{"jobId":"x","estimatedDurationHours":1,"resourceRequirements":{"type":"cpu_huge"}}]"""));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<HttpValidationProblemDetails>();
        Assert.Contains(problem!.Errors.Keys, k => k.StartsWith("jobs[0].", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_batch_over_1000_jobs_is_a_400_and_a_body_over_4_MiB_is_a_413()
    {
        var many = "[" + string.Join(",", Enumerable.Range(0, 1001).Select(i => Job1.Replace("job-1", $"job-{i}", StringComparison.Ordinal))) + "]";
        var huge = "[" + new string(' ', (4 * 1024 * 1024) + 1) + "]";

        var tooMany = await _teamA.PostAsync("/api/jobs", Json(many));
        var tooLarge = await _teamA.PostAsync("/api/jobs", Json(huge));

        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("1001", Assert.Single((await tooMany.Content.ReadFromJsonAsync<HttpValidationProblemDetails>())!.Errors["body"]), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Empty(await Store.ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task A_job_naming_another_team_is_a_400_and_naming_its_own_is_fine()
    {
        var other = await _teamA.PostAsync("/api/jobs", Json(Job1.Replace("\"priority\":5", "\"team\":\"team-b\"", StringComparison.Ordinal)));
        var own = await _teamA.PostAsync("/api/jobs", Json(Job1.Replace("\"priority\":5", "\"team\":\"team-a\"", StringComparison.Ordinal)));

        Assert.Equal(HttpStatusCode.BadRequest, other.StatusCode);
        Assert.Contains("team-b", Assert.Single((await other.Content.ReadFromJsonAsync<HttpValidationProblemDetails>())!.Errors["team"]), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Created, own.StatusCode);
    }

    [Fact]
    public async Task The_plan_is_404_before_any_cycle()
    {
        Assert.Equal(HttpStatusCode.NotFound, (await _teamA.GetAsync("/api/plan")).StatusCode);
    }

    [Fact]
    public async Task A_jobs_file_posted_as_is_is_a_batch()
    {
        var file = await File.ReadAllTextAsync(RepoPaths.Sample("seed-jobs.json"));

        var response = await _teamA.PostAsync("/api/jobs", Json(file));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(4, (await Store.ListAsync(new JobQuery(Team: "team-a"), CancellationToken.None)).Count);
    }
}
