using Spotwise.Core.Serialization;
using Spotwise.Runtime;

namespace Spotwise.Intake.RabbitMq;

/// <summary>
/// The store, handing every committed write to the event publisher: every writer of a job's state (the intake, the
/// scheduler, the reconcile loop, the API's cancel) passes the store, so this is the one place state changes are seen.
/// It only enqueues after the commit (never waits for the broker); <see cref="JobEventPublisher"/> reads the store's own
/// event of the write and publishes it.
/// </summary>
public sealed class EventPublishingJobStore(IJobStore inner, CommittedWrites queue) : IJobStore, IAsyncDisposable
{
    public async Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<Submission> batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var results = await inner.SubmitAsync(batch, now, cancellationToken);
        foreach (var created in results.Where(r => r.Outcome == SubmitOutcome.Created && r.Record is not null))
        {
            queue.Add(new CommittedWrite(created.Record!, Cause: null, now));
        }
        return results;
    }

    public Task<JobRecord?> GetAsync(JobKey key, CancellationToken cancellationToken) => inner.GetAsync(key, cancellationToken);

    public Task<IReadOnlyList<JobRecord>> ListAsync(JobQuery query, CancellationToken cancellationToken) => inner.ListAsync(query, cancellationToken);

    public Task<IReadOnlyDictionary<JobState, int>> CountByStateAsync(string? team, CancellationToken cancellationToken) =>
        inner.CountByStateAsync(team, cancellationToken);

    public Task<double> SpendSoFarUsdAsync(string? team, CancellationToken cancellationToken) => inner.SpendSoFarUsdAsync(team, cancellationToken);

    public Task<IReadOnlyList<JobEvent>> EventsAsync(JobKey key, CancellationToken cancellationToken) => inner.EventsAsync(key, cancellationToken);

    public async Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var stored = await inner.TryUpdateAsync(updated, cause, at, cancellationToken);
        if (stored is not null)
        {
            queue.Add(new CommittedWrite(stored, cause, at));
        }
        return stored;
    }

    public async Task<IReadOnlyList<JobRecord?>> TryUpdateManyAsync(IReadOnlyList<(JobRecord Updated, string Cause)> updates, DateTimeOffset at,
        CancellationToken cancellationToken)
    {
        var stored = await inner.TryUpdateManyAsync(updates, at, cancellationToken);
        for (var i = 0; i < stored.Count; i++)
        {
            if (stored[i] is { } record)
            {
                queue.Add(new CommittedWrite(record, updates[i].Cause, at));
            }
        }
        return stored;
    }

    public Task SavePlanAsync(PlanDocument plan, DateTimeOffset at, CancellationToken cancellationToken) => inner.SavePlanAsync(plan, at, cancellationToken);

    public Task<PlanDocument?> LatestPlanAsync(CancellationToken cancellationToken) => inner.LatestPlanAsync(cancellationToken);

    public Task<IReadOnlyList<Spotwise.Runtime.History.PoolExposure>> SpotExposureAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        inner.SpotExposureAsync(since, cancellationToken);

    public ValueTask DisposeAsync() => inner is IAsyncDisposable d ? d.DisposeAsync() : ValueTask.CompletedTask;
}
