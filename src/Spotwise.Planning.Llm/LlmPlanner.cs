using System.ClientModel;
using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
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
/// <para>
/// The model's time is bounded by the cycle's limit (<see cref="SolveOptions.TimeLimit"/>, on <paramref name="time"/>):
/// the optimizer solves meanwhile, within the same limit, so a model that never answers costs the cycle its limit and
/// no more; the plan says it fell back (<see cref="LlmReport.TimedOut"/>). The repair and the hinted solve get what
/// is left of the limit.
/// </para>
/// </summary>
public sealed partial class LlmPlanner(IChatClient chat, LlmSettings settings, bool hybrid, ILogger logger, TimeProvider? time = null) : IPlanner
{
    public const string LlmName = "llm";
    public const string HybridName = "hybrid";

    /// <summary>The least share of the cycle's limit the repair and the hinted solve get, however long the model took.</summary>
    private const double MinimumShareAfterModel = 0.1;

    private readonly CpSatPlanner _optimizer = new();
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public string Name => hybrid ? HybridName : LlmName;

    public async Task<Plan> SolveAsync(PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var started = _time.GetTimestamp();
        var jobOptions = OptionBuilder.Build(problem);
        // The optimizer's plan is the yardstick and the fallback; it solves while the model thinks.
        var optimizerTask = Task.Run(() => _optimizer.Solve(problem, options, cancellationToken), cancellationToken);
        var answer = await ProposeAsync(problem, jobOptions, options.TimeLimit, cancellationToken);
        var optimized = await optimizerTask;
        var report = new LlmReport
        {
            Model = settings.Describe(),
            LatencySeconds = answer.Latency.TotalSeconds,
            TokensIn = answer.TokensIn,
            TokensOut = answer.TokensOut,
            Chunks = answer.Chunks,
            TimedOut = answer.TimedOut,
        };
        if (answer.Failure is { } failure)
        {
            LogFallback(Name, report.Model, failure);
            return Finish(optimized, report with { Fallback = failure, Chosen = CpSatPlanner.PlannerName }, optimized, clock);
        }
        var (raw, unreadable) = Proposal.ToPlan(Name, problem, jobOptions, answer.Entries);
        var violations = unreadable.Concat(PlanValidator.Validate(raw, problem)).ToImmutableArray();
        var rest = options with { TimeLimit = Left(options.TimeLimit, started) };
        var repaired = await ProposalRepair.RepairAsync(Name, problem, jobOptions, raw, violations, _optimizer, rest, cancellationToken);
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
        var hinted = _optimizer.Solve(problem, rest with { TimeLimit = Left(options.TimeLimit, started) }, repaired.Plan, cancellationToken);
        var hintedWins = PlanComparison.IsBetter(hinted, repaired.Plan) && PlanValidator.Validate(hinted, problem).Count == 0;
        return Finish(hintedWins ? hinted : repaired.Plan, report with { Chosen = hintedWins ? CpSatPlanner.PlannerName : LlmName }, optimized, clock);
    }

    /// <summary>What is left of the cycle's limit, but never less than a tenth of it: the optimizer always gets a turn.</summary>
    private TimeSpan Left(TimeSpan limit, long started)
    {
        var left = limit - _time.GetElapsedTime(started);
        var floor = limit * MinimumShareAfterModel;
        return left > floor ? left : floor;
    }

    /// <summary>The plan under this planner's name, its solve time the whole of it (the model's time included), and its report.</summary>
    private Plan Finish(Plan plan, LlmReport report, Plan optimized, Stopwatch clock) => plan with
    {
        Planner = Name,
        Totals = plan.Totals with { SolveSeconds = Math.Round(clock.Elapsed.TotalSeconds, 3) },
        Llm = report with { CostVsOptimizerPct = PlanComparison.CostVsPct(plan, optimized) },
    };

    /// <summary>
    /// Asks the model about each chunk in turn, all within <paramref name="limit"/>; the first failure ends it (the
    /// optimizer then plans everything). Waiting stops at the limit even if the client ignores its cancellation.
    /// </summary>
    private async Task<Answer> ProposeAsync(PlanningProblem problem, IReadOnlyList<JobOptions> jobOptions, TimeSpan limit, CancellationToken cancellationToken)
    {
        var chunks = PlanPrompt.Build(problem, jobOptions, settings.Budget);
        var clock = Stopwatch.StartNew();
        var answer = new Answer { Chunks = chunks.Count };
        using var deadline = new CancellationTokenSource(limit, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
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
                    linked.Token).WaitAsync(linked.Token);
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
                answer.TimedOut = deadline.IsCancellationRequested;
                answer.Failure = answer.TimedOut
                    ? string.Create(CultureInfo.InvariantCulture, $"timeout: the model did not answer within the cycle's limit of {limit.TotalSeconds:0.###} s; the optimizer's plan is used")
                    : Describe(e);
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

        /// <summary>The cycle's limit came before the model's answer.</summary>
        public bool TimedOut { get; set; }
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
