using Spotwise.Runtime;

namespace Spotwise.Intake.RabbitMq;

/// <summary>
/// The store, handing every committed write to the event publisher: every writer of a job's state (the intake, the
/// scheduler, the reconcile loop, the API's cancel) passes the store, so this is the one place state changes are seen.
/// It only enqueues after the commit (never waits for the broker); <see cref="JobEventPublisher"/> reads the store's own
/// event of the write and publishes it.
/// </summary>
public sealed class EventPublishingJobStore(IJobStore inner, CommittedWrites queue) : ForwardingJobStore(inner)
{
    public override async Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<Submission> batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var results = await Inner.SubmitAsync(batch, now, cancellationToken);
        foreach (var created in results.Where(r => r.Outcome == SubmitOutcome.Created && r.Record is not null))
        {
            queue.Add(new CommittedWrite(created.Record!, Cause: null, now));
        }
        return results;
    }

    public override async Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var stored = await Inner.TryUpdateAsync(updated, cause, at, cancellationToken);
        if (stored is not null)
        {
            queue.Add(new CommittedWrite(stored, cause, at));
        }
        return stored;
    }

    public override async Task<IReadOnlyList<JobRecord?>> TryUpdateManyAsync(IReadOnlyList<(JobRecord Updated, string Cause)> updates, DateTimeOffset at,
        CancellationToken cancellationToken)
    {
        var stored = await Inner.TryUpdateManyAsync(updates, at, cancellationToken);
        for (var i = 0; i < stored.Count; i++)
        {
            if (stored[i] is { } record)
            {
                queue.Add(new CommittedWrite(record, updates[i].Cause, at));
            }
        }
        return stored;
    }
}
