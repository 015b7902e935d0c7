using Spotwise.Core;
using static Spotwise.Planning.Llm.Tests.LlmFixtures;

namespace Spotwise.Planning.Llm.Tests;

/// <summary>The prompt tells the model about money and time: each team's budget left, the commitments with their marginal prices, each job's windows.</summary>
public class PromptMoneyTests
{
    private static Job J(string id, string team, params string[] windows) => new()
    {
        Id = id,
        Team = team,
        DurationHours = 2,
        Deadline = Now.AddDays(3),
        Resources = ResourceRequest.ForInstanceTypes(["c5.large", "m5.large"]),
        Windows = [.. windows],
    };

    /// <summary>Monday 09:00: team ml has a budget, team cv none; a reservation and a savings plan are declared.</summary>
    private static PlanningProblem Problem()
    {
        var limits = Limits with
        {
            Commitments = new Commitments
            {
                ReservedInstances = [new ReservedInstance("c5.large", "us-east-1a", 2, 0.054)],
                SavingsPlan = new SavingsPlan(0.15, 0.30),
            },
        };
        return new PlanningProblem(Now, [J("train", "ml"), J("nightly", "ml", "Mon-Fri 20:00-06:00"), J("report", "cv")], LlmFixtures.Catalog, limits)
        {
            Budgets = [new TeamBudget("ml", 3.25, "this week")],
        };
    }

    private static PromptChunk Prompt()
    {
        var problem = Problem();
        return Assert.Single(PlanPrompt.Build(problem, OptionBuilder.Build(problem), PromptBudget.Default));
    }

    private static string LineOf(PromptChunk chunk, string id) =>
        Assert.Single(chunk.User.Split('\n'), l => l.StartsWith($"{{\"id\":\"{id}\"", StringComparison.Ordinal));

    [Fact]
    public void The_prompt_carries_each_teams_budget_left_and_marks_whose_jobs_it_binds()
    {
        var chunk = Prompt();

        Assert.Contains("BUDGETS (usd each team may still spend on the jobs planned now):\n{\"team\":\"ml\",\"leftUsd\":3.25,\"period\":\"this week\"}",
            chunk.User.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\"team\":\"ml\"", LineOf(chunk, "train"), StringComparison.Ordinal);
        // A team without a budget has nothing to keep within: its jobs read as before.
        Assert.DoesNotContain("\"team\"", LineOf(chunk, "report"), StringComparison.Ordinal);
        Assert.Contains("\"leftUsd\"", chunk.System, StringComparison.Ordinal);
    }

    [Fact]
    public void The_prompt_carries_the_commitments_with_their_marginal_prices_and_marks_the_options_on_them()
    {
        var chunk = Prompt();

        Assert.Contains("{\"commitment\":\"reserved:c5.large@us-east-1a\",\"instanceType\":\"c5.large\",\"zone\":\"us-east-1a\",\"count\":2,\"marginalUsdPerHour\":0,",
            chunk.User, StringComparison.Ordinal);
        Assert.Contains("{\"commitment\":\"savings-plan\",\"discountRate\":0.3,\"committedUsdPerHour\":0.15,", chunk.User, StringComparison.Ordinal);
        Assert.Contains("\"commitment\":\"savings-plan\"}", LineOf(chunk, "train"), StringComparison.Ordinal);
        Assert.Contains("COMMITMENTS are already paid for", chunk.System, StringComparison.Ordinal);
    }

    [Fact]
    public void The_prompt_carries_each_jobs_windows_and_the_intervals_they_allow_before_its_deadline()
    {
        var chunk = Prompt();

        var line = LineOf(chunk, "nightly");
        Assert.Contains("\"windows\":[\"Mon-Fri 20:00-06:00\"]", line, StringComparison.Ordinal);
        Assert.Contains("\"allowedIntervals\":[[\"2026-03-02T20:00:00Z\",\"2026-03-03T06:00:00Z\"],[\"2026-03-03T20:00:00Z\",\"2026-03-04T06:00:00Z\"],",
            line, StringComparison.Ordinal);
        Assert.DoesNotContain("windows", LineOf(chunk, "train"), StringComparison.Ordinal);
        Assert.Contains("\"allowedIntervals\"", chunk.System, StringComparison.Ordinal);
    }
}
