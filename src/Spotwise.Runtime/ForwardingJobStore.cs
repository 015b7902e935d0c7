using Spotwise.Core.Serialization;
using Spotwise.Runtime.History;

namespace Spotwise.Runtime;

/// <summary>
/// A store that hands every call to <see cref="Inner"/>: the base of the stores that wrap another to add one thing
/// (a signal after writes, events published after commit, a gate or a counter in tests). A wrapper overrides only what
/// it changes, so a member added to <see cref="IJobStore"/> is forwarded here once instead of in every wrapper (a new
/// member once broke a merge in a wrapper nobody remembered). Disposing it disposes the inner store.
/// </summary>
public abstract class ForwardingJobStore(IJobStore inner) : IJobStore, IAsyncDisposable
{
    protected IJobStore Inner { get; } = inner;

    public virtual Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<Submission> batch, DateTimeOffset now, CancellationToken cancellationToken) =>
        Inner.SubmitAsync(batch, now, cancellationToken);

    public virtual Task<JobRecord?> GetAsync(JobKey key, CancellationToken cancellationToken) => Inner.GetAsync(key, cancellationToken);

    public virtual Task<IReadOnlyList<JobRecord>> ListAsync(JobQuery query, CancellationToken cancellationToken) => Inner.ListAsync(query, cancellationToken);

    public virtual Task<IReadOnlyDictionary<JobState, int>> CountByStateAsync(string? team, CancellationToken cancellationToken) =>
        Inner.CountByStateAsync(team, cancellationToken);

    public virtual Task<double> SpendSoFarUsdAsync(string? team, CancellationToken cancellationToken) => Inner.SpendSoFarUsdAsync(team, cancellationToken);

    public virtual Task<IReadOnlyList<JobEvent>> EventsAsync(JobKey key, CancellationToken cancellationToken) => Inner.EventsAsync(key, cancellationToken);

    public virtual Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken) =>
        Inner.TryUpdateAsync(updated, cause, at, cancellationToken);

    public virtual Task<IReadOnlyList<JobRecord?>> TryUpdateManyAsync(IReadOnlyList<(JobRecord Updated, string Cause)> updates, DateTimeOffset at,
        CancellationToken cancellationToken) => Inner.TryUpdateManyAsync(updates, at, cancellationToken);

    public virtual Task SavePlanAsync(PlanDocument plan, DateTimeOffset at, CancellationToken cancellationToken) => Inner.SavePlanAsync(plan, at, cancellationToken);

    public virtual Task<PlanDocument?> LatestPlanAsync(CancellationToken cancellationToken) => Inner.LatestPlanAsync(cancellationToken);

    public virtual Task<IReadOnlyList<PoolExposure>> SpotExposureAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        Inner.SpotExposureAsync(since, cancellationToken);

    public virtual async ValueTask DisposeAsync()
    {
        if (Inner is IAsyncDisposable disposable)
        {
            await disposable.DisposeAsync();
        }
        GC.SuppressFinalize(this);
    }
}
