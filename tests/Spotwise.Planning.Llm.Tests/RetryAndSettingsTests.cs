using System.Net;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;

namespace Spotwise.Planning.Llm.Tests;

/// <summary>Backoff on the TimeProvider (no real sleeping), its bounds, and where the model's settings come from.</summary>
public sealed class RetryAndSettingsTests
{
    /// <summary>A callback fake at the edge: each call answers with the next outcome.</summary>
    private sealed class CallbackChatClient(Func<int, ChatResponse> answer) : IChatClient
    {
        public int Calls { get; private set; }

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
            Task.FromResult(answer(++Calls));

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
            CancellationToken cancellationToken = default) => throw new NotSupportedException();

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task A_retry_waits_its_backoff_on_the_time_provider_before_asking_again()
    {
        var time = new FakeTimeProvider();
        var inner = new CallbackChatClient(call => call == 1
            ? throw new HttpRequestException("busy", null, HttpStatusCode.TooManyRequests)
            : new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));
        var policy = new RetryPolicy(3, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(30));
        using var client = new RetryingChatClient(inner, policy, time, NullLogger.Instance, new Random(1));
        var pending = client.GetResponseAsync("hello");
        Assert.Equal(1, inner.Calls);
        time.Advance(TimeSpan.FromSeconds(0.99));
        Assert.Equal(1, inner.Calls);
        time.Advance(TimeSpan.FromSeconds(1.01));
        Assert.Equal("ok", (await pending).Text);
        Assert.Equal(2, inner.Calls);
    }

    [Fact]
    public async Task A_client_error_other_than_429_is_not_retried()
    {
        var inner = new CallbackChatClient(_ => throw new HttpRequestException("bad key", null, HttpStatusCode.Unauthorized));
        using var client = new RetryingChatClient(inner, RetryPolicy.Default, new FakeTimeProvider(), NullLogger.Instance);
        await Assert.ThrowsAsync<HttpRequestException>(() => client.GetResponseAsync("hello"));
        Assert.Equal(1, inner.Calls);
    }

    [Theory]
    [InlineData(1, 0.0, 500)]
    [InlineData(1, 1.0, 1000)]
    [InlineData(3, 1.0, 4000)]
    [InlineData(10, 1.0, 20000)]
    [InlineData(10, 0.0, 10000)]
    public void Backoff_doubles_is_capped_and_keeps_half_of_it_fixed(int attempt, double random, double expectedMs)
    {
        var delay = RetryPolicy.Default.DelayAfter(attempt, random);
        Assert.Equal(expectedMs, delay.TotalMilliseconds, 6);
    }

    [Fact]
    public void Without_a_key_the_error_names_the_variables_to_set()
    {
        var (settings, error) = LlmEnvironment.Resolve(null, null, _ => null);
        Assert.Null(settings);
        Assert.Contains("GEMINI_API_KEY", error, StringComparison.Ordinal);
        Assert.Contains("SPOTWISE_LLM_ENDPOINT", error, StringComparison.Ordinal);
        Assert.Contains("SPOTWISE_LLM_API_KEY", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Gemini_is_taken_from_its_key_and_its_endpoint_replaces_the_public_host()
    {
        var env = new Dictionary<string, string> { ["GEMINI_API_KEY"] = "k", ["SPOTWISE_GEMINI_ENDPOINT"] = "http://127.0.0.1:9999" };
        var (settings, _) = LlmEnvironment.Resolve(null, null, env.GetValueOrDefault);
        Assert.Equal(LlmProvider.Gemini, settings!.Provider);
        Assert.Equal("gemini-2.5-flash", settings.Model);
        Assert.Equal("http://127.0.0.1:9999/v1beta/models/gemini-2.5-flash:generateContent",
            GeminiChatClient.GenerateContentUri(settings.Endpoint, settings.Model).ToString());
    }

    [Fact]
    public void An_OpenAI_compatible_server_is_taken_from_its_endpoint()
    {
        var env = new Dictionary<string, string> { ["SPOTWISE_LLM_ENDPOINT"] = "http://localhost:11434/v1" };
        var (settings, _) = LlmEnvironment.Resolve(null, "llama3.1", env.GetValueOrDefault);
        Assert.Equal((LlmProvider.OpenAI, "llama3.1", null), (settings!.Provider, settings.Model, settings.ApiKey));
    }

    [Fact]
    public void Empty_provider_and_model_settings_mean_not_chosen()
    {
        var env = new Dictionary<string, string> { ["GEMINI_API_KEY"] = "k" };
        var (settings, error) = LlmEnvironment.Resolve("", " ", env.GetValueOrDefault);
        Assert.Null(error);
        Assert.Equal((LlmProvider.Gemini, "gemini-2.5-flash"), (settings!.Provider, settings.Model));
    }

    [Fact]
    public void Asking_for_a_provider_that_is_not_configured_names_its_variable()
    {
        var env = new Dictionary<string, string> { ["SPOTWISE_LLM_ENDPOINT"] = "http://localhost:11434/v1" };
        var (_, error) = LlmEnvironment.Resolve("gemini", null, env.GetValueOrDefault);
        Assert.Contains("GEMINI_API_KEY", error, StringComparison.Ordinal);
    }
}
