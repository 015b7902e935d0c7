using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;
using Spotwise.Server.Why;

namespace Spotwise.Server.Tests;

/// <summary>
/// <c>GET /api/jobs/{id}/why</c> through the service: a planned job's placement with its options, and each waiting kind
/// the service produces (queued, prerequisites, spot back-off, capacity and quota, and the plan's tagged reasons).
/// </summary>
public sealed class WhyApiTests : IAsyncLifetime, IDisposable
{
    private readonly SpotwiseServerFactory _factory = new();
    private HttpClient _teamA = null!;

    private static DateTimeOffset Start => SpotwiseServerFactory.Start;

    public Task InitializeAsync()
    {
        _teamA = _factory.ClientFor("k1");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    public void Dispose()
    {
        _teamA.Dispose();
        _factory.Dispose();
    }

    private IJobStore Store => _factory.Services.GetRequiredService<IJobStore>();

    private async Task SubmitAsync(string body)
    {
        using var response = await _teamA.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private Task<WhyView?> WhyAsync(string id) => _teamA.GetFromJsonAsync<WhyView>($"/api/jobs/{id}/why");

    private Task<Plan?> CycleAsync() => _factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);

    /// <summary>
    /// Stores a job as the intake would, but without waking the scheduler, once the service's start-up cycle is done: no
    /// cycle of the service's own then races what the test writes.
    /// </summary>
    private async Task StoreQuietlyAsync(Job job)
    {
        var counters = _factory.Services.GetRequiredService<RuntimeCounters>();
        await WaitForAsync(() => Task.FromResult(counters.Cycles >= 1));
        await Store.SubmitAsync([new Submission(job, "team-a", job.Id)], Start, default);
    }

    [Fact]
    public async Task A_planned_job_is_explained_by_its_placement_the_plans_reason_and_the_options_it_had()
    {
        await SubmitAsync("""{"jobId":"job-1","estimatedDurationHours":2,"deadline":"+24h","earliestStart":"+1h","resourceRequirements":{"type":"cpu_small"}}""");
        await CycleAsync();
        var job = await _teamA.GetFromJsonAsync<JobView>("/api/jobs/job-1");

        var why = await WhyAsync("job-1");

        Assert.Equal(("job-1", "planned"), (why!.JobId, why.State));
        var placement = why.Placement!;
        Assert.Equal((job!.Market, job.InstanceType, job.Zone, job.PlannedStart), (placement.Market, placement.InstanceType, placement.Zone, (DateTimeOffset?)placement.Start));
        Assert.StartsWith(placement.Market + ":", placement.Reason, StringComparison.Ordinal);
        var chosen = Assert.Single(placement.Options, o => o.Chosen);
        Assert.Equal((placement.InstanceType, placement.Zone), (chosen.InstanceType, chosen.Zone));
        Assert.Contains(placement.Options, o => o.Market == "on-demand");
        Assert.NotNull(placement.CheapestOnDemandExpectedCostUsd);
        Assert.True(placement.ExpectedCostUsd <= placement.CheapestOnDemandExpectedCostUsd + 1e-6);
        Assert.Equal(WaitingKinds.EarliestStart, Assert.Single(why.Waiting).Kind);
        Assert.Equal(Start.AddHours(1), why.Waiting[0].Until);
        Assert.StartsWith("planned on " + placement.Market, why.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_planned_for_its_next_window_says_so_with_when_it_starts()
    {
        // Monday 08:00: a night-only job of 2 h is planned for 20:00, the start of its window.
        await SubmitAsync("""{"jobId":"night","estimatedDurationHours":2,"deadline":"+24h","windows":["Mon-Fri 20:00-06:00"],"resourceRequirements":{"type":"cpu_small"}}""");
        await CycleAsync();

        var why = await WhyAsync("night");

        Assert.Equal("planned", why!.State);
        var waiting = Assert.Single(why.Waiting);
        Assert.Equal(WaitingKinds.Window, waiting.Kind);
        Assert.Equal(why.Placement!.Start, waiting.Until);
        Assert.True(waiting.Until >= Start.AddHours(12), $"starts {waiting.Until:u}");
        Assert.Contains("Mon-Fri 20:00-06:00", waiting.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_not_yet_planned_is_queued_for_the_next_cycle()
    {
        // The service plans once at start; a job stored after that waits for the next signal, which nothing sends here.
        await StoreQuietlyAsync(new Job { Id = "fresh", DurationHours = 1, Resources = ResourceClasses.Presets["cpu_small"] });

        var why = await WhyAsync("fresh");

        Assert.Equal("queued", why!.State);
        Assert.Null(why.Placement);
        var queued = Assert.Single(why.Waiting);
        Assert.Equal(WaitingKinds.Queued, queued.Kind);
        Assert.Contains("next cycle", queued.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_waiting_on_a_prerequisite_names_it_and_when_it_is_expected_to_end()
    {
        await SubmitAsync("""{"jobId":"prep","estimatedDurationHours":1,"deadline":"+24h","earliestStart":"+2h","resourceRequirements":{"type":"cpu_small"}}""");
        await SubmitAsync("""{"jobId":"train","estimatedDurationHours":1,"deadline":"+24h","dependsOn":["prep"],"resourceRequirements":{"type":"cpu_small"}}""");
        await CycleAsync();
        var prep = (await Store.GetAsync(new JobKey("team-a", "prep"), default))!;

        var why = await WhyAsync("train");

        var waiting = Assert.Single(why!.Waiting, w => w.Kind == WaitingKinds.Prerequisites);
        Assert.Contains("'prep' is planned, expected to end at", waiting.Detail, StringComparison.Ordinal);
        Assert.Equal(prep.Placement!.PlannedStart.AddHours(1) + PlanningSettings.CloudLaunchAllowance, waiting.Until);
    }

    [Fact]
    public async Task A_spot_pool_cooling_down_is_named_with_when_it_plans_again()
    {
        await SubmitAsync("""{"jobId":"job-1","estimatedDurationHours":2,"deadline":"+24h","earliestStart":"+1h","resourceRequirements":{"type":"cpu_small"}}""");
        await CycleAsync();
        var job = (await Store.GetAsync(new JobKey("team-a", "job-1"), default))!;
        _factory.Services.GetRequiredService<SpotBackoff>().Refused(job.Placement!.Zone, job.Placement.InstanceType, Start);

        var why = await WhyAsync("job-1");

        var backoff = Assert.Single(why!.Waiting, w => w.Kind == WaitingKinds.SpotBackoff);
        Assert.Contains($"spot {job.Placement.InstanceType} in {job.Placement.Zone}", backoff.Detail, StringComparison.Ordinal);
        Assert.Equal(Start + SpotBackoff.DefaultCoolDown, backoff.Until);
    }

    [Fact]
    public async Task A_job_left_out_for_capacity_says_which_pools_are_full_and_until_when_and_the_quota_the_cloud_taught()
    {
        // The cloud said on-demand P holds one p3.2xlarge (8 vCPUs); both jobs are too tight for spot.
        var catalog = _factory.Services.GetRequiredService<Catalog>();
        var running = new InstanceStatus("i-1", "t", "team-b", "x", 1, Market.OnDemand, "p3.2xlarge", catalog.Region, InstanceState.Running,
            Start, Start, null, null, 3.06, 0, 0, null);
        _factory.Services.GetRequiredService<LearnedLimits>().QuotaReached(running with { InstanceId = "i-2", State = InstanceState.Interrupted }, [running], catalog, Start);
        await SubmitAsync("""{"jobId":"first","priority":9,"estimatedDurationHours":2,"earliestStart":"2026-03-02T09:00:00Z","deadline":"2026-03-02T11:30:00Z","resourceRequirements":{"instanceTypes":["p3.2xlarge"]}}""");
        await SubmitAsync("""{"jobId":"second","estimatedDurationHours":2,"deadline":"2026-03-02T11:00:00Z","resourceRequirements":{"instanceTypes":["p3.2xlarge"]}}""");
        await CycleAsync();
        var first = (await Store.GetAsync(new JobKey("team-a", "first"), default))!;
        Assert.Equal(JobState.Planned, first.State);

        var why = await WhyAsync("second");

        Assert.Equal("queued", why!.State);
        var capacity = Assert.Single(why.Waiting, w => w.Kind == WaitingKinds.Capacity);
        Assert.Contains("on-demand:us-east-1:p, 8 vCPUs", capacity.Detail, StringComparison.Ordinal);
        Assert.Equal(first.Placement!.PlannedStart.AddHours(2) + PlanningSettings.CloudLaunchAllowance, capacity.Until);
        var quota = Assert.Single(why.Waiting, w => w.Kind == WaitingKinds.Quota);
        Assert.Contains("holds at most 8 vCPUs", quota.Detail, StringComparison.Ordinal);
        Assert.Equal(Start + LearnedLimits.DefaultMemory, quota.Until);
    }

    [Theory]
    [InlineData("budget: team team-a has $3.20 left this week; the cheapest safe plan costs $5.10", WaitingKinds.Budget)]
    [InlineData("window: its windows Mon-Fri 20:00-06:00 leave no start before its deadline", WaitingKinds.Window)]
    [InlineData("fair share: team team-a used 70% of contested capacity against a 50% share", WaitingKinds.FairShare)]
    public async Task A_plans_tagged_reason_is_classified_with_its_figures(string reason, string kind)
    {
        await StoreQuietlyAsync(new Job { Id = "job-1", DurationHours = 2, Deadline = Start.AddHours(24), Resources = ResourceClasses.Presets["cpu_small"] });
        // The plan a budget-, window- or fair-share-aware planner stores: the job left out with a tagged reason.
        var key = new JobKey("team-a", "job-1");
        var record = (await Store.GetAsync(key, default))!;
        await Store.TryUpdateAsync(JobTransitions.Unplan(record, reason).Record, reason, Start, default);
        var plan = new PlanDocument("cpsat", Start, "infeasible", new PlanDocument.TotalsView(0, 0, 0, 0, 0, 0, 0, 1, 1), [],
            [new PlanDocument.UnplannedView(key.ToString(), reason)]);
        await Store.SavePlanAsync(plan, Start, default);

        var why = await WhyAsync("job-1");

        Assert.Equal("queued", why!.State);
        var waiting = Assert.Single(why.Waiting);
        Assert.Equal((kind, reason), (waiting.Kind, waiting.Detail));
        Assert.Contains(reason, why.Summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_left_out_for_fair_share_is_explained_with_the_shares_the_stored_plan_used_and_other_teams_stay_unnamed()
    {
        await StoreQuietlyAsync(new Job { Id = "job-1", DurationHours = 2, Deadline = Start.AddHours(24), Resources = ResourceClasses.Presets["cpu_small"] });
        var key = new JobKey("team-a", "job-1");
        const string reason = "fair share: every eligible pool is full until the deadline; capacity went first to 1 job(s) of equal priority from teams further behind their share";
        var record = (await Store.GetAsync(key, default))!;
        await Store.TryUpdateAsync(JobTransitions.Unplan(record, reason).Record, reason, Start, default);
        // The plan as the scheduler stores it now: the fair-share figures it was made with, every waiting team's.
        var fair = new FairShare([new TeamShare("team-a", 1, 30), new TeamShare("team-b", 1, 10)], 24);
        var plan = PlanDocument.From(new Plan("cpsat", Start, PlanStatus.Feasible, [], [new UnplannedJob(key.ToString(), reason)],
            new PlanTotals(0, 0, 0, 0, 0, 0, 0, 1, 0))
        { FairShare = fair });
        await Store.SavePlanAsync(plan, Start, default);

        var why = await WhyAsync("job-1");
        using var shown = JsonDocument.Parse(await _teamA.GetStringAsync("/api/plan"));

        var waiting = Assert.Single(why!.Waiting);
        Assert.Equal(WaitingKinds.FairShare, waiting.Kind);
        Assert.StartsWith(reason, waiting.Detail, StringComparison.Ordinal);
        Assert.Contains("team team-a: weight 1 of 2, share 50%, used 30 of 40 instance-hours (75%) in the last 24 h, deficit -13 band(s) of 2 points",
            waiting.Detail, StringComparison.Ordinal);
        var section = shown.RootElement.GetProperty("fairShare");
        Assert.Equal(2, section.GetProperty("totalWeight").GetDouble());
        Assert.Equal(["team-a"], section.GetProperty("teams").EnumerateArray().Select(t => t.GetProperty("team").GetString()));
        Assert.Equal(-13, section.GetProperty("teams")[0].GetProperty("band").GetInt32());
    }

    [Fact]
    public async Task Another_teams_job_is_404_as_on_every_job_endpoint()
    {
        await SubmitAsync("""{"jobId":"job-1","estimatedDurationHours":2,"deadline":"+24h","resourceRequirements":{"type":"cpu_small"}}""");
        using var teamB = _factory.ClientFor("k2");

        using var response = await teamB.GetAsync("/api/jobs/job-1/why");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("job-1", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_job_page_shows_the_why_section()
    {
        await SubmitAsync("""{"jobId":"job-1","estimatedDurationHours":2,"deadline":"+24h","earliestStart":"+1h","resourceRequirements":{"type":"cpu_small"}}""");
        await CycleAsync();
        using var page = _factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });
        using var login = await page.PostAsync("/login", new FormUrlEncodedContent([KeyValuePair.Create("apiKey", "k1")]));

        var html = await page.GetStringAsync("/jobs/job-1");

        Assert.Contains("<h2>Why</h2>", html, StringComparison.Ordinal);
        Assert.Contains("data-why-kind=\"earliestStart\"", html, StringComparison.Ordinal);
        Assert.Contains("data-chosen=\"true\"", html, StringComparison.Ordinal);
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        var deadline = TimeProvider.System.GetTimestamp() + (10 * TimeProvider.System.TimestampFrequency);
        while (!await condition() && TimeProvider.System.GetTimestamp() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(20), TimeProvider.System);
        }
        Assert.True(await condition(), "the condition did not hold within 10 s");
    }
}
