using Spotwise.Core.Serialization;
using Spotwise.Runtime;

namespace Spotwise.Intake.RabbitMq.Tests;

/// <summary>
/// The store, with a gate in front of submissions a test can close (messages then stay in flight, unacknowledged), and
/// a tally of what submissions answered (a duplicate is a redelivered message).
/// </summary>
public sealed class GatedStore(IJobStore inner) : IJobStore
{
    private volatile TaskCompletionSource _gate = Opened();
    private int _waiting;
    private int _duplicates;

    public int Waiting => Volatile.Read(ref _waiting);

    public int Duplicates => Volatile.Read(ref _duplicates);

    public void Close() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate.TrySetResult();

    public async Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<Submission> batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        await _gate.Task;
        Interlocked.Decrement(ref _waiting);
        var results = await inner.SubmitAsync(batch, now, cancellationToken);
        Interlocked.Add(ref _duplicates, results.Count(r => r.Outcome == SubmitOutcome.Duplicate));
        return results;
    }

    public Task<JobRecord?> GetAsync(JobKey key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

    public Task<IReadOnlyList<JobRecord>> ListAsync(JobQuery query, CancellationToken cancellationToken) => inner.ListAsync(query, cancellationToken);

    public Task<IReadOnlyDictionary<JobState, int>> CountByStateAsync(string? team, CancellationToken cancellationToken) =>
        inner.CountByStateAsync(team, cancellationToken);

    public Task<double> SpendSoFarUsdAsync(string? team, CancellationToken cancellationToken) => inner.SpendSoFarUsdAsync(team, cancellationToken);

    public Task<IReadOnlyList<JobEvent>> EventsAsync(JobKey key, CancellationToken cancellationToken) => inner.EventsAsync(key, cancellationToken);

    public Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken) =>
        inner.TryUpdateAsync(updated, cause, at, cancellationToken);

    public Task<IReadOnlyList<JobRecord?>> TryUpdateManyAsync(IReadOnlyList<(JobRecord Updated, string Cause)> updates, DateTimeOffset at,
        CancellationToken cancellationToken) => inner.TryUpdateManyAsync(updates, at, cancellationToken);

    public Task SavePlanAsync(PlanDocument plan, DateTimeOffset at, CancellationToken cancellationToken) => inner.SavePlanAsync(plan, at, cancellationToken);

    public Task<PlanDocument?> LatestPlanAsync(CancellationToken cancellationToken) => inner.LatestPlanAsync(cancellationToken);

    public Task<IReadOnlyList<Spotwise.Runtime.History.PoolExposure>> SpotExposureAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        inner.SpotExposureAsync(since, cancellationToken);

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}
