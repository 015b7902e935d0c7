namespace Spotwise.Planning.Llm;

/// <summary>
/// Reads the model's address and key from the environment: <c>GEMINI_API_KEY</c> (and <c>SPOTWISE_GEMINI_ENDPOINT</c>)
/// for Gemini; <c>SPOTWISE_LLM_ENDPOINT</c> and <c>SPOTWISE_LLM_API_KEY</c> for an OpenAI-compatible server.
/// </summary>
public static class LlmEnvironment
{
    public const string GeminiApiKey = "GEMINI_API_KEY";
    public const string GeminiEndpoint = "SPOTWISE_GEMINI_ENDPOINT";
    public const string OpenAIEndpoint = "SPOTWISE_LLM_ENDPOINT";
    public const string OpenAIApiKey = "SPOTWISE_LLM_API_KEY";

    public static IReadOnlyList<string> ProviderNames { get; } = ["gemini", "openai"];

    /// <summary>
    /// The settings for <paramref name="provider"/> (gemini, openai, or null: whichever is configured, Gemini first),
    /// or why there are none: a message naming the variable to set.
    /// </summary>
    public static (LlmSettings? Settings, string? Error) Resolve(string? provider, string? model, Func<string, string?> env)
    {
        var geminiKey = NonEmpty(env(GeminiApiKey));
        var openAIEndpoint = NonEmpty(env(OpenAIEndpoint));
        var openAIKey = NonEmpty(env(OpenAIApiKey));
        // An empty setting (serve passes every flag on, given or not) means "not chosen".
        model = NonEmpty(model);
        provider = NonEmpty(provider) ?? (geminiKey is not null ? "gemini" : openAIEndpoint is not null || openAIKey is not null ? "openai" : null);
        return provider switch
        {
            null => (null, $"no model is configured: set {GeminiApiKey} for Gemini, or {OpenAIEndpoint} and {OpenAIApiKey} for an OpenAI-compatible server"),
            "gemini" when geminiKey is null => (null, $"--llm-provider gemini needs {GeminiApiKey} to be set"),
            "gemini" => Settings(LlmProvider.Gemini, model ?? LlmSettings.DefaultGeminiModel, geminiKey, env(GeminiEndpoint), LlmSettings.PublicGeminiEndpoint, GeminiEndpoint),
            "openai" when openAIEndpoint is null && openAIKey is null =>
                (null, $"--llm-provider openai needs {OpenAIEndpoint} (and {OpenAIApiKey} unless the server takes none) to be set"),
            "openai" => Settings(LlmProvider.OpenAI, model ?? LlmSettings.DefaultOpenAIModel, openAIKey, openAIEndpoint, LlmSettings.PublicOpenAIEndpoint, OpenAIEndpoint),
            _ => (null, $"--llm-provider: '{provider}' is not a provider; choose one of {string.Join(", ", ProviderNames)}"),
        };
    }

    private static (LlmSettings? Settings, string? Error) Settings(LlmProvider provider, string model, string? key, string? endpoint, Uri fallback, string variable)
    {
        if (NonEmpty(endpoint) is not { } value)
        {
            return (new LlmSettings { Provider = provider, Model = model, Endpoint = fallback, ApiKey = key }, null);
        }
        return Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? (new LlmSettings { Provider = provider, Model = model, Endpoint = uri, ApiKey = key }, null)
            : (null, $"{variable}: '{value}' is not an http(s) URL");
    }

    private static string? NonEmpty(string? s) => string.IsNullOrWhiteSpace(s) ? null : s.Trim();
}
