using System.Collections.Concurrent;
using System.Globalization;
using Spotwise.Runtime;
using Spotwise.Runtime.Attempts;

namespace Spotwise.Compute.Aws;

/// <summary>What one instance is, from EC2's word and its agent's together, and whether Spotwise must end it.</summary>
internal sealed record AgentVerdict(InstanceStatus Status, bool Terminate);

/// <summary>
/// Reads what the agents report (<see cref="AttemptReports"/>) into the statuses EC2 gives. The agent knows first: an
/// exit is the job's end before EC2 has even seen the shutdown, its heartbeats carry the work saved, its notice the
/// interruption to come. Its silence is news too: an instance whose agent stops talking is lost.
/// </summary>
internal sealed class AgentWatch(AttemptReports reports, TimeSpan heartbeatTimeout, TimeSpan launchAllowance)
{
    /// <summary>
    /// Instances judged lost, by client token. Spotwise terminates them, after which EC2 says "terminated by the user";
    /// the verdict stays lost (memory only: after a restart EC2's "terminated" reads as stopped, which the reconciler
    /// treats the same way, as an interruption).
    /// </summary>
    private readonly ConcurrentDictionary<string, InstanceStatus> _lost = new(StringComparer.Ordinal);

    public AgentVerdict Judge(InstanceStatus ec2, DateTimeOffset now)
    {
        if (_lost.TryGetValue(ec2.ClientToken, out var lost) && lost.InstanceId == ec2.InstanceId)
        {
            return new(lost, !ec2.IsEnded);
        }
        var report = reports.Get(ec2.ClientToken);
        var heard = ec2 with
        {
            SavedProgressHours = Math.Max(ec2.SavedProgressHours, report?.ProgressHours ?? 0),
            InterruptionNoticeAt = Earliest(ec2.InterruptionNoticeAt, report?.NoticeAt),
        };
        if (report is { ExitedAt: { } exitedAt } && ExitCounts(ec2, exitedAt))
        {
            // The agent shuts the instance down right after it reports; one still up long after has not managed to.
            return new(Exited(heard, report, exitedAt), !ec2.IsEnded && now - exitedAt > heartbeatTimeout);
        }
        if (!ec2.IsEnded && SilentSince(ec2, report) is var since && now - since > heartbeatTimeout)
        {
            var verdict = heard with
            {
                State = InstanceState.Interrupted,
                EndedAt = now,
                Error = $"lost: no heartbeat since {Text(since)} ({(report is null ? "the agent never reported" : "its agent went silent")}); terminated",
            };
            return new(_lost.GetOrAdd(ec2.ClientToken, verdict), true);
        }
        return new(heard, false);
    }

    /// <summary>
    /// Whether the agent's exit is the attempt's end: yes while EC2 has it alive or ended after the exit; no when EC2 took a
    /// spot instance back, or ended the instance first (a terminate kills the command, whose exit then says nothing).
    /// </summary>
    private static bool ExitCounts(InstanceStatus ec2, DateTimeOffset exitedAt) =>
        ec2.State != InstanceState.Interrupted && (!ec2.IsEnded || ec2.EndedAt is not { } ended || exitedAt <= ended + TimeSpan.FromSeconds(1));

    /// <summary>The command's exit: done at 0, failed otherwise, and interrupted whatever the code once a notice had come.</summary>
    private static InstanceStatus Exited(InstanceStatus status, AttemptReport report, DateTimeOffset exitedAt)
    {
        var code = report.ExitCode ?? -1;
        var (state, error) = report.NoticeAt is { } notice && notice <= exitedAt
            ? (InstanceState.Interrupted, string.Create(CultureInfo.InvariantCulture, $"the job's command exited with code {code} after a spot interruption notice"))
            : code == 0
                ? (InstanceState.Succeeded, null)
                : (InstanceState.Failed, string.Create(CultureInfo.InvariantCulture, $"the job's command exited with code {code}"));
        return status with
        {
            State = state,
            RunningSince = status.RunningSince ?? report.StartedAt ?? status.LaunchedAt,
            EndedAt = exitedAt,
            Error = error,
        };
    }

    /// <summary>
    /// Since when the agent has said nothing: its last word; before its first, the end of the boot the planner allows; and
    /// never before this service's memory of reports began (a restart forgets them, and must not make every instance lost).
    /// </summary>
    private DateTimeOffset SilentSince(InstanceStatus ec2, AttemptReport? report)
    {
        var since = report?.LastHeardAt ?? ec2.LaunchedAt + launchAllowance;
        return since > reports.Since ? since : reports.Since;
    }

    private static DateTimeOffset? Earliest(DateTimeOffset? a, DateTimeOffset? b) => a is null ? b : b is null ? a : a < b ? a : b;

    private static string Text(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture);
}
