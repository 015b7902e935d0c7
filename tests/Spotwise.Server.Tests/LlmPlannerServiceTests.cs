using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;

namespace Spotwise.Server.Tests;

/// <summary>The service with <c>--planner llm</c>: refused at start without a model; when the model fails, it plans on, and the dashboard says why.</summary>
public sealed class LlmPlannerServiceTests
{
    private static readonly Dictionary<string, string> NoModel = new()
    {
        ["GEMINI_API_KEY"] = "",
        ["SPOTWISE_LLM_ENDPOINT"] = "",
        ["SPOTWISE_LLM_API_KEY"] = "",
    };

    [Fact]
    public async Task The_llm_planner_without_a_key_stops_the_start_naming_the_variables()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string>(NoModel) { ["Spotwise:Planner"] = "llm" });

        var e = Assert.ThrowsAny<Exception>(() => factory.Services.GetRequiredService<Spotwise.Planning.IPlanner>());
        Assert.Contains("Spotwise:Planner is 'llm'", e.ToString(), StringComparison.Ordinal);
        Assert.Contains("GEMINI_API_KEY", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_model_answers_garbage_the_cycle_still_plans_with_the_optimizer_and_says_so()
    {
        await using var model = await ScriptedModelServer.StartAsync(_ => new ScriptedReply(Text: "I think job-1 should go on spot."));
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string>(NoModel)
        {
            ["Spotwise:Planner"] = "llm",
            ["GEMINI_API_KEY"] = "k",
            ["SPOTWISE_GEMINI_ENDPOINT"] = model.BaseUri.ToString(),
        });
        using var client = factory.ClientFor("k1");
        var submitted = await client.PostAsync("/api/jobs", JsonContent.Create(new
        {
            jobId = "job-1",
            estimatedDurationHours = 1,
            deadline = "+6h",
            resourceRequirements = new { type = "cpu_small" },
        }));
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);

        await factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);

        var plan = await client.GetFromJsonAsync<PlanDocument>("/api/plan", PlanDocument.JsonOptions);
        Assert.Equal("job-1", Assert.Single(plan!.Schedule).JobId);
        Assert.Equal("llm", plan.Planner);
        Assert.StartsWith("malformed JSON", plan.Llm!.Fallback, StringComparison.Ordinal);
        Assert.NotEmpty(model.Requests);
        using var browser = factory.CreateClient(new WebApplicationFactoryClientOptions { HandleCookies = true });
        await browser.PostAsync("/login", new FormUrlEncodedContent([new("apiKey", "k1")]));
        var dashboard = WebUtility.HtmlDecode(await browser.GetStringAsync("/"));
        Assert.Contains("data-llm-valid=\"false\">not usable<", dashboard, StringComparison.Ordinal);
        Assert.Contains("data-llm-fallback>to the optimizer: malformed JSON", dashboard, StringComparison.Ordinal);
    }
}
