using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Core;
using Spotwise.Planning;
using Spotwise.Planning.Llm;

namespace Spotwise.Runtime.Tests;

/// <summary>
/// A model-backed planner in the scheduler's cycle: the model's time is bounded by the cycle's limit
/// (<see cref="SolveOptions.TimeLimit"/>), after which the optimizer's plan is used and the plan says so. The planner
/// and the scheduler share the fake clock, so the limit is reached by moving it, not by waiting.
/// </summary>
public sealed class ModelTimeLimitTests : StoreTestBase
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(30);

    private static readonly LlmSettings Settings = new() { Provider = LlmProvider.Gemini, Model = "silent", Endpoint = new Uri("http://127.0.0.1:1") };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_model_that_never_answers_costs_the_cycle_its_limit_and_the_optimizers_plan_is_used_with_a_note(bool hybrid)
    {
        var model = new SilentModel();
        var planner = new LlmPlanner(model, Settings, hybrid, NullLogger.Instance, Time);
        var options = new SchedulerOptions { Solve = SolveOptions.Default with { TimeLimit = Limit, Workers = 1 } };
        var scheduler = new Scheduler(Store, new CatalogPriceFeed(Catalog), planner, options, Time, NullLogger<Scheduler>.Instance);
        await Store.SubmitAsync([new Submission(P3Job("a", 1, 8), Team, "{}")], Now, CancellationToken.None);

        var cycle = scheduler.RunCycleAsync(CancellationToken.None);
        await model.Asked;
        Time.Advance(Limit - TimeSpan.FromSeconds(1));
        Assert.False(cycle.IsCompleted, "the cycle ended before its limit although the model had not answered");
        Time.Advance(TimeSpan.FromSeconds(1));
        // A guard on the real clock, far above the cycle's own work: without the limit the cycle would wait forever.
        var plan = await cycle.WaitAsync(TimeSpan.FromMinutes(1), TimeProvider.System);

        Assert.NotNull(plan);
        var llm = plan.Llm!;
        Assert.True(llm.TimedOut);
        Assert.Equal("timeout: the model did not answer within the cycle's limit of 30 s; the optimizer's plan is used", llm.Fallback);
        Assert.Equal(CpSatPlanner.PlannerName, llm.Chosen);
        Assert.Equal(Scheduler.PlanningId((await Get("a"))!), Assert.Single(plan.Schedule).JobId);
        Assert.Equal(JobState.Planned, (await Get("a"))!.State);
        Assert.True((await Store.LatestPlanAsync(CancellationToken.None))!.Llm!.TimedOut);
    }

    [Fact]
    public async Task A_model_that_answers_in_time_is_not_reported_as_timed_out()
    {
        var planner = new LlmPlanner(new EmptyModel(), Settings, hybrid: false, NullLogger.Instance, Time);
        var problem = new PlanningProblem(Now, [P3Job("a", 1, 8)], Catalog, CapacityLimits.Default);

        var plan = await planner.SolveAsync(problem, SolveOptions.Default with { TimeLimit = Limit, Workers = 1 }, CancellationToken.None);

        Assert.False(plan.Llm!.TimedOut);
        Assert.Equal("the model's answer was empty", plan.Llm.Fallback);
        Assert.Null(Core.Serialization.PlanDocument.From(plan).Llm!.TimedOut);
    }

    /// <summary>A model that takes the question and never answers, deaf to cancellation (the planner must stop waiting anyway).</summary>
    private sealed class SilentModel : IChatClient
    {
        private readonly TaskCompletionSource _asked = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task Asked => _asked.Task;

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            _asked.TrySetResult();
            return new TaskCompletionSource<ChatResponse>().Task;
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    /// <summary>A model that answers at once, with nothing.</summary>
    private sealed class EmptyModel : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "")));

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
