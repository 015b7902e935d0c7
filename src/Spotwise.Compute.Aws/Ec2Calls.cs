using System.Text.RegularExpressions;
using Amazon.EC2;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Spotwise.Runtime.Backends;
using RetryPolicy = Spotwise.Core.RetryPolicy;

namespace Spotwise.Compute.Aws;

/// <summary>
/// Every EC2 call the backend makes goes through here: the client is made on first need (the SDK resolves credentials
/// then), throttling and transient server errors are retried with capped exponential backoff and jitter waiting on the
/// <see cref="TimeProvider"/> (the SDK's own retries are off: they wait on the wall clock), and what keeps the backend
/// from acting (a missing permission, no or refused credentials, an account not opted in) is written to
/// <see cref="BackendHealth"/> and thrown as <see cref="BackendUnavailableException"/>, so the job waits for the next
/// tick. A call that succeeds clears its problem. Everything else (capacity, quota, a mismatched token) is the caller's.
/// </summary>
internal sealed partial class Ec2Calls(Func<IAmazonEC2> createClient, RetryPolicy retry, TimeProvider time, ILogger logger, BackendHealth? health,
    Random random)
{
    private readonly Lock _lock = new();
    private IAmazonEC2? _client;

    public async Task<T> SendAsync<T>(string action, Func<IAmazonEC2, CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                var result = await call(Client(), cancellationToken).ConfigureAwait(false);
                health?.Cleared(AwsComputeRegistration.Name, Permission(action));
                return result;
            }
            catch (Exception e) when (attempt < retry.MaxAttempts && Ec2ErrorCodes.IsTransient(e))
            {
                var delay = retry.DelayAfter(attempt, random.NextDouble());
                LogRetry(action, Reason(e), attempt, retry.MaxAttempts, delay.TotalSeconds);
                await Task.Delay(delay, time, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (Unavailable(action, e) is { } problem)
            {
                Report(problem, e);
                throw new BackendUnavailableException(problem.ToString(), e);
            }
            catch (AmazonServiceException e) when (!Ec2ErrorCodes.IsTransient(e))
            {
                // Any other answer (capacity, quota, a bad parameter) comes after AWS checked credentials and permission.
                health?.Cleared(AwsComputeRegistration.Name, Permission(action));
                throw;
            }
        }
    }

    /// <summary>The IAM action a call needs: <c>ec2:RunInstances</c>.</summary>
    public static string Permission(string action) => "ec2:" + action;

    /// <summary>The client, made on first need; a failure (no credentials) is not kept, so the next call tries again.</summary>
    private IAmazonEC2 Client()
    {
        lock (_lock)
        {
            return _client ??= createClient();
        }
    }

    /// <summary>The problem a failure says the backend has, or null when it is not one of the backend's health.</summary>
    private BackendProblem? Unavailable(string action, Exception e)
    {
        var now = time.GetUtcNow();
        const string Aws = AwsComputeRegistration.Name;
        if (Ec2ErrorCodes.IsNoCredentials(e))
        {
            return new BackendProblem(Aws, BackendProblem.Credentials,
                $"no AWS credentials found (the SDK's default chain: environment, profile, SSO, instance role): {FirstLine(e.Message)}", now)
            { WholeBackend = true };
        }
        if (e is not AmazonServiceException { ErrorCode: { } code } service)
        {
            return null;
        }
        var said = $"{code}: {Shortened(service.Message)}";
        return code switch
        {
            Ec2ErrorCodes.UnauthorizedOperation => new BackendProblem(Aws, Permission(action), $"missing permission {Permission(action)} ({said}){AlsoNeeded(action)}", now),
            _ when Ec2ErrorCodes.Credentials.Contains(code) => new BackendProblem(Aws, BackendProblem.Credentials, $"AWS refused the credentials ({said})", now) { WholeBackend = true },
            _ when Ec2ErrorCodes.Account.Contains(code) => new BackendProblem(Aws, BackendProblem.Account, $"the account cannot use EC2 here ({said})", now) { WholeBackend = true },
            _ => null,
        };
    }

    /// <summary>
    /// Tagging at launch needs ec2:CreateTags besides ec2:RunInstances (and CreateFleet needs both besides its own), and AWS answers UnauthorizedOperation for any:
    /// which one is missing is in the encoded message, which only sts:DecodeAuthorizationMessage can read.
    /// </summary>
    private static string AlsoNeeded(string action) => action switch
    {
        "RunInstances" => "; tagging at launch also needs ec2:CreateTags (`aws sts decode-authorization-message` names the one missing)",
        // An instant fleet launches and tags on the caller's behalf: its errors name CreateFleet for either.
        "CreateFleet" => "; an instant fleet also needs ec2:RunInstances and ec2:CreateTags (`aws sts decode-authorization-message` names the one missing)",
        _ => "",
    };

    private void Report(BackendProblem problem, Exception e)
    {
        if (health is null)
        {
            LogUnavailable(problem.ToString(), e.Message);
            return;
        }
        var known = health.Problems.Any(p => p.Backend == problem.Backend && p.Subject == problem.Subject);
        health.Failing(problem.Backend, problem.Subject, problem.Message, problem.Since, problem.WholeBackend);
        if (!known)
        {
            // Once per problem, with AWS's whole message (the encoded reason included, for decode-authorization-message).
            LogUnavailable(problem.ToString(), e.Message);
        }
    }

    private static string Reason(Exception e) => e is AmazonServiceException { ErrorCode: { } code } s
        ? $"{code} (HTTP {(int)s.StatusCode})"
        : $"{e.GetType().Name}: {FirstLine(e.Message)}";

    private static string FirstLine(string message) => message.Split('\n', 2)[0].Trim();

    /// <summary>An encoded authorization message runs to kilobytes: its start is kept, the whole is in the log.</summary>
    private static string Shortened(string message) => EncodedMessage().Replace(message, m => m.Groups[1].Value + m.Groups[2].Value[..Math.Min(16, m.Groups[2].Value.Length)] + "…");

    [GeneratedRegex(@"(Encoded authorization failure message: )(\S+)")]
    private static partial Regex EncodedMessage();

    [LoggerMessage(Level = LogLevel.Warning, Message = "EC2 {Action} failed ({Reason}); attempt {Attempt} of {MaxAttempts}, retrying in {Seconds:0.00} s")]
    private partial void LogRetry(string action, string reason, int attempt, int maxAttempts, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "The AWS backend cannot act: {Problem}. AWS said: {Said}")]
    private partial void LogUnavailable(string problem, string said);
}
