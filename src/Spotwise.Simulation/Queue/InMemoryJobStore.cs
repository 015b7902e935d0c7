using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Runtime.History;

namespace Spotwise.Simulation.Queue;

/// <summary>
/// An <see cref="IJobStore"/> in memory, for simulations: the same contract as the SQLite store (it passes
/// <c>JobStoreContract</c>), without the fsync per write that a durable store pays. A simulated queue of 1,000 jobs
/// makes thousands of writes in a second of wall time; nothing of it needs to survive the process. Thread-safe.
/// </summary>
public sealed class InMemoryJobStore : IJobStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<JobKey, Entry> _byKey = [];
    private readonly List<Entry> _inOrder = [];
    private Dictionary<(JobKey Job, int Attempt), AttemptRow> _attempts = [];
    private PlanDocument? _latestPlan;

    public Task<IReadOnlyList<SubmitResult>> SubmitAsync(IReadOnlyList<Submission> batch, DateTimeOffset now, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            var results = new List<SubmitResult>(batch.Count);
            foreach (var submission in batch)
            {
                var id = submission.Job.Id;
                var key = new JobKey(submission.Team, id);
                if (_byKey.TryGetValue(key, out var existing))
                {
                    var same = existing.Body == submission.Body;
                    results.Add(same ? new SubmitResult(id, SubmitOutcome.Duplicate, existing.Record) : new SubmitResult(id, SubmitOutcome.Conflict, null));
                    continue;
                }
                var record = new JobRecord { Job = submission.Job, Team = submission.Team, SubmittedAt = now, State = JobState.Queued, Version = 1 };
                var entry = new Entry(submission.Body, record);
                entry.Events.Add(new JobEvent(key.Team, key.Id, 1, now, null, JobState.Queued, "submitted"));
                _byKey.Add(key, entry);
                _inOrder.Add(entry);
                results.Add(new SubmitResult(id, SubmitOutcome.Created, record));
            }
            return Task.FromResult<IReadOnlyList<SubmitResult>>(results);
        }
    }

    public Task<JobRecord?> GetAsync(JobKey key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return Task.FromResult(_byKey.GetValueOrDefault(key)?.Record);
        }
    }

    public Task<IReadOnlyList<JobRecord>> ListAsync(JobQuery query, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var after = query.AfterKey();
        lock (_lock)
        {
            var states = query.States is { } s ? new HashSet<JobState>(s) : null;
            IEnumerable<JobRecord> records = _inOrder.Select(e => e.Record);
            if (after is { } cursor)
            {
                // Submission order, as the SQLite store's seq; an unknown cursor matches nothing.
                records = records.SkipWhile(r => r.Key != cursor).Skip(1);
            }
            records = records.Where(r => (query.Team is null || r.Team == query.Team) && (states is null || states.Contains(r.State))
                && (query.FinishedSince is not { } since || r.FinishedAt is not { } finished || finished >= since));
            if (query.Limit is { } limit)
            {
                records = records.Take(Math.Max(0, limit));
            }
            return Task.FromResult<IReadOnlyList<JobRecord>>([.. records]);
        }
    }

    public Task<IReadOnlyDictionary<JobState, int>> CountByStateAsync(string? team, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            var counts = Enum.GetValues<JobState>().ToDictionary(s => s, _ => 0);
            foreach (var record in _inOrder.Select(e => e.Record).Where(r => team is null || r.Team == team))
            {
                counts[record.State]++;
            }
            return Task.FromResult<IReadOnlyDictionary<JobState, int>>(counts);
        }
    }

    public Task<double> SpendSoFarUsdAsync(string? team, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return Task.FromResult(_inOrder.Select(e => e.Record).Where(r => team is null || r.Team == team).Sum(r => r.CostSoFarUsd));
        }
    }

    public Task<IReadOnlyList<JobEvent>> EventsAsync(JobKey key, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<JobEvent>>(_byKey.TryGetValue(key, out var entry) ? [.. entry.Events] : []);
        }
    }

    /// <inheritdoc />
    /// <exception cref="InvalidOperationException">The job is not in the store, or the state machine forbids the move.</exception>
    public Task<JobRecord?> TryUpdateAsync(JobRecord updated, string cause, DateTimeOffset at, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return Task.FromResult(UpdateOne(updated, cause, at));
        }
    }

    public Task<IReadOnlyList<JobRecord?>> TryUpdateManyAsync(IReadOnlyList<(JobRecord Updated, string Cause)> updates, DateTimeOffset at,
        CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            // One transaction, as the durable store: a move the state machine forbids leaves every job as it was.
            var checkpoint = _byKey.ToDictionary(kv => kv.Key, kv => (kv.Value.Record, kv.Value.Events.Count));
            var attempts = new Dictionary<(JobKey, int), AttemptRow>(_attempts);
            try
            {
                return Task.FromResult<IReadOnlyList<JobRecord?>>([.. updates.Select(u => UpdateOne(u.Updated, u.Cause, at))]);
            }
            catch (InvalidOperationException)
            {
                foreach (var (key, (record, events)) in checkpoint)
                {
                    var entry = _byKey[key];
                    entry.Record = record;
                    entry.Events.RemoveRange(events, entry.Events.Count - events);
                }
                _attempts = attempts;
                throw;
            }
        }
    }

    public Task SavePlanAsync(PlanDocument plan, DateTimeOffset at, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            _latestPlan = plan;
            return Task.CompletedTask;
        }
    }

    public Task<PlanDocument?> LatestPlanAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return Task.FromResult(_latestPlan);
        }
    }

    // Only what changes over a job's life is written: the submitted job, its team and submission time stay as stored.
    private JobRecord? UpdateOne(JobRecord updated, string cause, DateTimeOffset at)
    {
        if (!_byKey.TryGetValue(updated.Key, out var entry))
        {
            throw JobUpdates.NotInStore(updated.Key);
        }
        var stored = entry.Record;
        if (JobUpdates.Apply(stored, updated, cause) is not var (record, moved))
        {
            return null;
        }
        entry.Record = record;
        if (moved)
        {
            entry.Events.Add(new JobEvent(stored.Team, stored.Id, entry.Events[^1].Sequence + 1, at, stored.State, updated.State, cause));
        }
        if (AttemptLog.For(stored, updated, at) is { } log)
        {
            Log(log);
        }
        return record;
    }

    /// <summary>The SQL stores' upsert: a start once, an end only on a row with none (or alone, for an attempt never seen running).</summary>
    private void Log(AttemptLogWrite log)
    {
        var key = (log.Job, log.Attempt);
        if (!_attempts.TryGetValue(key, out var row))
        {
            _attempts[key] = new AttemptRow(log.Pool, log.At, log.Outcome is null ? null : log.At, log.Outcome);
        }
        else if (row.Ended is null && log.Outcome is not null)
        {
            _attempts[key] = row with { Ended = log.At, Outcome = log.Outcome };
        }
    }

    public Task<IReadOnlyList<PoolExposure>> SpotExposureAsync(DateTimeOffset since, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_lock)
        {
            return Task.FromResult<IReadOnlyList<PoolExposure>>([.. _attempts.Values
                .Where(a => a.Pool.Market == Market.Spot && a.Ended is { } ended && ended >= since)
                .GroupBy(a => (a.Pool.Provider, a.Pool.Zone, a.Pool.InstanceType))
                .OrderBy(g => g.Key.Provider, StringComparer.Ordinal).ThenBy(g => g.Key.Zone, StringComparer.Ordinal).ThenBy(g => g.Key.InstanceType, StringComparer.Ordinal)
                .Select(g => new PoolExposure(g.Key.Provider, g.Key.Zone, g.Key.InstanceType,
                    g.Sum(a => Math.Max(0, (a.Ended!.Value - a.Started).TotalHours)), g.Count(a => a.Outcome == AttemptOutcome.Interrupted), g.Count()))]);
        }
    }

    private sealed record AttemptRow(AttemptPool Pool, DateTimeOffset Started, DateTimeOffset? Ended, AttemptOutcome? Outcome);

    private sealed class Entry(string body, JobRecord record)
    {
        public string Body { get; } = body;

        public JobRecord Record { get; set; } = record;

        public List<JobEvent> Events { get; } = [];
    }
}
