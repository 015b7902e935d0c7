using Spotwise.Core;

namespace Spotwise.Planning.Llm;

/// <summary>Which wire format the model speaks.</summary>
public enum LlmProvider
{
    /// <summary>Google's Gemini API: <c>models/{model}:generateContent</c> with a response schema.</summary>
    Gemini,

    /// <summary>Any OpenAI-compatible chat completions server: OpenAI, Azure OpenAI, Ollama, vLLM, llama.cpp.</summary>
    OpenAI,
}

/// <summary>How to reach the model and how patiently. Secrets come from the environment only (<see cref="LlmEnvironment"/>).</summary>
public sealed record LlmSettings
{
    public const string DefaultGeminiModel = "gemini-2.5-flash";
    public const string DefaultOpenAIModel = "gpt-4o-mini";
    public static readonly Uri PublicGeminiEndpoint = new("https://generativelanguage.googleapis.com");
    public static readonly Uri PublicOpenAIEndpoint = new("https://api.openai.com/v1");

    public required LlmProvider Provider { get; init; }

    public required string Model { get; init; }

    /// <summary>Gemini: scheme and host the client appends <c>/v1beta/models/{model}:generateContent</c> to. OpenAI: the base URL (…/v1).</summary>
    public required Uri Endpoint { get; init; }

    /// <summary>Never logged, never written to a plan.</summary>
    public string? ApiKey { get; init; }

    /// <summary>How long one request may take before the planner falls back to the optimizer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(120);

    public RetryPolicy Retry { get; init; } = RetryPolicy.Default;

    public PromptBudget Budget { get; init; } = PromptBudget.Default;

    /// <summary>The name the plan's <c>llm</c> section and the logs use: <c>gemini/gemini-2.5-flash</c>.</summary>
    public string Describe() => $"{(Provider == LlmProvider.Gemini ? "gemini" : "openai")}/{Model}";
}

/// <summary>
/// The prompt's size limits. A queue beyond them is split into chunks, each asked separately; tokens are estimated
/// at four characters each (docs/llm.md).
/// </summary>
public sealed record PromptBudget(int MaxPromptTokens, int MaxJobsPerChunk)
{
    /// <summary>
    /// 24,000 prompt tokens and 150 jobs per request: about 110 tokens per job, and an answer of about 45 tokens per
    /// job stays under 8,000 output tokens, which every current model allows.
    /// </summary>
    public static PromptBudget Default { get; } = new(24_000, 150);

    public const int CharsPerToken = 4;
}
