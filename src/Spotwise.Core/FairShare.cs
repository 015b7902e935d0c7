using System.Collections.Immutable;

namespace Spotwise.Core;

/// <summary>One team's figures for fair share: its weight and the instance-hours it used in the window.</summary>
public sealed record TeamShare(string Team, double Weight, double UsedInstanceHours);

/// <summary>
/// How contested capacity is divided between teams: in proportion to their weights, measured by the instance-hours each
/// used over a sliding window (<see cref="WindowHours"/>). A team's deficit is its weighted share minus its share of
/// the use; the planners serve jobs of equal priority from the team furthest behind first (greedy's order, a
/// lexicographic term in CP-SAT between the deadline term and cost). Deficits are compared in bands of
/// <see cref="BandPct"/> points (damping): teams within a band are equal, so a few instance-hours never flip the order
/// from one cycle to the next. Pure figures: the runtime measures the use (docs/teams.md#fair-share).
/// </summary>
public sealed record FairShare(ImmutableArray<TeamShare> Teams, double WindowHours, double BandPct = FairShare.DefaultBandPct)
{
    public const double DefaultBandPct = 2;

    /// <summary>The weight of a team the configuration does not name.</summary>
    public const double DefaultWeight = 1;

    private double TotalWeight => Teams.Sum(t => t.Weight);

    private double TotalUsed => Teams.Sum(t => t.UsedInstanceHours);

    /// <summary>The team's weighted share of contested capacity, 0..1 (0 for a team not listed).</summary>
    public double ShareOf(string? team) => Find(team) is { } t && TotalWeight > 0 ? t.Weight / TotalWeight : 0;

    /// <summary>The team's share of the instance-hours used in the window, 0..1 (0 when nobody used any).</summary>
    public double UsageOf(string? team) => Find(team) is { } t && TotalUsed > 0 ? t.UsedInstanceHours / TotalUsed : 0;

    /// <summary>Weighted share minus use: positive for a team behind its share.</summary>
    public double DeficitOf(string? team) => ShareOf(team) - UsageOf(team);

    /// <summary>The deficit in whole bands (damping): the planners compare these, never the raw deficit.</summary>
    public int BandOf(string? team) => (int)Math.Round(DeficitOf(team) * 100 / BandPct, MidpointRounding.AwayFromZero);

    /// <summary>
    /// Per job, how many bands its team stands above the least deprived team among <paramref name="teams"/>: 0 for that
    /// team (and every job when fair share is off or one team waits), so a queue of one team plans as before.
    /// </summary>
    public static int[] Ranks(FairShare? fairShare, IReadOnlyList<string?> teams)
    {
        var ranks = new int[teams.Count];
        if (fairShare is null || teams.Distinct(StringComparer.Ordinal).Count() < 2)
        {
            return ranks;
        }
        var bands = teams.Select(fairShare.BandOf).ToArray();
        var least = bands.Min();
        for (var i = 0; i < ranks.Length; i++)
        {
            ranks[i] = Math.Max(0, bands[i] - least);
        }
        return ranks;
    }

    /// <summary>The figures behind a team's place, for reasons and the "why": <c>team ml: weight 1 of 3, share 33%, used 12.5 of 20 instance-hours (62%) in the last 24 h</c>.</summary>
    public string Describe(string? team) => Find(team) is not { } t ? $"team {team ?? "(none)"} has no fair-share figures"
        : FormattableString.Invariant(
            $"team {t.Team}: weight {t.Weight:0.##} of {TotalWeight:0.##}, share {ShareOf(team) * 100:0}%, used {t.UsedInstanceHours:0.#} of {TotalUsed:0.#} instance-hours ({UsageOf(team) * 100:0}%) in the last {WindowHours:0.#} h");

    private TeamShare? Find(string? team) => team is null ? null : Teams.FirstOrDefault(t => string.Equals(t.Team, team, StringComparison.Ordinal));
}
