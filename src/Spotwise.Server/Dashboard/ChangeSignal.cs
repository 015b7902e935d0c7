using Spotwise.Core.Serialization;
using Spotwise.Runtime;

namespace Spotwise.Server.Dashboard;

/// <summary>
/// Tells the dashboard's open pages that something changed: every write to the store (submit, plan, launch,
/// interruption, cancel) bumps <see cref="Version"/> and wakes whoever waits. Cheap; never blocks a writer.
/// </summary>
public sealed class ChangeSignal
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _version;

    public long Version => Interlocked.Read(ref _version);

    public void Changed()
    {
        Interlocked.Increment(ref _version);
        Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    /// <summary>Completes at the next change after the call.</summary>
    public Task NextAsync(CancellationToken cancellationToken) => Volatile.Read(ref _next).Task.WaitAsync(cancellationToken);
}

/// <summary>The store, raising <see cref="ChangeSignal.Changed"/> after each write: the one place every writer passes.</summary>
public sealed class SignallingJobStore(IJobStore inner, ChangeSignal signal) : IJobStore, IAsyncDisposable
{
    public async Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<Submission> batch, DateTimeOffset now, CancellationToken cancellationToken) =>
        Signal(await inner.SubmitAsync(batch, now, cancellationToken));

    public Task<JobRecord?> GetAsync(JobKey key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

    public Task<IReadOnlyList<JobRecord>> ListAsync(JobQuery query, CancellationToken cancellationToken) => inner.ListAsync(query, cancellationToken);

    public Task<IReadOnlyDictionary<JobState, int>> CountByStateAsync(string? team, CancellationToken cancellationToken) =>
        inner.CountByStateAsync(team, cancellationToken);

    public Task<double> SpendSoFarUsdAsync(string? team, CancellationToken cancellationToken) => inner.SpendSoFarUsdAsync(team, cancellationToken);

    public Task<IReadOnlyList<JobEvent>> EventsAsync(JobKey key, CancellationToken cancellationToken) => inner.EventsAsync(key, cancellationToken);

    public async Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken) =>
        Signal(await inner.TryUpdateAsync(updated, cause, at, cancellationToken));

    public async Task<IReadOnlyList<JobRecord?>> TryUpdateManyAsync(IReadOnlyList<(JobRecord Updated, string Cause)> updates, DateTimeOffset at,
        CancellationToken cancellationToken) =>
        Signal(await inner.TryUpdateManyAsync(updates, at, cancellationToken));

    public async Task SavePlanAsync(PlanDocument plan, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await inner.SavePlanAsync(plan, at, cancellationToken);
        signal.Changed();
    }

    public Task<PlanDocument?> LatestPlanAsync(CancellationToken cancellationToken) => inner.LatestPlanAsync(cancellationToken);

    public Task<IReadOnlyList<Spotwise.Runtime.History.PoolExposure>> SpotExposureAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        inner.SpotExposureAsync(since, cancellationToken);

    public ValueTask DisposeAsync() => inner is IAsyncDisposable d ? d.DisposeAsync() : ValueTask.CompletedTask;

    private T Signal<T>(T result)
    {
        signal.Changed();
        return result;
    }
}
