using System.Collections.Immutable;

namespace Spotwise.Core;

/// <summary>
/// Assembles a <see cref="Plan"/> from chosen options and start times, computing totals the same way for every
/// planner, so plans compare.
/// </summary>
public static class PlanBuilder
{
    public static Plan Build(
        string planner,
        PlanningProblem problem,
        IReadOnlyList<JobOptions> options,
        IReadOnlyDictionary<string, (JobOption Option, DateTimeOffset Start)> chosen,
        IReadOnlyDictionary<string, string> unplannedReasons,
        PlanStatus solverStatus,
        double solveSeconds,
        double? provenLowerBoundUsd = null)
    {
        var schedule = ImmutableArray.CreateBuilder<Assignment>();
        var unplanned = ImmutableArray.CreateBuilder<UnplannedJob>();
        double expected = 0, onDemand = 0, lowerBound = 0;
        var atRisk = 0;
        foreach (var jo in options)
        {
            var job = jo.Job;
            if (chosen.TryGetValue(job.Id, out var pick))
            {
                var a = ToAssignment(pick.Option, pick.Start, jo);
                schedule.Add(a);
                expected += a.ExpectedCostUsd;
                onDemand += jo.AllOnDemandCostUsd ?? a.ExpectedCostUsd;
                lowerBound += Round(jo.Cheapest!.ExpectedCostUsd);
                if (IsAtRisk(job, a.End))
                {
                    atRisk++;
                }
            }
            else
            {
                var reason = jo.WhyNone ?? unplannedReasons.GetValueOrDefault(job.Id) ?? "no capacity left in any eligible pool before the deadline";
                unplanned.Add(new UnplannedJob(job.Id, reason));
                if (job.Deadline is not null)
                {
                    atRisk++;
                }
            }
        }
        // The solver's bound only counts when it is about the same set of jobs, and it can only tighten ours.
        if (provenLowerBoundUsd is { } proven && proven > lowerBound)
        {
            lowerBound = Math.Min(proven, expected);
        }
        var gap = expected > 0 ? Math.Max(0, (expected - lowerBound) / expected * 100) : 0;
        var status = unplanned.Count > 0 ? PlanStatus.Infeasible
            : solverStatus == PlanStatus.Timeout ? PlanStatus.Timeout
            : gap <= 1e-9 ? PlanStatus.Optimal
            : solverStatus == PlanStatus.Optimal ? PlanStatus.Optimal
            : PlanStatus.Feasible;
        var totals = new PlanTotals(
            Round(expected), Round(onDemand), onDemand > 0 ? Math.Round((onDemand - expected) / onDemand * 100, 2) : 0,
            Round(lowerBound), Math.Round(gap, 3), Math.Round(solveSeconds, 3), schedule.Count, unplanned.Count, atRisk);
        return new Plan(planner, problem.Now, status, schedule.ToImmutable(), unplanned.ToImmutable(), totals)
        {
            LaunchAllowance = problem.Settings.LaunchAllowance,
            FairShare = problem.FairShare,
        };
    }

    public static Assignment ToAssignment(JobOption option, DateTimeOffset start, JobOptions jobOptions)
    {
        var job = option.Job;
        var end = start.AddHours(option.RunHours);
        return new Assignment(job.Id, option.Offer, start, end, Round(option.ExpectedCostUsd), option.FallbackAt,
            Reason(option, jobOptions));
    }

    public static bool IsAtRisk(Job job, DateTimeOffset end) =>
        job.Deadline is { } deadline && (deadline - end).TotalHours < Plan.AtRiskSlackShare * job.DurationHours;

    /// <summary>Money is rounded to a tenth of a cent in plans: enough for any bill, stable in golden files.</summary>
    public static double Round(double usd) => Math.Round(usd, 4);

    private static string Reason(JobOption option, JobOptions jobOptions)
    {
        var cheapest = jobOptions.Cheapest!;
        var why = option.Offer.Commitment is { } commitment
            ? commitment == SavingsPlan.Name
                ? "on-demand on the savings plan: discounted within its hourly commitment"
                : $"reserved instance ({commitment}): its fee is already paid, so it costs nothing more to run"
            : option.Offer.Market == Market.Spot
            ? "spot: slack absorbs an on-demand fallback"
            : option.Job.Deadline is not null && CostModel.LatestSafeSpotStart(option.RunJob) < option.EarliestStart
                ? "on-demand: too little slack for a spot fallback"
                : "on-demand: cheapest safe option";
        if (option.TransferHours > 0)
        {
            why += FormattableString.Invariant(
                $"; its {option.Job.InputDataSizeGB:0.##} GB of input move to {option.Offer.Region} first ({option.TransferHours * 60:0.#} min)");
        }
        return ReferenceEquals(option, cheapest) || option.ExpectedCostUsd <= cheapest.ExpectedCostUsd + 1e-9
            ? why
            : why + "; cheaper capacity went to other jobs";
    }
}
