using System.ClientModel;
using System.Net;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;
using Spotwise.Core;

namespace Spotwise.Planning.Llm;

/// <summary>
/// Retries a request the server refused for now (HTTP 429, 5xx, no connection): exponential backoff with jitter,
/// bounded, waiting on the <see cref="TimeProvider"/> so tests do not sleep. Anything else is passed on at once.
/// </summary>
public sealed partial class RetryingChatClient(IChatClient inner, RetryPolicy policy, TimeProvider time, ILogger logger, Random? random = null)
    : DelegatingChatClient(inner)
{
    private readonly Random _random = random ?? Random.Shared;

    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var list = messages as IList<ChatMessage> ?? [.. messages];
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await base.GetResponseAsync(list, options, cancellationToken);
            }
            catch (Exception e) when (attempt < policy.MaxAttempts && TransientStatus(e) is { } status)
            {
                var delay = policy.DelayAfter(attempt, _random.NextDouble());
                LogRetry(status, attempt, policy.MaxAttempts, delay.TotalSeconds);
                await Task.Delay(delay, time, cancellationToken);
            }
        }
    }

    /// <summary>The status worth retrying (0 for no connection), or null.</summary>
    public static int? TransientStatus(Exception e)
    {
        var status = e switch
        {
            HttpRequestException { StatusCode: { } code } => (int)code,
            HttpRequestException => 0,
            ClientResultException { Status: > 0 } c => c.Status,
            ClientResultException => 0,
            _ => -1,
        };
        return status is 0 or (int)HttpStatusCode.TooManyRequests or >= 500 ? status : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The model request failed with HTTP {Status} (0: no answer at all); attempt {Attempt} of {MaxAttempts}, retrying in {Seconds:0.00} s")]
    private partial void LogRetry(int status, int attempt, int maxAttempts, double seconds);
}

/// <summary>
/// Gives each request its own time limit on the <see cref="TimeProvider"/>; past it the request is abandoned with a
/// <see cref="TimeoutException"/> (the planner then falls back to the optimizer).
/// </summary>
public sealed class TimeoutChatClient(IChatClient inner, TimeSpan timeout, TimeProvider time) : DelegatingChatClient(inner)
{
    public override async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        using var limit = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            return await base.GetResponseAsync(messages, options, linked.Token);
        }
        catch (OperationCanceledException) when (limit.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the model did not answer within {timeout.TotalSeconds:0.#} s");
        }
    }
}
