using Microsoft.Extensions.Options;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;
using Spotwise.Runtime.Budgeting;
using Spotwise.Runtime.Leadership;
using Spotwise.Storage.Postgres;
using Spotwise.Storage.Sqlite;

namespace Spotwise.Server;

/// <summary>
/// The service's job store, opened asynchronously when the host starts (<see cref="JobStoreOpener"/>), not inside a
/// service factory that would have to block on it. Everything that holds the store is built before the start; calling it
/// before the store is open is a bug in the start order, answered with a clear error.
/// </summary>
public sealed class OpenedJobStore : IJobStore, ILeaderLease, IBudgetStore, ISubmissionNotifications, IAsyncDisposable
{
    private IJobStore? _store;

    private IJobStore Store => Volatile.Read(ref _store)
        ?? throw new InvalidOperationException("the job store is opened when the service starts and is not open yet");

    /// <summary>Holds the store <paramref name="open"/> gives; a second open is refused (one store per service).</summary>
    public async Task OpenAsync(Func<CancellationToken, Task<IJobStore>> open, CancellationToken cancellationToken)
    {
        var store = await open(cancellationToken);
        if (Interlocked.CompareExchange(ref _store, store, null) is not null)
        {
            await DisposeStoreAsync(store);
            throw new InvalidOperationException("the job store is open already");
        }
    }

    public Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<Submission> batch, DateTimeOffset now, CancellationToken cancellationToken) =>
        Store.SubmitAsync(batch, now, cancellationToken);

    public Task<JobRecord?> GetAsync(JobKey key, CancellationToken cancellationToken) => Store.GetAsync(key, cancellationToken);

    public Task<IReadOnlyList<JobRecord>> ListAsync(JobQuery query, CancellationToken cancellationToken) => Store.ListAsync(query, cancellationToken);

    public Task<IReadOnlyDictionary<JobState, int>> CountByStateAsync(string? team, CancellationToken cancellationToken) =>
        Store.CountByStateAsync(team, cancellationToken);

    public Task<double> SpendSoFarUsdAsync(string? team, CancellationToken cancellationToken) => Store.SpendSoFarUsdAsync(team, cancellationToken);

    public Task<IReadOnlyList<JobEvent>> EventsAsync(JobKey key, CancellationToken cancellationToken) => Store.EventsAsync(key, cancellationToken);

    public Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken) =>
        Store.TryUpdateAsync(updated, cause, at, cancellationToken);

    public Task<IReadOnlyList<JobRecord?>> TryUpdateManyAsync(IReadOnlyList<(JobRecord Updated, string Cause)> updates, DateTimeOffset at,
        CancellationToken cancellationToken) => Store.TryUpdateManyAsync(updates, at, cancellationToken);

    public Task SavePlanAsync(PlanDocument plan, DateTimeOffset at, CancellationToken cancellationToken) => Store.SavePlanAsync(plan, at, cancellationToken);

    public Task<PlanDocument?> LatestPlanAsync(CancellationToken cancellationToken) => Store.LatestPlanAsync(cancellationToken);

    public Task<IReadOnlyList<Spotwise.Runtime.History.PoolExposure>> SpotExposureAsync(DateTimeOffset since, CancellationToken cancellationToken) =>
        Store.SpotExposureAsync(since, cancellationToken);

    public Task<Lease> TryAcquireAsync(string replicaId, TimeSpan ttl, DateTimeOffset now, CancellationToken cancellationToken) =>
        Lease.TryAcquireAsync(replicaId, ttl, now, cancellationToken);

    public Task ReleaseAsync(string replicaId, DateTimeOffset now, CancellationToken cancellationToken) =>
        Lease.ReleaseAsync(replicaId, now, cancellationToken);

    public Task<Lease?> CurrentAsync(CancellationToken cancellationToken) => Lease.CurrentAsync(cancellationToken);

    /// <summary>The opened store's lease: every store that replicas can share keeps one.</summary>
    private ILeaderLease Lease => Store as ILeaderLease
        ?? throw new InvalidOperationException($"the job store ({Store.GetType().Name}) keeps no leader lease: it cannot be shared by replicas");

    public Task<IReadOnlyDictionary<string, BudgetLimit>> BudgetLimitsAsync(CancellationToken cancellationToken) => BudgetStore.BudgetLimitsAsync(cancellationToken);

    public Task SetBudgetLimitAsync(string team, BudgetLimit limit, DateTimeOffset at, CancellationToken cancellationToken) =>
        BudgetStore.SetBudgetLimitAsync(team, limit, at, cancellationToken);

    /// <summary>The opened store's budgets: SQLite and PostgreSQL keep them.</summary>
    private IBudgetStore BudgetStore => Store as IBudgetStore
        ?? throw new InvalidOperationException($"the job store ({Store.GetType().Name}) keeps no budgets");

    /// <summary>The opened store's notification of queued jobs (PostgreSQL's); only composed where the store has one.</summary>
    public Task ListenAsync(Action listening, Action queued, CancellationToken cancellationToken) =>
        (Store as ISubmissionNotifications
            ?? throw new InvalidOperationException($"the job store ({Store.GetType().Name}) sends no notification of queued jobs"))
        .ListenAsync(listening, queued, cancellationToken);

    public ValueTask DisposeAsync() => Interlocked.Exchange(ref _store, null) is { } store ? DisposeStoreAsync(store) : ValueTask.CompletedTask;

    private static ValueTask DisposeStoreAsync(IJobStore store) => store is IAsyncDisposable d ? d.DisposeAsync() : ValueTask.CompletedTask;
}

/// <summary>
/// Opens the store when the host starts, before the loops and the HTTP server (it is registered before them): PostgreSQL
/// when <see cref="SpotwiseOptions.Store"/> names one, else the SQLite file. A bad path or an unreachable database
/// fails the start, not the first request.
/// </summary>
public sealed class JobStoreOpener(OpenedJobStore store, IOptions<SpotwiseOptions> options) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => store.OpenAsync(ct => OpenAsync(options.Value, ct), cancellationToken);

    private static async Task<IJobStore> OpenAsync(SpotwiseOptions options, CancellationToken cancellationToken) =>
        options.Store is { Length: > 0 } connectionString
            ? await PostgresJobStore.OpenAsync(connectionString, cancellationToken)
            : await SqliteJobStore.OpenAsync(options.Db, cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
