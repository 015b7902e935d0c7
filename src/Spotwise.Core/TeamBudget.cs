using System.Globalization;

namespace Spotwise.Core;

/// <summary>
/// What a team may still spend on the jobs a plan places (its dollar budget's limit less what has run in the period and
/// what running jobs still commit). Every planner keeps the sum of the team's chosen options' expected costs within
/// <see cref="LeftUsd"/>, and the validator checks it.
/// </summary>
/// <param name="Team">The team whose jobs it binds (<see cref="Job.Team"/>).</param>
/// <param name="LeftUsd">What the team may still spend, in USD (may be below 0 when overspent: nothing more is planned).</param>
/// <param name="Period">How the period reads in a reason: <c>this week</c>.</param>
public sealed record TeamBudget(string Team, double LeftUsd, string Period = "this period")
{
    /// <summary>The tag every reason for a job left out for money starts with (<c>GET /api/jobs/{id}/why</c> reads it).</summary>
    public const string ReasonTag = "budget: ";

    /// <summary>Money in budgets is counted as the model counts it: hundredths of a cent, of costs rounded as plans round them.</summary>
    public const double UnitsPerUsd = 10_000;

    /// <summary>What the team has left, in <see cref="UnitsPerUsd"/> (never below 0).</summary>
    public long LeftUnits => Math.Max(0, (long)Math.Floor((LeftUsd * UnitsPerUsd) + 1e-6));

    /// <summary>An expected cost in budget units, as the plan rounds it.</summary>
    public static long Units(double usd) => (long)Math.Round(PlanBuilder.Round(usd) * UnitsPerUsd);

    /// <summary>
    /// Why a job is left out: the team's figures, what the team's jobs the plan keeps already take (under greedy, the
    /// more urgent ones placed before it), and the job's cheapest safe option.
    /// </summary>
    public string Reason(double takenUsd, double cheapestUsd) => string.Create(CultureInfo.InvariantCulture,
        $"{ReasonTag}team {Team} has ${LeftUsd:0.00} left {Period}, ${Math.Max(0, LeftUsd - takenUsd):0.00} after the team's other planned jobs; this job's cheapest safe option costs ${cheapestUsd:0.00}");
}
