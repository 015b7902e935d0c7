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
public sealed class SignallingJobStore(IJobStore inner, ChangeSignal signal) : ForwardingJobStore(inner)
{
    public override async Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<Submission> batch, DateTimeOffset now, CancellationToken cancellationToken) =>
        Signal(await Inner.SubmitAsync(batch, now, cancellationToken));

    public override async Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken) =>
        Signal(await Inner.TryUpdateAsync(updated, cause, at, cancellationToken));

    public override async Task<IReadOnlyList<JobRecord?>> TryUpdateManyAsync(IReadOnlyList<(JobRecord Updated, string Cause)> updates, DateTimeOffset at,
        CancellationToken cancellationToken) =>
        Signal(await Inner.TryUpdateManyAsync(updates, at, cancellationToken));

    public override async Task SavePlanAsync(PlanDocument plan, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await Inner.SavePlanAsync(plan, at, cancellationToken);
        signal.Changed();
    }

    private T Signal<T>(T result)
    {
        signal.Changed();
        return result;
    }
}
