using Spotwise.Core;
using Spotwise.Runtime.Budgeting;

namespace Spotwise.Runtime.Tests;

public class BudgetsTests
{
    // A Sunday evening, UTC.
    private static readonly DateTimeOffset Sunday = new(2026, 3, 8, 21, 30, 0, TimeSpan.Zero);

    private static JobRecord Record(string id, JobState state, double costUsd, DateTimeOffset? started = null, DateTimeOffset? finished = null,
        Spotwise.Runtime.Placement? placement = null) => new()
        {
            Job = new Job { Id = id, DurationHours = 4, Resources = ResourceRequest.ForInstanceTypes(["c5.large"]) },
            Team = "ml",
            SubmittedAt = Sunday.AddDays(-10),
            State = state,
            CostSoFarUsd = costUsd,
            StartedAt = started,
            FinishedAt = finished,
            Placement = placement,
        };

    private static Spotwise.Runtime.Placement PlacedAt(DateTimeOffset start, double expectedUsd) =>
        new(Market.OnDemand, "c5.large", "us-east-1a", start, 0.1, expectedUsd, null);

    [Fact]
    public void Periods_are_utc_a_week_starts_on_monday_and_a_month_on_the_first()
    {
        var inTokyo = Sunday.ToOffset(TimeSpan.FromHours(9)); // Monday 06:30 in Tokyo, still Sunday in UTC

        Assert.Equal((new DateTimeOffset(2026, 3, 8, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 9, 0, 0, 0, TimeSpan.Zero)), BudgetPeriod.Day.Window(inTokyo));
        Assert.Equal((new DateTimeOffset(2026, 3, 2, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 9, 0, 0, 0, TimeSpan.Zero)), BudgetPeriod.Week.Window(inTokyo));
        Assert.Equal((new DateTimeOffset(2026, 3, 9, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 16, 0, 0, 0, TimeSpan.Zero)),
            BudgetPeriod.Week.Window(new DateTimeOffset(2026, 3, 9, 0, 0, 0, TimeSpan.Zero)));
        Assert.Equal((new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero)),
            BudgetPeriod.Month.Window(new DateTimeOffset(2026, 2, 28, 23, 59, 59, TimeSpan.Zero)));
    }

    [Fact]
    public void Spent_counts_the_part_of_each_run_inside_the_period_and_committed_what_unfinished_jobs_still_cost_within_it()
    {
        var today = new DateTimeOffset(2026, 3, 8, 0, 0, 0, TimeSpan.Zero);
        var jobs = new[]
        {
            // Ran 22:00 Saturday to 02:00 Sunday for $4: half of it today.
            Record("across", JobState.Succeeded, 4, started: today.AddHours(-2), finished: today.AddHours(2)),
            // Yesterday only: nothing today.
            Record("yesterday", JobState.Failed, 9, started: today.AddHours(-10), finished: today.AddHours(-8)),
            // Running since 20:30 at $1 so far, expected $3 in all: $2 still committed.
            Record("running", JobState.Running, 1, started: Sunday.AddHours(-1), placement: PlacedAt(Sunday.AddHours(-1), 3)),
            // Planned later today: all of it committed; planned tomorrow: none of it (another period's).
            Record("tonight", JobState.Planned, 0, placement: PlacedAt(Sunday.AddHours(1), 0.5)),
            Record("tomorrow", JobState.Planned, 0, placement: PlacedAt(Sunday.AddHours(3), 7)),
        };

        var status = Budgets.Status("ml", new BudgetLimit(BudgetPeriod.Day, 10), jobs, Sunday);

        Assert.Equal((2 + 1, 2 + 0.5), (status.SpentUsd, status.CommittedUsd));
        Assert.Equal(10 - 3 - 2.5, status.LeftUsd);
        Assert.Equal(0.55, status.UsedFraction, 9);
    }
}
