namespace Spotwise.Runtime.Budgeting;

/// <summary>
/// A job's money over time, from its record: what it had cost by a moment, and what its placement still commits. The
/// store keeps totals, not a ledger, so a job's accrued cost is spread evenly over the time it ran. The money view's
/// spend over time and the budgets both read it here.
/// </summary>
public static class JobSpend
{
    /// <summary>What <paramref name="j"/> had cost by <paramref name="at"/>, its cost spread evenly from its start to its end (or now).</summary>
    public static double SpentBy(JobRecord j, DateTimeOffset at, DateTimeOffset now)
    {
        var end = j.FinishedAt ?? now;
        var start = j.StartedAt ?? end;
        if (at >= end)
        {
            return j.CostSoFarUsd;
        }
        return at <= start ? 0 : j.CostSoFarUsd * ((at - start) / (end - start));
    }

    /// <summary>What <paramref name="j"/> cost between <paramref name="from"/> and <paramref name="now"/>.</summary>
    public static double SpentSince(JobRecord j, DateTimeOffset from, DateTimeOffset now) =>
        j.CostSoFarUsd <= 0 ? 0 : Math.Max(0, SpentBy(j, now, now) - SpentBy(j, from, now));

    /// <summary>
    /// What a job not yet finished is still expected to cost beyond what it has: a planned one its placement's expected
    /// cost, a launched one the rest of it; nothing for a final job or one without a placement.
    /// </summary>
    public static double Committed(JobRecord j) => j switch
    {
        { State: var s } when s.IsFinal() => 0,
        { Placement: null } => 0,
        { State: JobState.Queued or JobState.Planned } => j.Placement.ExpectedCostUsd,
        _ => Math.Max(0, j.Placement.ExpectedCostUsd - j.CostSoFarUsd),
    };
}
