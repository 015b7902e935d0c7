using System.Collections.Concurrent;

namespace Spotwise.Runtime.Attempts;

/// <summary>What the agent on an attempt's instance can say (<c>POST /api/attempts/{token}/events</c>).</summary>
public enum AttemptEventKind
{
    /// <summary>The agent started the job's command.</summary>
    Started,

    /// <summary>The command still runs (every 30 s), with the work it has saved when it says so.</summary>
    Heartbeat,

    /// <summary>The instance metadata announced a spot interruption; the command got its checkpoint signal.</summary>
    Notice,

    /// <summary>The command exited, with its exit code; the agent shuts the instance down next.</summary>
    Exited,
}

/// <summary>
/// One event from an agent. <paramref name="ReceivedAt"/> is the service's clock, the only time Spotwise reasons with
/// (the instance's clock may be off); <paramref name="At"/> is the agent's, kept for the record.
/// </summary>
public sealed record AttemptEvent(
    AttemptEventKind Kind,
    DateTimeOffset ReceivedAt,
    DateTimeOffset? At = null,
    double? ProgressHours = null,
    int? ExitCode = null,
    string? InstanceId = null);

/// <summary>
/// Everything the agent of one attempt has said, folded: when it was last heard, the work it saved, the notice and the
/// exit (the first of each: an agent retries a send it is not sure arrived).
/// </summary>
public sealed record AttemptReport(
    string ClientToken,
    DateTimeOffset LastHeardAt,
    DateTimeOffset? StartedAt,
    double? ProgressHours,
    DateTimeOffset? NoticeAt,
    int? ExitCode,
    DateTimeOffset? ExitedAt,
    string? InstanceId)
{
    public static AttemptReport First(string clientToken, AttemptEvent e) =>
        new AttemptReport(clientToken, e.ReceivedAt, null, null, null, null, null, null).With(e);

    /// <summary>This report with one more event.</summary>
    public AttemptReport With(AttemptEvent e) => this with
    {
        LastHeardAt = e.ReceivedAt > LastHeardAt ? e.ReceivedAt : LastHeardAt,
        StartedAt = StartedAt ?? (e.Kind == AttemptEventKind.Started ? e.ReceivedAt : null),
        // Saved work is never unsaved: two heartbeats racing on the wire must not move it back.
        ProgressHours = e.ProgressHours is { } p ? Math.Max(p, ProgressHours ?? 0) : ProgressHours,
        NoticeAt = NoticeAt ?? (e.Kind == AttemptEventKind.Notice ? e.ReceivedAt : null),
        ExitCode = ExitedAt is null && e.Kind == AttemptEventKind.Exited ? e.ExitCode : ExitCode,
        ExitedAt = ExitedAt ?? (e.Kind == AttemptEventKind.Exited ? e.ReceivedAt : null),
        InstanceId = e.InstanceId ?? InstanceId,
    };
}

/// <summary>
/// What agents report, by the attempt's client token: written by the service's endpoint, read by the backend whose
/// instances the agents run on (it turns an exit, progress, a notice or silence into the instance's status).
/// </summary>
/// <remarks>
/// In memory only, on purpose: a report is worth seconds (a heartbeat comes every 30 s), and a store write per heartbeat
/// per instance would compete with submissions for SQLite's one writer. A restart loses the reports; that is safe
/// because every running agent heartbeats again within 30 s, and silence is counted from <see cref="Since"/> at the
/// earliest, so no instance is judged lost for the restart. What a restart can lose for good is an exit reported in
/// the seconds before it that the reconcile loop had not yet recorded: the instance then ends as EC2 says (its
/// shutdown, and the exit-code tag where the agent could set it).
/// </remarks>
public sealed class AttemptReports(TimeProvider time)
{
    /// <summary>A report unheard of for this long is dropped: EC2 lists an ended instance for about an hour.</summary>
    public static readonly TimeSpan Retention = TimeSpan.FromHours(6);

    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(1);

    private readonly ConcurrentDictionary<string, AttemptReport> _byToken = new(StringComparer.Ordinal);
    private long _lastPruneTicks = time.GetUtcNow().UtcTicks;

    /// <summary>When this memory began (the service's start): nothing said before it is known.</summary>
    public DateTimeOffset Since { get; } = time.GetUtcNow();

    /// <summary>Raised after each event is recorded, on the recording thread: for whoever follows the agents as they speak.</summary>
    public event EventHandler<AttemptReportedEventArgs>? Reported;

    /// <summary>Adds an event to the attempt's report and returns the report as it now stands.</summary>
    public AttemptReport Record(string clientToken, AttemptEvent e)
    {
        ArgumentNullException.ThrowIfNull(clientToken);
        ArgumentNullException.ThrowIfNull(e);
        Prune(e.ReceivedAt);
        var report = _byToken.AddOrUpdate(clientToken, AttemptReport.First, (_, report, ev) => report.With(ev), e);
        Reported?.Invoke(this, new AttemptReportedEventArgs(e, report));
        return report;
    }

    /// <summary>The attempt's report; null when its agent has said nothing since <see cref="Since"/>.</summary>
    public AttemptReport? Get(string clientToken) => _byToken.GetValueOrDefault(clientToken);

    public int Count => _byToken.Count;

    private void Prune(DateTimeOffset now)
    {
        var last = Interlocked.Read(ref _lastPruneTicks);
        if (now.UtcTicks - last < PruneEvery.Ticks || Interlocked.CompareExchange(ref _lastPruneTicks, now.UtcTicks, last) != last)
        {
            return;
        }
        foreach (var old in _byToken.Where(r => now - r.Value.LastHeardAt > Retention))
        {
            _byToken.TryRemove(old);
        }
    }
}

/// <summary>One event as recorded, and the attempt's report with it.</summary>
public sealed class AttemptReportedEventArgs(AttemptEvent e, AttemptReport report) : EventArgs
{
    public AttemptEvent Event { get; } = e;

    public AttemptReport Report { get; } = report;
}
