using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Server.Tests.Attempts;

/// <summary>Jobs brought to a launched attempt in the store, as the reconcile loop leaves them, without running the loops.</summary>
internal static class LaunchedJobs
{
    public const string Job = """{"jobId":"job-1","priority":5,"deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_small"},"command":"true"}""";

    /// <summary>
    /// Moves the stored job to its attempt <paramref name="attempt"/> (launching), planning it first if the scheduler has
    /// not; returns that attempt's client token. Retries when the scheduler wrote the job meanwhile (version guard).
    /// </summary>
    public static async Task<string> LaunchAsync(IJobStore store, JobKey key, DateTimeOffset now, int attempt = 1)
    {
        for (var tries = 0; tries < 20; tries++)
        {
            var job = await store.GetAsync(key, default) ?? throw new InvalidOperationException($"no job {key}");
            if (job.Attempt >= attempt)
            {
                return ClientTokens.For(key, attempt);
            }
            var next = job.State is JobState.Queued
                ? JobTransitions.Plan(job, new Placement(Market.OnDemand, "m5.large", "us-east-1a", now, 0.1, 0.2, null), "test")
                : JobTransitions.Launch(job, Request(job, job.Attempt + 1), "test: launched");
            await store.TryUpdateAsync(next.Record, next.Cause, now, default);
        }
        throw new InvalidOperationException($"job {key} kept changing");
    }

    private static LaunchRequest Request(JobRecord job, int attempt) => new(
        ClientTokens.For(job.Key, attempt), job.Team, job.Id, attempt, Market.OnDemand, "m5.large", "us-east-1a", 2, false, 0, job.Job.Command);

    /// <summary>The path an agent posts to: the token percent-encoded, as the agent encodes it.</summary>
    public static string EventsPath(string clientToken) => $"/api/attempts/{Uri.EscapeDataString(clientToken)}/events";
}
