using CsCheck;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using static Spotwise.Planning.Llm.Tests.LlmFixtures;

namespace Spotwise.Planning.Llm.Tests;

/// <summary>Whatever the model answers, the plan that comes out passes the validator and accounts for every violation.</summary>
public sealed class ProposalPropertyTests
{
    /// <summary>A callback fake at the edge: answers every request with the given text.</summary>
    private sealed class FixedAnswer(string text) : IChatClient
    {
        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, text)));

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    private static readonly Gen<(string, string, string, double)> Entry = Gen.Select(
        Gen.OneOfConst("a", "b", "c", Injection, "x1", "x2", "ghost"),
        Gen.OneOfConst("spot", "on-demand", "cheap"),
        Gen.OneOfConst("c5.large", "m5.large", "p5.48xlarge", "z9.mega"),
        Gen.Int[-4, 40].Select(q => q / 4.0));

    [Fact]
    public async Task Any_proposal_ends_in_a_valid_plan_with_every_job_accounted_for()
    {
        var problem = Problem(extraJobs: 2);
        var settings = new LlmSettings { Provider = LlmProvider.Gemini, Model = "fake", Endpoint = new Uri("http://127.0.0.1:1") };
        await Entry.Array[0, 12].SampleAsync(async entries =>
        {
            // Both planners: hybrid on odd-sized answers.
            var planner = new LlmPlanner(new FixedAnswer(Answer(entries)), settings, hybrid: entries.Length % 2 == 1, NullLogger.Instance);
            var plan = await planner.SolveAsync(problem, new SolveOptions { TimeLimit = TimeSpan.FromSeconds(1), Workers = 1 }, CancellationToken.None);
            AssertValid(plan, problem);
            var llm = plan.Llm!;
            Assert.Null(llm.Fallback);
            Assert.Equal(llm.Violations.IsEmpty, llm.RawProposalValid);
            // Every job is either kept as proposed or re-planned with a reason, never both.
            Assert.Equal(problem.Jobs.Length, llm.Kept + llm.Repaired.Length);
            Assert.Equal(problem.Jobs.Length, plan.Totals.JobsPlanned + plan.Totals.JobsUnplanned);
        }, iter: 40);
    }
}
