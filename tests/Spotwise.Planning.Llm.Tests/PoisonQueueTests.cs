using Spotwise.Core;
using static Spotwise.Planning.Llm.Tests.LlmFixtures;

namespace Spotwise.Planning.Llm.Tests;

/// <summary>
/// The llm and hybrid planners on a queue holding jobs no plan can hold (a cycle, a missing prerequisite, a duration
/// past the planning horizon), whatever the model answers about them: those jobs are unplanned with the optimizer's
/// reason, the rest is planned, and nothing throws.
/// </summary>
public sealed class PoisonQueueTests : IAsyncLifetime
{
    private readonly HttpClient _http = LlmClients.CreateHttpClient();
    private ScriptedModelServer _server = null!;

    public static TheoryData<string> LlmPlanners => [LlmPlanner.LlmName, LlmPlanner.HybridName];

    public async Task InitializeAsync() => _server = await ScriptedModelServer.StartAsync();

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    private static Job Poison(string id, double hours = 1, params string[] dependsOn) => new()
    {
        Id = id,
        DurationHours = hours,
        Resources = ResourceRequest.ForInstanceTypes(["c5.large"]),
        DependsOn = [.. dependsOn],
    };

    /// <summary>The fixtures' healthy queue and three poison jobs.</summary>
    private static PlanningProblem PoisonedProblem()
    {
        var healthy = Problem();
        return healthy with { Jobs = [.. healthy.Jobs, Poison("p", 1.5, "p"), Poison("orphan", 1, "ghost"), Poison("huge", 1e15)] };
    }

    private async Task<Plan> PlanWith(string planner, PlanningProblem problem)
    {
        var plan = await Planner(planner, Settings(_server, LlmProvider.Gemini), _http).SolveAsync(problem, Solve, CancellationToken.None);
        AssertValid(plan, problem);
        Assert.Equal(4, plan.Totals.JobsPlanned);
        Assert.Contains("p -> p", plan.Unplanned.Single(u => u.JobId == "p").Reason, StringComparison.Ordinal);
        Assert.Contains("'ghost'", plan.Unplanned.Single(u => u.JobId == "orphan").Reason, StringComparison.Ordinal);
        Assert.Contains("estimatedDurationHours 1E+15", plan.Unplanned.Single(u => u.JobId == "huge").Reason, StringComparison.Ordinal);
        return plan;
    }

    [Theory, MemberData(nameof(LlmPlanners))]
    public async Task A_model_that_plans_the_healthy_jobs_well_gets_its_plan_and_the_poison_stays_unplanned(string planner)
    {
        var problem = PoisonedProblem();
        _server.Enqueue(new ScriptedReply(Text: Answer(ValidEntries(Problem()))));

        var plan = await PlanWith(planner, problem);

        Assert.True(plan.Llm!.RawProposalValid);
        Assert.Null(plan.Llm.Fallback);
    }

    [Theory, MemberData(nameof(LlmPlanners))]
    public async Task A_model_that_schedules_the_poison_jobs_or_starts_at_the_end_of_time_is_repaired_not_thrown(string planner)
    {
        var problem = PoisonedProblem();
        var endOfTime = (DateTimeOffset.MaxValue.AddDays(-1) - Now).TotalHours;
        var entries = ValidEntries(Problem()).Select(e => e.Job == "a" ? e with { StartHours = endOfTime } : e)
            .Concat([("p", "on-demand", "c5.large", 0.0), ("orphan", "on-demand", "c5.large", 0.0), ("huge", "on-demand", "c5.large", 0.0)]);
        _server.Enqueue(new ScriptedReply(Text: Answer([.. entries])));

        var plan = await PlanWith(planner, problem);

        var violations = plan.Llm!.Violations;
        Assert.Contains(violations, v => v is { Kind: ViolationKind.MalformedAssignment, JobId: "a" });
        Assert.All(["p", "orphan", "huge"], id => Assert.Contains(violations, v => v.Kind == ViolationKind.Unplannable && v.JobId == id));
        Assert.Null(plan.Llm.Fallback);
    }
}
