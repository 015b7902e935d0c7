using System.Collections.Immutable;
using Spotwise.Core;

namespace Spotwise.Runtime;

/// <summary>
/// Fair share as configured (<c>Spotwise:FairShare</c>): each team's weight (1 when not named), the sliding window use is
/// measured over, and the damping band (docs/teams.md#fair-share).
/// </summary>
public sealed record FairShareSettings
{
    public ImmutableDictionary<string, double> Weights { get; init; } = ImmutableDictionary<string, double>.Empty.WithComparers(StringComparer.Ordinal);

    public double WindowHours { get; init; } = 24;

    public double BandPct { get; init; } = FairShare.DefaultBandPct;

    public double WeightOf(string team) => Weights.GetValueOrDefault(team, FairShare.DefaultWeight);
}

/// <summary>The instance-hours each team used over a window, read from the store's jobs.</summary>
public static class TeamUsage
{
    /// <summary>
    /// Per team, the hours its jobs held an instance within [now - window, now]: from each job's start to its end (now
    /// while it runs). A job interrupted and restarted is counted from its first start: its instance time between
    /// attempts is small next to a window of hours.
    /// </summary>
    /// <param name="jobs">The jobs to count.</param>
    /// <param name="now">The end of the window.</param>
    /// <param name="window">The window's length.</param>
    /// <param name="committed">
    /// Whether a running job counts the rest of its work too: what the scheduler measures with, since capacity handed
    /// to a long job is spoken for (without it, a team that just started long jobs still looked behind and got more).
    /// </param>
    public static Dictionary<string, double> Measure(IEnumerable<JobRecord> jobs, DateTimeOffset now, TimeSpan window, bool committed = false)
    {
        var from = now - window;
        var used = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            if (job.StartedAt is not { } start)
            {
                continue;
            }
            var end = job.FinishedAt is { } f && f < now ? f : now;
            var hours = (end - (start > from ? start : from)).TotalHours;
            if (committed && job.FinishedAt is null)
            {
                hours += Math.Max(0, (start.AddHours(job.Job.DurationHours) - now).TotalHours);
            }
            if (hours > 0)
            {
                used[job.Team] = used.GetValueOrDefault(job.Team) + hours;
            }
        }
        return used;
    }

    /// <summary>
    /// The fair-share figures of the teams with work waiting (the teams contesting capacity), or null when fewer than two
    /// wait: one team's queue is planned as before.
    /// </summary>
    public static FairShare? For(FairShareSettings settings, IEnumerable<string> waitingTeams, IReadOnlyDictionary<string, double> used)
    {
        var teams = waitingTeams.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return teams.Count < 2 ? null
            : new FairShare([.. teams.Select(t => new TeamShare(t, settings.WeightOf(t), used.GetValueOrDefault(t)))], settings.WindowHours, settings.BandPct);
    }
}
