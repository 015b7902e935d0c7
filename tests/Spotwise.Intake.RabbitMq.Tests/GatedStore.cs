using Spotwise.Runtime;

namespace Spotwise.Intake.RabbitMq.Tests;

/// <summary>
/// The store, with a gate in front of submissions a test can close (messages then stay in flight, unacknowledged), and
/// a tally of what submissions answered (a duplicate is a redelivered message).
/// </summary>
public sealed class GatedStore(IJobStore inner) : ForwardingJobStore(inner)
{
    private volatile TaskCompletionSource _gate = Opened();
    private int _waiting;
    private int _duplicates;

    public int Waiting => Volatile.Read(ref _waiting);

    public int Duplicates => Volatile.Read(ref _duplicates);

    public void Close() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void Open() => _gate.TrySetResult();

    public override async Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<Submission> batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _waiting);
        await _gate.Task;
        Interlocked.Decrement(ref _waiting);
        var results = await Inner.SubmitAsync(batch, now, cancellationToken);
        Interlocked.Add(ref _duplicates, results.Count(r => r.Outcome == SubmitOutcome.Duplicate));
        return results;
    }

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}
