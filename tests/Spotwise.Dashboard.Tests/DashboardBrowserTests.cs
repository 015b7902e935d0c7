using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Spotwise.Runtime;
using Spotwise.Server;
using Spotwise.Server.Tests;

namespace Spotwise.Dashboard.Tests;

/// <summary>
/// The dashboard in a real headless Chromium against the real server on a loopback port. The server's clock is the
/// test factory's fixed clock, so the reconcile loop launches nothing: planned jobs stay planned while the page is read.
/// </summary>
[Collection(SharedBrowser.Name)]
public sealed class DashboardBrowserTests(Browser browser) : IAsyncLifetime
{
    private const string SpotFill = "rgb(43, 108, 176)";
    private const string OnDemandFill = "rgb(221, 107, 32)";

    private LiveServer _server = null!;
    private IBrowserContext _context = null!;

    public async Task InitializeAsync()
    {
        _server = LiveServer.Start();
        _context = await browser.Chromium.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 1000 } });
        // Generous: CI runs every test project at once on two cores.
        _context.SetDefaultTimeout(30_000);
    }

    public async Task DisposeAsync()
    {
        await _context.DisposeAsync();
        await _server.DisposeAsync();
    }

    private async Task<IPage> SignedInAsync(string key, IBrowserContext? context = null)
    {
        var page = await (context ?? _context).NewPageAsync();
        await page.GotoAsync(_server.Url("/"));
        Assert.EndsWith("/login", page.Url, StringComparison.Ordinal);
        await page.FillAsync("input[name=apiKey]", key);
        await page.ClickAsync("button[type=submit]");
        await AtAsync(page, "/");
        return page;
    }

    private async Task<JobView> SubmitByApiAsync(string key, string json)
    {
        using var api = new HttpClient { BaseAddress = _server.Address };
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        var response = await api.PostAsync("/api/jobs", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JobView>())!;
    }

    private async Task<IReadOnlyList<JobView>> PlannedAsync(string team, int count)
    {
        var store = _server.Factory.Services.GetRequiredService<IJobStore>();
        for (var i = 0; i < 150; i++)
        {
            var planned = await store.ListAsync(new JobQuery(team, [JobState.Planned]), default);
            if (planned.Count >= count)
            {
                return [.. planned.Select(j => JobView.From(j))];
            }
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        }
        throw new TimeoutException($"the scheduler did not plan {count} jobs of {team}");
    }

    /// <summary>
    /// Waits until the page is at <paramref name="path"/> (the URL alone: a live page never stops loading in the
    /// "network idle" sense, and element waits cover the rest); on a timeout, says where it is and what it shows.
    /// </summary>
    private async Task AtAsync(IPage page, string path)
    {
        try
        {
            await Assertions.Expect(page).ToHaveURLAsync(_server.Url(path));
        }
        catch (PlaywrightException e)
        {
            var text = (await page.Locator("main").TextContentAsync(new LocatorTextContentOptions { Timeout = 2_000 }))?.Trim() ?? "";
            throw new TimeoutException($"expected {path}, the page is at {page.Url} showing: {text[..Math.Min(400, text.Length)]}", e);
        }
    }

    private static ILocator Bar(IPage page, string jobId) => page.Locator($"svg.timeline rect[data-job-id=\"{jobId}\"]");

    [Fact]
    public async Task Log_in_submit_through_the_form_see_it_on_the_timeline_cancel_it_and_see_it_cancelled()
    {
        var page = await SignedInAsync("k1");

        await page.ClickAsync("header a[href='/submit']");
        await AtAsync(page, "/submit");
        await page.FillAsync("input[name=jobId]", "e2e-1");
        await page.FillAsync("input[name=estimatedDurationHours]", "2");
        await page.FillAsync("input[name=deadline]", "+10h");
        await page.SelectOptionAsync("select[name=resourceType]", "gpu_medium");
        await page.ClickAsync("form.submit button[type=submit]");

        await AtAsync(page, "/?submitted=e2e-1");
        var bar = Bar(page, "e2e-1");
        await bar.WaitForAsync();
        Assert.True(await bar.GetAttributeAsync("data-market") is "spot" or "on-demand");
        Assert.Equal("planned", await bar.GetAttributeAsync("data-state"));

        await page.ClickAsync("table.jobs a:text-is('e2e-1')");
        await AtAsync(page, "/jobs/e2e-1");
        await page.ClickAsync("button[data-action=cancel]");

        await Assertions.Expect(page.Locator("[data-job-state]")).ToHaveTextAsync("cancelled");
        Assert.Equal(0, await page.Locator("button[data-action=cancel]").CountAsync());
        await page.GotoAsync(_server.Url("/"));
        await Assertions.Expect(page.Locator("table.jobs tr[data-job-id='e2e-1']")).ToHaveAttributeAsync("data-state", "cancelled");
        Assert.Equal(0, await Bar(page, "e2e-1").CountAsync());
    }

    [Fact]
    public async Task The_submit_form_shows_the_APIs_error_messages()
    {
        var page = await SignedInAsync("k1");
        await page.GotoAsync(_server.Url("/submit"));

        await page.FillAsync("input[name=jobId]", "bad-1");
        await page.FillAsync("input[name=estimatedDurationHours]", "-2");
        await page.ClickAsync("form.submit button[type=submit]");

        await Assertions.Expect(page.Locator("[data-errors] li[data-field=estimatedDurationHours]"))
            .ToContainTextAsync("estimatedDurationHours: must be greater than 0, found -2");
        Assert.Equal("-2", await page.InputValueAsync("input[name=estimatedDurationHours]"));
    }

    [Fact]
    public async Task A_job_submitted_elsewhere_appears_on_the_open_page_without_a_reload()
    {
        var page = await SignedInAsync("k2");
        await page.EvaluateAsync("() => { window.sameDocument = true; }");

        await SubmitByApiAsync("k2", """{"jobId":"live-1","deadline":"+12h","estimatedDurationHours":1,"resourceRequirements":{"type":"cpu_small"}}""");

        await Bar(page, "live-1").WaitForAsync();
        Assert.True(await page.EvaluateAsync<bool>("() => window.sameDocument === true"), "the page was reloaded instead of updated");
        await Assertions.Expect(page.Locator("[data-state-count=planned] b")).ToHaveTextAsync("1");
    }

    [Fact]
    public async Task The_plan_plays_out_on_the_open_page_as_the_clock_moves()
    {
        var page = await SignedInAsync("k2");
        await page.EvaluateAsync("() => { window.sameDocument = true; }");
        await SubmitByApiAsync("k2", """{"jobId":"short-1","deadline":"+12h","estimatedDurationHours":0.5,"resourceRequirements":{"type":"cpu_small"}}""");
        await Assertions.Expect(Bar(page, "short-1")).ToHaveAttributeAsync("data-state", "planned");

        // The demo clock, by hand: the reconcile loop launches, observes and finishes the job as virtual time passes.
        var store = _server.Factory.Services.GetRequiredService<IJobStore>();
        for (var i = 0; i < 60 && (await store.GetAsync(new JobKey("team-b", "short-1"), default))!.State != JobState.Succeeded; i++)
        {
            _server.Factory.Time.Advance(TimeSpan.FromMinutes(2));
            await Task.Delay(TimeSpan.FromMilliseconds(100), TimeProvider.System);
        }

        await Assertions.Expect(page.Locator("[data-state-count=succeeded] b")).ToHaveTextAsync("1");
        await Assertions.Expect(Bar(page, "short-1")).ToHaveAttributeAsync("data-state", "succeeded");
        Assert.True(await page.EvaluateAsync<bool>("() => window.sameDocument === true"), "the page was reloaded instead of updated");
        using var api = new HttpClient { BaseAddress = _server.Address };
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "k2");
        var money = (await api.GetFromJsonAsync<MoneyView>("/api/money"))!;
        Assert.True(money.SpentUsd > 0, "the job cost something");
        await Assertions.Expect(page.Locator("[data-money=spent] b")).ToHaveTextAsync(Spotwise.Server.Components.Show.Usd(money.SpentUsd));
    }

    [Fact]
    public async Task A_job_named_like_a_script_is_shown_as_text_and_never_runs()
    {
        const string name = "<script>alert(1)</script>";
        // The intake refuses such an id now; a store written before it may still hold one, and pages must not run it.
        var job = new Spotwise.Core.Job
        {
            Id = name,
            DurationHours = 1,
            Deadline = SpotwiseServerFactory.Start.AddHours(12),
            Resources = Spotwise.Core.ResourceClasses.Presets["cpu_small"],
        };
        var store = _server.Factory.Services.GetRequiredService<Spotwise.Runtime.IJobStore>();
        await store.SubmitAsync([new Spotwise.Runtime.Submission(job, "team-a", "{}")], SpotwiseServerFactory.Start, default);
        _server.Factory.Services.GetRequiredService<SchedulerLoop>().Signal();
        var dialogs = 0;
        var page = await _context.NewPageAsync();
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        await page.GotoAsync(_server.Url("/login"));
        await page.FillAsync("input[name=apiKey]", "k1");
        await page.ClickAsync("button[type=submit]");

        await Assertions.Expect(page.Locator("table.jobs tbody tr a").First).ToHaveTextAsync(name);
        await Bar(page, name).WaitForAsync();
        Assert.Equal(0, dialogs);
    }

    /// <summary>
    /// An element's box. A live refresh may replace its node between finding and measuring it (the box is then null, as
    /// a CI run on a loaded machine showed): wait until it is visible again and measure again.
    /// </summary>
    private static async Task<LocatorBoundingBoxResult> BoxOfAsync(ILocator element)
    {
        for (var attempt = 1; ; attempt++)
        {
            await Assertions.Expect(element).ToBeVisibleAsync();
            if (await element.BoundingBoxAsync() is { } box)
            {
                return box;
            }
            Assert.True(attempt < 20, "the element kept being replaced while it was measured");
        }
    }

    /// <summary>
    /// On a phone (390 CSS px, an iPhone's width) no page is wider than the screen: the jobs table, the timeline and long
    /// fields scroll inside their cards (issue 16: the overview was 1,138 px wide).
    /// </summary>
    [Fact]
    public async Task At_390_px_wide_no_page_is_wider_than_the_screen_and_wide_parts_scroll_inside_their_cards()
    {
        const int Phone = 390;
        string[] jobs =
        [
            """{"jobId":"a-rather-long-job-id-for-the-nightly-feature-extraction","priority":8,"deadline":"+30h","estimatedDurationHours":6,"resourceRequirements":{"type":"gpu_large"}}""",
            """{"jobId":"etl-nightly","priority":9,"deadline":"+130m","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_medium"}}""",
            """{"jobId":"render-batch","earliestStart":"+1h","deadline":"+20h","estimatedDurationHours":4,"resourceRequirements":{"type":"gpu_medium"}}""",
        ];
        foreach (var job in jobs)
        {
            await SubmitByApiAsync("k1", job);
        }
        await PlannedAsync("team-a", jobs.Length);
        await using var phone = await browser.Chromium.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = Phone, Height = 844 } });
        phone.SetDefaultTimeout(30_000);
        var page = await SignedInAsync("k1", phone);

        foreach (var path in new[] { "/", "/jobs/a-rather-long-job-id-for-the-nightly-feature-extraction", "/jobs/etl-nightly", "/submit", "/jobs/no-such-job" })
        {
            await page.GotoAsync(_server.Url(path));
            await page.Locator("main h1").WaitForAsync();
            var width = await page.EvaluateAsync<int>("document.scrollingElement.scrollWidth");
            Assert.True(width <= Phone, $"{path} is {width} px wide on a {Phone} px screen");
        }
        await page.GotoAsync(_server.Url("/"));
        await Assertions.Expect(page.Locator("table.jobs tr[data-job-id]")).ToHaveCountAsync(jobs.Length);
        // The table is wider than the phone, so it is its card that scrolls.
        var table = await page.EvaluateAsync<double[]>(
            "(() => { const t = document.querySelector('table.jobs'); const card = t.closest('section'); return [t.scrollWidth, card.clientWidth, getComputedStyle(card).overflowX === 'auto' ? 1 : 0]; })()");
        Assert.True(table[0] > table[1], $"the jobs table ({table[0]} px) fits its card ({table[1]} px) at {Phone} px: the test shows nothing");
        Assert.Equal(1, table[2]);
    }

    [Fact]
    public async Task A_screenshot_at_a_fixed_clock_has_one_bar_per_planned_job_coloured_by_market()
    {
        string[] jobs =
        [
            """{"jobId":"train-resnet","priority":8,"deadline":"+30h","estimatedDurationHours":6,"checkpointable":true,"resourceRequirements":{"type":"gpu_large"}}""",
            """{"jobId":"etl-nightly","priority":9,"deadline":"+130m","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_medium"}}""",
            """{"jobId":"render-batch","priority":5,"earliestStart":"+1h","deadline":"+20h","estimatedDurationHours":4,"resourceRequirements":{"type":"gpu_medium"}}""",
            """{"jobId":"report-q1","priority":6,"earliestStart":"+3h","deadline":"+245m","estimatedDurationHours":1,"resourceRequirements":{"type":"cpu_small"}}""",
            """{"jobId":"embed-docs","priority":4,"deadline":"+16h","estimatedDurationHours":3,"checkpointable":true,"resourceRequirements":{"type":"cpu_large"}}""",
        ];
        foreach (var job in jobs)
        {
            await SubmitByApiAsync("k2", job);
        }
        var planned = await PlannedAsync("team-b", jobs.Length);
        var page = await SignedInAsync("k2");

        var bars = page.Locator("svg.timeline rect[data-job-id]");
        await Assertions.Expect(bars).ToHaveCountAsync(planned.Count);
        var boxes = new List<LocatorBoundingBoxResult>();
        foreach (var job in planned)
        {
            var bar = Bar(page, job.JobId);
            Assert.Equal(job.Market, await bar.GetAttributeAsync("data-market"));
            // Expect retries: a live update may swap the bar's node between finding it and reading its style (a
            // detached node's computed style is empty).
            await Assertions.Expect(bar).ToHaveCSSAsync("fill", job.Market == "spot" ? SpotFill : OnDemandFill);
            boxes.Add(await BoxOfAsync(bar));
        }
        Assert.Contains(planned, j => j.Market == "spot");
        Assert.Contains(planned, j => j.Market == "on-demand");
        // One row per job: no two bars share a row, and every bar lies inside the timeline.
        var svg = await BoxOfAsync(page.Locator("svg.timeline"));
        Assert.Equal(boxes.Count, boxes.Select(b => Math.Round(b.Y)).Distinct().Count());
        Assert.All(boxes, b => Assert.True(b.X >= svg.X && b.X + b.Width <= svg.X + svg.Width + 1 && b.Width >= 2, $"bar at {b.X}+{b.Width} outside {svg.X}+{svg.Width}"));
        Assert.Equal(planned.Count(j => j.Deadline is not null), await page.Locator("svg.timeline line.deadline").CountAsync());

        var shot = await page.ScreenshotAsync(new PageScreenshotOptions { Path = Artifacts.Path("dashboard.png"), FullPage = true });
        Assert.True(shot.Length > 10_000, "the screenshot is an image of the page");
        Artifacts.PublishToDocs("dashboard.png");
    }
}

/// <summary>Where the browser tests leave files (screenshots); <c>SPOTWISE_DOCS_SCREENSHOT=1</c> also copies them to docs/.</summary>
public static class Artifacts
{
    public static string Path(string name)
    {
        var dir = System.IO.Path.Combine(AppContext.BaseDirectory, "artifacts");
        Directory.CreateDirectory(dir);
        return System.IO.Path.Combine(dir, name);
    }

    public static void PublishToDocs(string name)
    {
        if (Environment.GetEnvironmentVariable("SPOTWISE_DOCS_SCREENSHOT") == "1")
        {
            File.Copy(Path(name), System.IO.Path.Combine(Spotwise.Testing.RepoPaths.Root, "docs", name), overwrite: true);
        }
    }
}
