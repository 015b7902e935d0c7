using System.ClientModel;
using System.ClientModel.Primitives;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using OpenAI;

namespace Spotwise.Planning.Llm;

/// <summary>
/// The chat client for settings: the provider's own client, inside a per-request time limit, inside bounded retries
/// (<c>Retry(Timeout(provider))</c>: each attempt has the full time limit).
/// </summary>
public static class LlmClients
{
    public static IChatClient Create(LlmSettings settings, HttpClient http, TimeProvider time, ILogger logger)
    {
        IChatClient provider = settings.Provider switch
        {
            LlmProvider.Gemini => new GeminiChatClient(http, settings.Endpoint, settings.ApiKey ?? "", settings.Model),
            _ => OpenAI(settings, http),
        };
        return new RetryingChatClient(new TimeoutChatClient(provider, settings.RequestTimeout, time), settings.Retry, time, logger);
    }

    /// <summary>An HttpClient with no time limit of its own: the <see cref="TimeoutChatClient"/> governs time.</summary>
    public static HttpClient CreateHttpClient() => new() { Timeout = Timeout.InfiniteTimeSpan };

    private static IChatClient OpenAI(LlmSettings settings, HttpClient http)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = settings.Endpoint,
            Transport = new HttpClientPipelineTransport(http),
            // Retries are ours (bounded, jittered, on the TimeProvider); the SDK's would wait on the wall clock.
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = Timeout.InfiniteTimeSpan,
        };
        // Local servers (Ollama, llama.cpp) take no key, but the SDK wants one: any placeholder will do.
        var key = new ApiKeyCredential(settings.ApiKey ?? "no-key");
        return new OpenAI.Chat.ChatClient(settings.Model, key, options).AsIChatClient();
    }
}
