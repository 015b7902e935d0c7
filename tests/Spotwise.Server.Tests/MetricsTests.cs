using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;
using Spotwise.Server.Dashboard;

namespace Spotwise.Server.Tests;

/// <summary>
/// <c>/metrics</c> through OpenTelemetry's Prometheus exporter: every name the hand-written endpoint had, with its type
/// and labels, scraped over real HTTP without a key; figures read afresh on each scrape; the plan document never read.
/// </summary>
public sealed class MetricsTests
{
    private const string Job1 = """{"jobId":"job-1","deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_small"}}""";

    /// <summary>What the hand-written endpoint exposed (MetricsApi before the exporter): users' dashboards scrape these.</summary>
    private static readonly (string Series, string Type)[] OldSeries =
    [
        .. Enum.GetValues<JobState>().Select(s => ($"spotwise_jobs{{state=\"{s.ToWire()}\"}}", "gauge")),
        ("spotwise_spend_usd_total", "counter"),
        ("spotwise_plan_expected_cost_usd", "gauge"),
        ("spotwise_plan_savings_pct", "gauge"),
        ("spotwise_cycles_total", "counter"),
        ("spotwise_cycle_seconds", "gauge"),
        ("spotwise_interruptions_total", "counter"),
        ("spotwise_spot_refusals_total", "counter"),
        ("spotwise_fallbacks_total", "counter"),
    ];

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    [Fact]
    public async Task Every_name_the_hand_written_endpoint_exposed_is_scraped_over_http_without_a_key_with_its_type_and_labels()
    {
        await using var server = LiveServer.Start();
        using var client = server.ClientFor("k1");
        await client.PostAsync("/api/jobs", Json(Job1));
        await WaitUntilAsync(server.Factory, async store => (await store.GetAsync(new JobKey("team-a", "job-1"), default))!.State == JobState.Planned);
        using var scraper = server.ClientFor(key: null);

        using var response = await scraper.GetAsync("/metrics");
        var scrape = Scrape.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.All(OldSeries, old =>
        {
            Assert.True(scrape.Values.ContainsKey(old.Series), $"{old.Series} is missing from:\n{scrape.Text}");
            Assert.Equal(old.Type, scrape.Types.GetValueOrDefault(Scrape.Family(old.Series)));
        });
        Assert.Equal(1, scrape.Values["spotwise_jobs{state=\"planned\"}"]);
        Assert.Equal(0, scrape.Values["spotwise_jobs{state=\"running\"}"]);
        // A key, even a wrong one, changes nothing: the figures name no team's jobs.
        using var wrongKey = server.ClientFor("not-a-key");
        Assert.Equal(HttpStatusCode.OK, (await wrongKey.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task A_prometheus_server_asking_for_openmetrics_gets_the_same_series()
    {
        await using var server = LiveServer.Start();
        using var client = server.ClientFor("k1");
        await client.PostAsync("/api/jobs", Json(Job1));
        await WaitUntilAsync(server.Factory, async store => (await store.GetAsync(new JobKey("team-a", "job-1"), default))!.State == JobState.Planned);
        using var scraper = server.ClientFor(key: null);
        // What Prometheus sends: OpenMetrics first, the text format as a fallback.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        request.Headers.TryAddWithoutValidation("Accept",
            "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1");

        using var response = await scraper.SendAsync(request);
        var scrape = Scrape.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal("application/openmetrics-text", response.Content.Headers.ContentType?.MediaType);
        Assert.All(OldSeries, old => Assert.True(scrape.Values.ContainsKey(old.Series), $"{old.Series} is missing from:\n{scrape.Text}"));
    }

    [Fact]
    public async Task The_plan_figures_are_the_stored_plans_and_a_scrape_never_reads_the_plan_document()
    {
        PlanReadCounter? counter = null;
        await using var root = new SpotwiseServerFactory();
        var factory = root.WithWebHostBuilder(b => b.ConfigureTestServices(services => Decorate(services, inner => counter = new PlanReadCounter(inner))));
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "k1");
        await client.PostAsync("/api/jobs", Json(Job1));
        await WaitUntilAsync(factory, async store => (await store.GetAsync(new JobKey("team-a", "job-1"), default))!.State == JobState.Planned);
        var reads = counter!.PlanReads;

        var scrapes = new List<Scrape>();
        for (var i = 0; i < 3; i++)
        {
            scrapes.Add(Scrape.Parse(await client.GetStringAsync("/metrics")));
        }

        Assert.Equal(reads, counter.PlanReads);
        var stored = (await counter.LatestPlanAsync(default))!.Totals;
        Assert.All(scrapes, scrape =>
        {
            Assert.Equal(stored.ExpectedCostUsd, scrape.Values["spotwise_plan_expected_cost_usd"], 9);
            Assert.Equal(stored.SavingsPct, scrape.Values["spotwise_plan_savings_pct"], 9);
            Assert.Equal(stored.SolveSeconds, scrape.Values["spotwise_plan_solve_seconds"], 9);
            Assert.Equal(1, scrape.Values["spotwise_plan_jobs{outcome=\"planned\"}"]);
            Assert.Equal(0, scrape.Values["spotwise_plan_jobs{outcome=\"unplanned\"}"]);
        });
    }

    [Fact]
    public async Task No_plan_figures_are_exposed_before_a_plan_exists()
    {
        await using var factory = new SpotwiseServerFactory();
        using var scraper = factory.CreateClient();

        var scrape = Scrape.Parse(await scraper.GetStringAsync("/metrics"));

        Assert.DoesNotContain(scrape.Values.Keys, series => series.StartsWith("spotwise_plan_", StringComparison.Ordinal));
        Assert.Equal(0, scrape.Values["spotwise_jobs{state=\"queued\"}"]);
    }

    [Fact]
    public async Task Each_budgeted_team_has_its_limit_spent_committed_and_left_labelled_by_team()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string>
        {
            [AdminKey.EnvironmentVariable] = "admin",
            ["Spotwise:Budgets:team-b:Period"] = "day",
            ["Spotwise:Budgets:team-b:LimitUsd"] = "5",
        });
        using var admin = factory.ClientFor("admin");
        using var client = factory.ClientFor("k1");
        using var scraper = factory.CreateClient();
        await admin.PutAsync("/api/teams/team-a/budget", Json("""{"period": "week", "limitUsd": 100}"""));
        await client.PostAsync("/api/jobs", Json(Job1));
        var store = factory.Services.GetRequiredService<IJobStore>();
        var job = (await store.GetAsync(new JobKey("team-a", "job-1"), default))!;
        await store.TryUpdateAsync(job with { CostSoFarUsd = 1.25 }, "test: cost accrued", factory.Time.GetUtcNow(), default);
        await client.DeleteAsync("/api/jobs/job-1");

        var scrape = Scrape.Parse(await scraper.GetStringAsync("/metrics"));

        Assert.Equal(100, scrape.Values["spotwise_team_budget_limit_usd{team=\"team-a\"}"]);
        Assert.Equal(1.25, scrape.Values["spotwise_team_budget_spent_usd{team=\"team-a\"}"], 6);
        Assert.Equal(0, scrape.Values["spotwise_team_budget_committed_usd{team=\"team-a\"}"]);
        Assert.Equal(98.75, scrape.Values["spotwise_team_budget_left_usd{team=\"team-a\"}"], 6);
        Assert.Equal(5, scrape.Values["spotwise_team_budget_limit_usd{team=\"team-b\"}"]);
        Assert.Equal("gauge", scrape.Types["spotwise_team_budget_left_usd"]);
    }

    [Fact]
    public async Task Each_scrape_reads_jobs_and_spend_afresh_from_the_store()
    {
        await using var factory = new SpotwiseServerFactory();
        using var client = factory.ClientFor("k1");
        using var scraper = factory.CreateClient();
        await client.PostAsync("/api/jobs", Json(Job1));
        var before = Scrape.Parse(await scraper.GetStringAsync("/metrics"));
        var store = factory.Services.GetRequiredService<IJobStore>();
        var job = (await store.GetAsync(new JobKey("team-a", "job-1"), default))!;
        await store.TryUpdateAsync(job with { CostSoFarUsd = 1.25 }, "test: cost accrued", factory.Time.GetUtcNow(), default);
        await client.DeleteAsync("/api/jobs/job-1");

        var after = Scrape.Parse(await scraper.GetStringAsync("/metrics"));

        Assert.Equal(0, before.Values["spotwise_spend_usd_total"]);
        Assert.Equal(0, before.Values["spotwise_jobs{state=\"cancelled\"}"]);
        Assert.Equal(1.25, after.Values["spotwise_spend_usd_total"], 9);
        Assert.Equal(1, after.Values["spotwise_jobs{state=\"cancelled\"}"]);
    }

    [Fact]
    public async Task The_control_loops_events_are_counted_on_the_meter()
    {
        await using var factory = new SpotwiseServerFactory();
        using var scraper = factory.CreateClient();
        var counters = factory.Services.GetRequiredService<RuntimeCounters>();
        // The scheduler loop's start-up cycle, then none (the fake clock stands still and nothing signals).
        await FirstCycleAsync(factory);
        var before = Scrape.Parse(await scraper.GetStringAsync("/metrics"));

        counters.Interrupted();
        counters.Interrupted();
        counters.SpotRefused();
        counters.FellBack();
        counters.Noticed();
        counters.CycleDone(TimeSpan.FromMilliseconds(30));

        var after = Scrape.Parse(await scraper.GetStringAsync("/metrics"));
        Assert.Equal(2, after.Values["spotwise_interruptions_total"] - before.Values["spotwise_interruptions_total"]);
        Assert.Equal(1, after.Values["spotwise_spot_refusals_total"] - before.Values["spotwise_spot_refusals_total"]);
        Assert.Equal(1, after.Values["spotwise_fallbacks_total"] - before.Values["spotwise_fallbacks_total"]);
        Assert.Equal(1, after.Values["spotwise_interruption_notices_total"] - before.Values["spotwise_interruption_notices_total"]);
        Assert.Equal("counter", after.Types["spotwise_interruption_notices_total"]);
        Assert.Equal(1, after.Values["spotwise_cycles_total"] - before.Values["spotwise_cycles_total"]);
        Assert.Equal(counters.Cycles, after.Values["spotwise_cycles_total"]);
        Assert.Equal(0.03, after.Values["spotwise_cycle_seconds"], 9);
        Assert.Equal("histogram", after.Types["spotwise_cycle_duration_seconds"]);
        Assert.Equal(counters.Cycles, after.Values["spotwise_cycle_duration_seconds_count"]);
        Assert.Equal(counters.Cycles, after.Values["spotwise_cycle_duration_seconds_bucket{le=\"+Inf\"}"]);
        Assert.Equal(1, after.Values["spotwise_cycle_duration_seconds_bucket{le=\"0.05\"}"] - before.Values["spotwise_cycle_duration_seconds_bucket{le=\"0.05\"}"]);
    }

    [Fact]
    public async Task A_restarted_service_shows_the_stored_plans_figures_before_its_first_plan()
    {
        await using var first = new SpotwiseServerFactory();
        using (var client = first.ClientFor("k1"))
        {
            await client.PostAsync("/api/jobs", Json(Job1));
            await WaitUntilAsync(first, async store => (await store.GetAsync(new JobKey("team-a", "job-1"), default))!.State == JobState.Planned);
            // Nothing is left to plan, so the restarted service stores no plan of its own.
            await client.DeleteAsync("/api/jobs/job-1");
        }
        var stored = (await first.Services.GetRequiredService<IJobStore>().LatestPlanAsync(default))!.Totals;
        await using var restarted = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:Db"] = first.DbPath });
        using var scraper = restarted.CreateClient();

        var scrape = Scrape.Parse(await scraper.GetStringAsync("/metrics"));

        Assert.Equal(stored.ExpectedCostUsd, scrape.Values["spotwise_plan_expected_cost_usd"], 9);
        Assert.Equal(stored.SavingsPct, scrape.Values["spotwise_plan_savings_pct"], 9);
        Assert.Equal(1, scrape.Values["spotwise_plan_jobs{outcome=\"planned\"}"]);
    }

    [Fact]
    public async Task Two_services_in_one_process_do_not_count_each_others_events()
    {
        await using var first = new SpotwiseServerFactory();
        await using var second = new SpotwiseServerFactory();
        using var firstScraper = first.CreateClient();
        using var secondScraper = second.CreateClient();
        var before = Scrape.Parse(await secondScraper.GetStringAsync("/metrics")).Values["spotwise_interruptions_total"];

        first.Services.GetRequiredService<RuntimeCounters>().Interrupted();

        Assert.Equal(1, Scrape.Parse(await firstScraper.GetStringAsync("/metrics")).Values["spotwise_interruptions_total"]);
        Assert.Equal(before, Scrape.Parse(await secondScraper.GetStringAsync("/metrics")).Values["spotwise_interruptions_total"]);
    }

    /// <summary>Waits on the store's change signal (no polling) until <paramref name="condition"/> holds, at most 10 s.</summary>
    private static async Task WaitUntilAsync(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> factory, Func<IJobStore, Task<bool>> condition)
    {
        var store = factory.Services.GetRequiredService<IJobStore>();
        var signal = factory.Services.GetRequiredService<ChangeSignal>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var next = signal.NextAsync(timeout.Token);
            if (await condition(store))
            {
                return;
            }
            await next;
        }
    }

    /// <summary>
    /// Waits for the scheduler loop's first cycle to be recorded, listening to the service's own meter (no polling): the
    /// loop runs one cycle at start-up.
    /// </summary>
    private static async Task FirstCycleAsync(Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactory<Program> factory)
    {
        var meters = factory.Services.GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>();
        var recorded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var listener = new System.Diagnostics.Metrics.MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "spotwise.cycle.duration" && ReferenceEquals(instrument.Meter.Scope, meters))
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<double>((_, _, _, _) => recorded.TrySetResult());
        listener.Start();
        if (factory.Services.GetRequiredService<RuntimeCounters>().Cycles == 0)
        {
            await recorded.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    /// <summary>Wraps the registered store (whatever builds it) in <paramref name="wrap"/>.</summary>
    private static void Decorate(IServiceCollection services, Func<IJobStore, IJobStore> wrap)
    {
        var registered = services.Last(d => d.ServiceType == typeof(IJobStore));
        services.Remove(registered);
        services.AddSingleton(sp => wrap((IJobStore)registered.ImplementationFactory!(sp)));
    }

    /// <summary>The store, counting reads of the plan document.</summary>
    private sealed class PlanReadCounter(IJobStore inner) : ForwardingJobStore(inner)
    {
        private int _planReads;

        public int PlanReads => Volatile.Read(ref _planReads);

        public override Task<PlanDocument?> LatestPlanAsync(CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _planReads);
            return Inner.LatestPlanAsync(cancellationToken);
        }
    }

    /// <summary>
    /// A scrape in the Prometheus text format: each series (name and labels as written) with its value, and each
    /// family's type. A sample line is <c>series value [timestamp]</c>.
    /// </summary>
    private sealed record Scrape(string Text, IReadOnlyDictionary<string, double> Values, IReadOnlyDictionary<string, string> Types)
    {
        public static Scrape Parse(string text)
        {
            var values = new Dictionary<string, double>(StringComparer.Ordinal);
            var types = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ');
                    types[parts[2]] = parts[3];
                }
                else if (!line.StartsWith('#'))
                {
                    // Label values here never hold a space, so the series ends at the first space after its labels.
                    var end = line.IndexOf(' ', Math.Max(0, line.IndexOf('}', StringComparison.Ordinal)));
                    var value = line[(end + 1)..].Split(' ')[0];
                    // A series without labels has no braces (the endpoint drops the exporter's empty {}).
                    values[line[..end]] = double.Parse(value, NumberStyles.Float, CultureInfo.InvariantCulture);
                }
            }
            return new Scrape(text, values, types);
        }

        /// <summary>The family a series belongs to: its name without labels.</summary>
        public static string Family(string series) => series.Split('{')[0];
    }
}
