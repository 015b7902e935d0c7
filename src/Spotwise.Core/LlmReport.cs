using System.Collections.Immutable;

namespace Spotwise.Core;

/// <summary>
/// What a generative model contributed to a plan, and how far it could be trusted: the plan document's
/// <c>llm</c> section. A plan from the <c>llm</c> or <c>hybrid</c> planner always carries one.
/// </summary>
public sealed record LlmReport
{
    /// <summary>The provider and model asked (<c>gemini/gemini-2.5-flash</c>).</summary>
    public required string Model { get; init; }

    /// <summary>Wall time of every model call together, retries and backoff included.</summary>
    public double LatencySeconds { get; init; }

    public long TokensIn { get; init; }

    public long TokensOut { get; init; }

    /// <summary>How many requests the queue was split into (the prompt's token budget).</summary>
    public int Chunks { get; init; }

    /// <summary>True when the model's proposal passed the validator untouched.</summary>
    public bool RawProposalValid { get; init; }

    /// <summary>Every rule the raw proposal broke, as the validator named it.</summary>
    public ImmutableArray<Violation> Violations { get; init; } = [];

    /// <summary>The jobs whose proposed assignment was dropped and planned again by the optimizer, and why.</summary>
    public ImmutableArray<LlmRepair> Repaired { get; init; } = [];

    /// <summary>Jobs whose proposed assignment was kept as the model gave it.</summary>
    public int Kept { get; init; }

    /// <summary>Set when the model gave nothing usable and the optimizer's plan was used instead: why.</summary>
    public string? Fallback { get; init; }

    /// <summary>True when the cycle's limit (<c>SolveOptions.TimeLimit</c>) came before the model's answer: <see cref="Fallback"/> says so.</summary>
    public bool TimedOut { get; init; }

    /// <summary>Expected cost of the kept plan against the optimizer's plan for the same jobs, in percent (+ is dearer).</summary>
    public double? CostVsOptimizerPct { get; init; }

    /// <summary>For <c>hybrid</c>: which plan was kept, <c>llm</c> or <c>cpsat</c> (hinted with the LLM plan).</summary>
    public string? Chosen { get; init; }
}

/// <summary>One job the repair re-planned: what the model proposed was dropped for this reason.</summary>
public sealed record LlmRepair(string JobId, string Reason);
