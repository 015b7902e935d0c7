using System.Text.Json;

namespace Spotwise.Cli.Tests;

/// <summary><c>plan --planner llm|hybrid</c>: refused at once without a model; against a scripted model, a checked plan with its llm section.</summary>
public sealed class PlanCommandLlmTests
{
    private const string Now = "2026-11-24T12:00:00Z";

    [Theory]
    [InlineData("llm")]
    [InlineData("hybrid")]
    public void Without_a_key_the_model_planners_exit_2_naming_the_variables_to_set(string planner)
    {
        var (code, output, error) = CliRunner.Run("plan", RepoPaths.Sample("seed-jobs.json"), "--now", Now, "--planner", planner);
        Assert.Equal(2, code);
        Assert.Empty(output);
        Assert.Contains("GEMINI_API_KEY", error, StringComparison.Ordinal);
        Assert.Contains("SPOTWISE_LLM_ENDPOINT", error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_a_scripted_Gemini_the_plan_carries_its_llm_section_and_never_the_key()
    {
        await using var server = await ScriptedModelServer.StartAsync(r => new ScriptedReply(Text: ScriptedModelServer.NaiveAnswer(r.Prompt)));
        var env = new Dictionary<string, string> { ["GEMINI_API_KEY"] = "secret-key-123", ["SPOTWISE_GEMINI_ENDPOINT"] = server.BaseUri.ToString() };
        var (code, output, error) = CliRunner.RunWith(env, "plan", RepoPaths.Sample("seed-jobs.json"), "--now", Now, "--planner", "llm",
            "--model", "gemini-2.5-flash", "--format", "json", "--time-limit", "2");
        Assert.True(code is 0 or 1, error);
        using var document = JsonDocument.Parse(output);
        var llm = document.RootElement.GetProperty("llm");
        Assert.Equal("gemini/gemini-2.5-flash", llm.GetProperty("model").GetString());
        Assert.True(llm.GetProperty("tokensIn").GetInt64() > 0);
        Assert.True(llm.TryGetProperty("costVsOptimizerPct", out _));
        Assert.True(llm.TryGetProperty("rawProposalValid", out _));
        Assert.Equal("llm", document.RootElement.GetProperty("planner").GetString());
        Assert.Equal("secret-key-123", Assert.Single(server.Requests).ApiKey);
        Assert.DoesNotContain("secret-key-123", output + error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task When_the_model_fails_the_table_says_the_optimizer_planned()
    {
        await using var server = await ScriptedModelServer.StartAsync(_ => new ScriptedReply(Text: "not json"));
        var env = new Dictionary<string, string> { ["SPOTWISE_LLM_ENDPOINT"] = server.OpenAIEndpoint.ToString(), ["SPOTWISE_LLM_API_KEY"] = "k" };
        var (code, output, error) = CliRunner.RunWith(env, "plan", RepoPaths.Sample("seed-jobs.json"), "--now", Now, "--planner", "hybrid",
            "--llm-provider", "openai", "--model", "local-model", "--time-limit", "2");
        Assert.True(code is 0 or 1, error);
        Assert.Contains("FELL BACK to the optimizer: malformed JSON", output, StringComparison.Ordinal);
        Assert.Contains("fell back to the optimizer", error, StringComparison.Ordinal);
    }
}
