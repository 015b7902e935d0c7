using System.ClientModel;
using System.Collections.Immutable;
using System.Diagnostics;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Spotwise.Core;

namespace Spotwise.Planning.Llm;

/// <summary>
/// The model proposes, Spotwise checks, repairs and measures. The queue (in chunks within the prompt's budget) goes to
/// the model, which answers a schedule in JSON; the answer is parsed strictly, judged by <see cref="PlanValidator"/>,
/// and repaired (valid assignments kept, the rest planned by the optimizer around them). <c>llm</c> returns the
/// repaired plan; <c>hybrid</c> hints CP-SAT with it and keeps the better of the two. No answer, a late one, a
/// refusal or malformed JSON falls back to the optimizer's plan, said in the plan and the log. Every plan carries an
/// <see cref="LlmReport"/>, its cost against the optimizer's plan included.
/// </summary>
public sealed partial class LlmPlanner(IChatClient chat, LlmSettings settings, bool hybrid, ILogger logger) : IPlanner
{
    public const string LlmName = "llm";
    public const string HybridName = "hybrid";

    private readonly CpSatPlanner _optimizer = new();

    public string Name => hybrid ? HybridName : LlmName;

    /// <summary>The planner contract is synchronous (a pure function); the model call is awaited here, off any UI thread.</summary>
    public Plan Solve(PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken) =>
        SolveAsync(problem, options, cancellationToken).GetAwaiter().GetResult();

    public async Task<Plan> SolveAsync(PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var jobOptions = OptionBuilder.Build(problem);
        // The optimizer's plan is the yardstick and the fallback; it solves while the model thinks.
        var optimizerTask = Task.Run(() => _optimizer.Solve(problem, options, cancellationToken), cancellationToken);
        var answer = await ProposeAsync(problem, jobOptions, cancellationToken);
        var optimized = await optimizerTask;
        var report = new LlmReport
        {
            Model = settings.Describe(),
            LatencySeconds = answer.Latency.TotalSeconds,
            TokensIn = answer.TokensIn,
            TokensOut = answer.TokensOut,
            Chunks = answer.Chunks,
        };
        if (answer.Failure is { } failure)
        {
            LogFallback(Name, report.Model, failure);
            return Finish(optimized, report with { Fallback = failure, Chosen = CpSatPlanner.PlannerName }, optimized, clock);
        }
        var (raw, unreadable) = Proposal.ToPlan(Name, problem, jobOptions, answer.Entries);
        var violations = unreadable.Concat(PlanValidator.Validate(raw, problem)).ToImmutableArray();
        var repaired = ProposalRepair.Repair(Name, problem, jobOptions, raw, violations, _optimizer, options, cancellationToken);
        report = report with
        {
            RawProposalValid = violations.IsEmpty,
            Violations = violations,
            Repaired = repaired.Replanned,
            Kept = repaired.Kept,
        };
        if (PlanValidator.Validate(repaired.Plan, problem) is { Count: > 0 } broken)
        {
            // The repair is ours; should it ever fail, the optimizer's plan still goes out, never an unchecked one.
            var why = $"the repaired plan broke {broken.Count} rule(s), first: {broken[0]}";
            LogFallback(Name, report.Model, why);
            return Finish(optimized, report with { Fallback = why, Chosen = CpSatPlanner.PlannerName }, optimized, clock);
        }
        LogProposal(Name, report.Model, violations.Length, repaired.Kept, repaired.Replanned.Length, report.LatencySeconds);
        if (!hybrid)
        {
            return Finish(repaired.Plan, report, optimized, clock);
        }
        var hinted = _optimizer.Solve(problem, options, repaired.Plan, cancellationToken);
        var hintedWins = PlanComparison.IsBetter(hinted, repaired.Plan) && PlanValidator.Validate(hinted, problem).Count == 0;
        return Finish(hintedWins ? hinted : repaired.Plan, report with { Chosen = hintedWins ? CpSatPlanner.PlannerName : LlmName }, optimized, clock);
    }

    /// <summary>The plan under this planner's name, its solve time the whole of it (the model's time included), and its report.</summary>
    private Plan Finish(Plan plan, LlmReport report, Plan optimized, Stopwatch clock) => plan with
    {
        Planner = Name,
        Totals = plan.Totals with { SolveSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3) },
        Llm = report with { CostVsOptimizerPct = PlanComparison.CostVsPct(plan, optimized) },
    };

    /// <summary>Asks the model about each chunk in turn; the first failure ends it (the optimizer then plans everything).</summary>
    private async Task<Answer> ProposeAsync(PlanningProblem problem, IReadOnlyList<JobOptions> jobOptions, CancellationToken cancellationToken)
    {
        var chunks = PlanPrompt.Build(problem, jobOptions, settings.Budget);
        var clock = Stopwatch.StartNew();
        var answer = new Answer { Chunks = chunks.Count };
        foreach (var (chunk, index) in chunks.Select((c, i) => (c, i + 1)))
        {
            try
            {
                var response = await chat.GetResponseAsync(
                    [new ChatMessage(ChatRole.System, chunk.System), new ChatMessage(ChatRole.User, chunk.User)],
                    new ChatOptions
                    {
                        ModelId = settings.Model,
                        Temperature = 0,
                        ResponseFormat = ChatResponseFormat.ForJsonSchema(chunk.Schema, PlanPrompt.SchemaName, "the schedule: one entry per job"),
                    },
                    cancellationToken);
                answer.TokensIn += response.Usage?.InputTokenCount ?? 0;
                answer.TokensOut += response.Usage?.OutputTokenCount ?? 0;
                if (string.IsNullOrWhiteSpace(response.Text))
                {
                    answer.Failure = Refusal(response) ?? "the model's answer was empty";
                }
                else
                {
                    answer.Entries.AddRange(Proposal.Parse(response.Text));
                }
            }
            catch (Exception e) when (!cancellationToken.IsCancellationRequested)
            {
                answer.Failure = Describe(e);
            }
            if (answer.Failure is not null)
            {
                answer.Failure = chunks.Count > 1 ? $"chunk {index} of {chunks.Count}: {answer.Failure}" : answer.Failure;
                break;
            }
        }
        answer.Latency = clock.Elapsed;
        return answer;
    }

    /// <summary>
    /// A refusal, as each provider says it: Gemini blocks or stops for safety (the content-filter finish reason);
    /// OpenAI's <c>refusal</c> field arrives as <see cref="ErrorContent"/>.
    /// </summary>
    private static string? Refusal(ChatResponse response)
    {
        var error = response.Messages.SelectMany(m => m.Contents).OfType<ErrorContent>().FirstOrDefault();
        return error is not null ? $"the model refused: {error.Message}"
            : response.FinishReason == ChatFinishReason.ContentFilter ? "the model refused to answer"
            : null;
    }

    /// <summary>What went wrong, in words for the plan and the log (never the request, which holds the key).</summary>
    private static string Describe(Exception e) => e switch
    {
        TimeoutException t => $"timeout: {t.Message}",
        MalformedProposalException m => $"malformed JSON: {m.Message}",
        HttpRequestException { StatusCode: { } code } h => $"HTTP {(int)code}: {h.Message}",
        HttpRequestException h => $"no connection: {h.Message}",
        ClientResultException c => $"HTTP {c.Status}: {c.Message}",
        _ => $"{e.GetType().Name}: {e.Message}",
    };

    private sealed class Answer
    {
        public List<ProposedAssignment> Entries { get; } = [];

        public long TokensIn { get; set; }

        public long TokensOut { get; set; }

        public int Chunks { get; init; }

        public TimeSpan Latency { get; set; }

        public string? Failure { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The {Planner} planner fell back to the optimizer: {Model} gave no usable plan ({Reason})")]
    private partial void LogFallback(string planner, string model, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "The {Planner} planner: {Model} proposed a plan with {Violations} violations; kept {Kept}, re-planned {Replanned}, in {Seconds:0.00} s")]
    private partial void LogProposal(string planner, string model, int violations, int kept, int replanned, double seconds);
}

/// <summary>How plans of the same jobs compare: more jobs planned wins, then the lower expected cost.</summary>
public static class PlanComparison
{
    public static bool IsBetter(Plan candidate, Plan incumbent)
    {
        var (a, b) = (candidate.Totals.JobsPlanned, incumbent.Totals.JobsPlanned);
        return a != b ? a > b : candidate.Totals.ExpectedCostUsd < incumbent.Totals.ExpectedCostUsd - 1e-6;
    }

    /// <summary>(plan − reference) / reference in percent; null when the reference costs nothing.</summary>
    public static double? CostVsPct(Plan plan, Plan reference) => reference.Totals.ExpectedCostUsd > 0
        ? Math.Round((plan.Totals.ExpectedCostUsd - reference.Totals.ExpectedCostUsd) / reference.Totals.ExpectedCostUsd * 100, 2)
        : null;
}
