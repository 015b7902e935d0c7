using System.Collections.Immutable;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;
using Spotwise.Server.Components;

namespace Spotwise.Server.Tests;

/// <summary>The dashboard's pages over HTTP (in memory): sign-in, team isolation, escaping, the forms. The browser tests
/// (Spotwise.Dashboard.Tests) drive the same pages in Chromium.</summary>
public sealed class DashboardTests : IAsyncLifetime, IDisposable
{
    private const string Script = "<script>alert(1)</script>";

    private readonly SpotwiseServerFactory _factory = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    public void Dispose() => _factory.Dispose();

    private HttpClient Browser() => _factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private async Task<HttpClient> SignedInAsync(string key)
    {
        var browser = Browser();
        var response = await browser.PostAsync("/login", Form(("apiKey", key)));
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return browser;
    }

    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    private async Task SubmitAsync(string key, string jobId)
    {
        using var api = _factory.ClientFor(key);
        var job = $$$"""{"jobId":{{{System.Text.Json.JsonSerializer.Serialize(jobId)}}},"deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_small"}}""";
        var response = await api.PostAsync("/api/jobs", new StringContent(job, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    /// <summary>The scheduler plans on its own loop after a submit: wait (bounded) until it has.</summary>
    private async Task UntilPlannedAsync(string jobId)
    {
        var store = _factory.Services.GetRequiredService<IJobStore>();
        for (var i = 0; i < 100 && (await store.GetAsync(new JobKey("team-a", jobId), default))?.State != JobState.Planned; i++)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        }
        Assert.Equal(JobState.Planned, (await store.GetAsync(new JobKey("team-a", jobId), default))?.State);
    }

    /// <summary>Team a's job submitted and planned by the service's own cycle, and team a's browser signed in.</summary>
    private async Task<HttpClient> PlannedAndSignedInAsync(string jobId)
    {
        await SubmitAsync("k1", jobId);
        await UntilPlannedAsync(jobId);
        return await SignedInAsync("k1");
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/submit")]
    [InlineData("/jobs/job-1")]
    [InlineData("/dashboard/events")]
    public async Task Without_a_sign_in_every_page_sends_the_visitor_to_the_login_form(string path)
    {
        using var browser = Browser();

        var response = await browser.GetAsync(path);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/login", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task A_known_key_posted_to_login_sets_an_HttpOnly_cookie_and_redirects_to_the_overview()
    {
        using var browser = Browser();

        var response = await browser.PostAsync("/login", Form(("apiKey", "k1")));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/", response.Headers.Location?.OriginalString);
        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        var overview = await browser.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, overview.StatusCode);
        Assert.Contains("data-team>team-a<", await overview.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_key_is_refused_with_the_reason_and_no_cookie()
    {
        using var browser = Browser();

        var response = await browser.PostAsync("/login", Form(("apiKey", "nope")));

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.False(response.Headers.Contains("Set-Cookie"));
        Assert.Contains("apiKey: this API key is not known", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Logging_out_drops_the_cookie_so_pages_ask_for_a_key_again()
    {
        using var browser = await SignedInAsync("k1");

        var logout = await browser.PostAsync("/logout", Form());

        Assert.Equal("/login", logout.Headers.Location?.OriginalString);
        Assert.Equal(HttpStatusCode.Redirect, (await browser.GetAsync("/")).StatusCode);
    }

    [Fact]
    public async Task A_team_sees_only_its_own_jobs_and_cannot_open_or_cancel_another_teams()
    {
        await SubmitAsync("k1", "secret-of-a");
        using var teamB = await SignedInAsync("k2");

        var overview = await (await teamB.GetAsync("/")).Content.ReadAsStringAsync();
        var page = await teamB.GetAsync("/jobs/secret-of-a");
        var cancel = await teamB.PostAsync("/dashboard/jobs/secret-of-a/cancel", Form());

        Assert.DoesNotContain("secret-of-a", overview, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, page.StatusCode);
        Assert.DoesNotContain("Cancel job", await page.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, cancel.StatusCode);
        var job = await _factory.Services.GetRequiredService<IJobStore>().GetAsync(new JobKey("team-a", "secret-of-a"), default);
        Assert.NotEqual(JobState.Cancelled, job!.State);
    }

    [Fact]
    public async Task A_job_named_like_a_script_is_shown_as_text_on_every_page()
    {
        // The intake refuses such an id now; a store written before it may still hold one, so pages must escape it.
        var job = new Spotwise.Core.Job { Id = Script, DurationHours = 2, Resources = Spotwise.Core.ResourceClasses.Presets["cpu_small"] };
        await _factory.Services.GetRequiredService<IJobStore>().SubmitAsync([new Submission(job, "team-a", "{}")], SpotwiseServerFactory.Start, default);
        using var browser = await SignedInAsync("k1");

        var overview = await (await browser.GetAsync("/")).Content.ReadAsStringAsync();
        var page = await (await browser.GetAsync("/jobs/" + Uri.EscapeDataString(Script))).Content.ReadAsStringAsync();

        foreach (var html in new[] { overview, page })
        {
            Assert.DoesNotContain(Script, html, StringComparison.Ordinal);
            Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_script_typed_into_the_submit_form_comes_back_as_text()
    {
        using var browser = await SignedInAsync("k1");

        var response = await browser.PostAsync("/dashboard/submit", Form(
            ("jobId", Script), ("estimatedDurationHours", "1"), ("resourceType", "cpu_small"), ("deadline", "+6h")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(Script, html, StringComparison.Ordinal);
        Assert.Contains("jobId: may hold only letters", WebUtility.HtmlDecode(html), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_submit_form_shows_the_APIs_messages_and_keeps_what_was_typed()
    {
        using var browser = await SignedInAsync("k1");

        var response = await browser.PostAsync("/dashboard/submit", Form(
            ("jobId", ""), ("priority", "x"), ("estimatedDurationHours", "-1"), ("resourceType", "cpu_small"), ("deadline", "+6h")));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains("jobId: is required", html, StringComparison.Ordinal);
        Assert.Contains("priority: must be a whole number from 1 to 10, found \"x\"", html, StringComparison.Ordinal);
        Assert.Contains("estimatedDurationHours: must be greater than 0, found -1", html, StringComparison.Ordinal);
        Assert.Contains("name=\"estimatedDurationHours\" value=\"-1\"", html, StringComparison.Ordinal);
        Assert.Empty(await _factory.Services.GetRequiredService<IJobStore>().ListAsync(new JobQuery(), default));
    }

    [Fact]
    public async Task A_good_submit_form_stores_the_job_for_the_signed_in_team_and_returns_to_the_overview()
    {
        using var browser = await SignedInAsync("k2");

        var response = await browser.PostAsync("/dashboard/submit", Form(
            ("jobId", "from-form"), ("priority", "7"), ("estimatedDurationHours", "1.5"), ("resourceType", "gpu_medium"), ("deadline", "+8h"),
            ("checkpointable", "on")));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/?submitted=from-form", response.Headers.Location?.OriginalString);
        var job = await _factory.Services.GetRequiredService<IJobStore>().GetAsync(new JobKey("team-b", "from-form"), default);
        Assert.Equal("team-b", job!.Team);
        Assert.Equal(7, job.Job.Priority);
        Assert.True(job.Job.Checkpointable);
        Assert.Equal(SpotwiseServerFactory.Start.AddHours(8), job.Job.Deadline);
    }

    [Fact]
    public async Task Cancelling_from_the_job_page_cancels_through_the_API_and_a_second_cancel_shows_why_not()
    {
        await SubmitAsync("k1", "to-cancel");
        using var browser = await SignedInAsync("k1");

        var first = await browser.PostAsync("/dashboard/jobs/to-cancel/cancel", Form());
        var second = await browser.PostAsync("/dashboard/jobs/to-cancel/cancel", Form());

        Assert.Equal("/jobs/to-cancel", first.Headers.Location?.OriginalString);
        var page = WebUtility.HtmlDecode(await (await browser.GetAsync(second.Headers.Location!.OriginalString)).Content.ReadAsStringAsync());
        Assert.Contains("job 'to-cancel' is already cancelled; it cannot be cancelled", page, StringComparison.Ordinal);
        Assert.Contains("data-job-state>cancelled<", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_team_opens_and_cancels_its_own_job_of_an_id_another_team_uses_too()
    {
        await SubmitAsync("k1", "shared");
        await SubmitAsync("k2", "shared");
        using var teamB = await SignedInAsync("k2");

        var cancel = await teamB.PostAsync("/dashboard/jobs/shared/cancel", Form());
        var page = WebUtility.HtmlDecode(await (await teamB.GetAsync("/jobs/shared")).Content.ReadAsStringAsync());

        Assert.Equal("/jobs/shared", cancel.Headers.Location?.OriginalString);
        Assert.Contains("data-job-state>cancelled<", page, StringComparison.Ordinal);
        var store = _factory.Services.GetRequiredService<IJobStore>();
        Assert.Equal(JobState.Cancelled, (await store.GetAsync(new JobKey("team-b", "shared"), default))!.State);
        Assert.NotEqual(JobState.Cancelled, (await store.GetAsync(new JobKey("team-a", "shared"), default))!.State);
    }

    [Fact]
    public async Task The_money_on_the_overview_is_the_money_the_API_reports()
    {
        using var browser = await PlannedAndSignedInAsync("costly");
        using var api = _factory.ClientFor("k1");

        var money = await api.GetFromJsonAsync<MoneyView>("/api/money");
        var html = await (await browser.GetAsync("/")).Content.ReadAsStringAsync();

        Assert.True(money!.ExpectedTotalUsd > 0, "the planned job has an expected cost");
        Assert.Contains($"data-money=\"expected\">expected total<b>{WebUtility.HtmlEncode(Show.Usd(money.ExpectedTotalUsd))}</b>", html, StringComparison.Ordinal);
        Assert.Contains($"data-money=\"on-demand\">all on-demand<b>{WebUtility.HtmlEncode(Show.Usd(money.OnDemandUsd))}</b>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_events_stream_says_change_when_a_job_is_submitted()
    {
        using var browser = await SignedInAsync("k1");
        using var stream = new StreamReader(await browser.GetStreamAsync("/dashboard/events"));
        Assert.Equal("event: hello", await stream.ReadLineAsync());

        await SubmitAsync("k1", "wakes-the-page");

        string? line;
        do
        {
            line = await stream.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        while (line is not null && line != "event: change");
        Assert.Equal("event: change", line);
    }

    /// <summary>A stored plan document from the <c>llm</c> planner whose raw proposal broke the rules
    /// <paramref name="violations"/> times, the first naming a script-like job, each repaired. Jobs are team-a's,
    /// named by key as the scheduler stores them (<c>team-a/job-1</c>).</summary>
    private static PlanDocument LlmPlan(int violations)
    {
        var broken = Enumerable.Range(0, violations)
            .Select(i => new Violation(ViolationKind.OverCapacity, "team-a/" + (i == 0 ? Script : $"job-{i}"), $"pool spot:us-east-1:c5.large holds 2, job {(i == 0 ? Script : $"job-{i}")} is a third"))
            .ToImmutableArray();
        var plan = new Plan("llm", SpotwiseServerFactory.Start, PlanStatus.Feasible, [], [], new PlanTotals(1, 2, 50, 1, 0, 4.5, 0, 0, 0))
        {
            Llm = new LlmReport
            {
                Model = "gemini/gemini-2.5-flash",
                LatencySeconds = 4.2,
                TokensIn = 2210,
                TokensOut = 160,
                Chunks = 1,
                RawProposalValid = false,
                Violations = broken,
                Repaired = [.. broken.Select(v => new LlmRepair(v.JobId!, "OverCapacity: " + v.Message))],
                Kept = 3,
                CostVsOptimizerPct = 1.25,
            },
        };
        return PlanDocument.From(plan);
    }

    [Fact]
    public async Task An_llm_plans_model_tokens_validity_violations_and_repairs_are_shown_from_the_stored_document_as_text()
    {
        // The jobs the violations name are team-a's: a team sees only its own jobs of the plan (PlanApi.TeamPlanAsync).
        var store = _factory.Services.GetRequiredService<IJobStore>();
        await store.SavePlanAsync(LlmPlan(violations: 25), SpotwiseServerFactory.Start, default);
        using var browser = await SignedInAsync("k1");
        using var otherTeam = await SignedInAsync("k2");

        var html = await (await browser.GetAsync("/")).Content.ReadAsStringAsync();
        var othersHtml = await (await otherTeam.GetAsync("/")).Content.ReadAsStringAsync();

        Assert.DoesNotContain("job-1", othersHtml, StringComparison.Ordinal);

        Assert.Contains("data-llm-model>gemini/gemini-2.5-flash<", html, StringComparison.Ordinal);
        Assert.Contains("data-llm-latency>4.2 s · 1 request(s)<", html, StringComparison.Ordinal);
        Assert.Contains("data-llm-tokens>2,210 · 160<", html, StringComparison.Ordinal);
        Assert.Contains("data-llm-valid=\"false\">invalid: 25 violation(s)<", html, StringComparison.Ordinal);
        Assert.Contains("data-llm-kept>3 · 25<", html, StringComparison.Ordinal);
        Assert.Contains("data-llm-cost-vs-optimizer>+1.25%<", WebUtility.HtmlDecode(html), StringComparison.Ordinal);
        Assert.Contains("<li data-kind=\"over-capacity\"><b>over-capacity</b> job-1: pool spot:us-east-1:c5.large holds 2, job job-1 is a third</li>", html, StringComparison.Ordinal);
        Assert.Contains("<li data-job-id=\"job-1\"><b>job-1</b>: OverCapacity: pool spot:us-east-1:c5.large holds 2, job job-1 is a third</li>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(Script, html, StringComparison.Ordinal);
        Assert.Contains("<b>over-capacity</b> &lt;script&gt;alert(1)&lt;/script&gt;: pool", html, StringComparison.Ordinal);
        Assert.Contains("<b>&lt;script&gt;alert(1)&lt;/script&gt;</b>: OverCapacity", html, StringComparison.Ordinal);
        // Each list is cut at 20 entries, with the count of the rest.
        Assert.Equal(2 * LlmPanel.ListRows, html.Split("<li data-").Length - 1);
        Assert.Equal(2, html.Split("data-llm-more=\"5\">and 5 more").Length - 1);
        Assert.DoesNotContain("<li data-job-id=\"job-20\"", html, StringComparison.Ordinal);
        Assert.DoesNotContain(" job-20:", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_job_is_a_404_page_of_the_dashboard_not_problem_json()
    {
        using var browser = await SignedInAsync("k1");

        var response = await browser.GetAsync("/jobs/no-such-job");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("<title>Job not found · Spotwise</title>", html, StringComparison.Ordinal);
        Assert.Contains("No job &#x27;no-such-job&#x27; for team team-a", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/\">Back to the overview</a>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_infeasible_plan_on_the_overview_says_how_many_jobs_are_unplanned_and_the_first_reasons()
    {
        var unplanned = Enumerable.Range(1, 5).Select(i => new UnplannedJob($"team-a/late-{i}", $"deadline in {i} h is shorter than the run of 4 h"))
            .Append(new UnplannedJob("team-b/theirs", "team b's own reason"))
            .ToImmutableArray();
        var plan = new Plan("greedy", SpotwiseServerFactory.Start, PlanStatus.Infeasible, [], unplanned, new PlanTotals(0, 0, 0, 0, 0, 0.1, 2, 6, 0));
        await _factory.Services.GetRequiredService<IJobStore>().SavePlanAsync(PlanDocument.From(plan), SpotwiseServerFactory.Start, default);
        using var browser = await SignedInAsync("k1");

        var html = await (await browser.GetAsync("/")).Content.ReadAsStringAsync();

        Assert.Contains("data-plan-status>infeasible<", html, StringComparison.Ordinal);
        Assert.Contains("<b>6 of 8 jobs unplanned</b> (5 of them yours)", html, StringComparison.Ordinal);
        Assert.Contains("late-1</a>: deadline in 1 h is shorter than the run of 4 h</li>", html, StringComparison.Ordinal);
        Assert.Contains("late-3</a>: deadline in 3 h", html, StringComparison.Ordinal);
        Assert.DoesNotContain("late-4</a>", html, StringComparison.Ordinal);
        Assert.Contains("and 2 more of yours", html, StringComparison.Ordinal);
        Assert.DoesNotContain("team b&#x27;s own reason", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_spot_availability_chart_names_the_instance_type_and_zone_it_shows()
    {
        var trace = Path.Combine(Spotwise.Testing.RepoPaths.Root, "data", "traces", "aws-v100", "us-west-2a_v100_1.json");
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:SpotTrace"] = trace });
        using var browser = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        Assert.Equal(HttpStatusCode.Redirect, (await browser.PostAsync("/login", Form(("apiKey", "k1")))).StatusCode);

        var html = await (await browser.GetAsync("/")).Content.ReadAsStringAsync();

        Assert.Contains("data-availability-title>Spot availability: p3.2xlarge in us-east-1 (instances)</h2>", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_page_leaves_out_empty_fields_and_their_separators()
    {
        await SubmitAsync("k1", "no-plan-yet");
        using var browser = await SignedInAsync("k1");

        var html = await (await browser.GetAsync("/jobs/no-plan-yet")).Content.ReadAsStringAsync();

        Assert.Contains("data-job-ran></td>", html, StringComparison.Ordinal);
        Assert.Contains("data-job-window>deadline 2026-03-03 08:00</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("> · ", html, StringComparison.Ordinal);
        Assert.DoesNotContain(" · <", html, StringComparison.Ordinal);
        Assert.DoesNotContain(" ·  · ", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_plan_no_model_took_part_in_shows_no_llm_details()
    {
        using var browser = await PlannedAndSignedInAsync("greedy-planned");

        var html = await (await browser.GetAsync("/")).Content.ReadAsStringAsync();

        Assert.Null((await _factory.Services.GetRequiredService<IJobStore>().LatestPlanAsync(default))!.Llm);
        Assert.Contains("data-planner>greedy<", html, StringComparison.Ordinal);
        Assert.Contains("data-no-llm", html, StringComparison.Ordinal);
        Assert.DoesNotContain("data-llm", html, StringComparison.Ordinal);
        Assert.DoesNotContain("violation(s)", html, StringComparison.Ordinal);
    }
}
