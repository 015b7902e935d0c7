namespace Spotwise.Core;

/// <summary>
/// Retries of a remote call refused for now (HTTP 429 and 5xx from a model, EC2's throttling): exponential backoff with
/// jitter, bounded in attempts and in each wait. One formula for every retrying client; each waits on its
/// <c>TimeProvider</c>, so tests advance a fake clock instead of sleeping.
/// </summary>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    public static RetryPolicy Default { get; } = new(4, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));

    /// <summary>
    /// The wait before attempt <paramref name="attempt"/> + 1: base × 2^(attempt-1), capped, then "equal jitter"
    /// (half fixed, half random) so clients that failed together do not retry together.
    /// </summary>
    public TimeSpan DelayAfter(int attempt, double random)
    {
        var exponential = BaseDelay.TotalMilliseconds * Math.Pow(2, attempt - 1);
        var capped = Math.Min(exponential, MaxDelay.TotalMilliseconds);
        return TimeSpan.FromMilliseconds(capped / 2 + capped / 2 * random);
    }
}
