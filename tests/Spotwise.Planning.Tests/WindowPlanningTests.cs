using Spotwise.Core;
using static Spotwise.Planning.Tests.Fixtures;

namespace Spotwise.Planning.Tests;

/// <summary>Scheduling windows in the planners and the validator (issue 16). <see cref="Fixtures.Now"/> is Monday 09:00 UTC.</summary>
public class WindowPlanningTests
{
    private static readonly Catalog OneType = TinyCatalog(Row("c5.large", onDemand: 0.10, spot: 0.03));

    /// <summary>One c5.large of on-demand quota and no spot room: capacity binds at once.</summary>
    private static readonly CapacityLimits OneSlot = new() { DefaultOnDemandVcpuQuota = 2, DefaultSpotPoolSize = 0 };

    public static TheoryData<string> Planners => [CpSatPlanner.PlannerName, GreedyPlanner.PlannerName];

    private static IPlanner Planner(string name) => name == CpSatPlanner.PlannerName ? new CpSatPlanner() : new GreedyPlanner();

    private static Job Windowed(Job job, params string[] windows) => job with { Windows = [.. windows] };

    /// <summary>Monday at <paramref name="hour"/> o'clock UTC (24 and beyond run into the next days).</summary>
    private static DateTimeOffset Monday(int hour) => Now.AddHours(hour - Now.Hour);

    private static readonly string[] TwoIds = ["a", "b"];

    [Theory]
    [MemberData(nameof(Planners))]
    public void A_job_with_a_night_window_starts_and_ends_inside_it(string planner)
    {
        var problem = Problem([Windowed(Job("night", hours: 2, deadlineHours: 48), "Mon-Fri 20:00-06:00")], OneType, CapacityLimits.None, gridMinutes: 5);

        var a = Scheduled(PlanWith(Planner(planner), problem), "night");

        Assert.Equal(Monday(20), a.Start);
        Assert.True(a.End <= Monday(30));
    }

    [Theory]
    [MemberData(nameof(Planners))]
    public void Jobs_sharing_a_window_queue_inside_it(string planner)
    {
        var jobs = TwoIds.Select(id => Windowed(Job(id, hours: 4, deadlineHours: 48), "Mon 20:00-06:00"));
        var problem = Problem(jobs, OneType, OneSlot);

        var plan = PlanWith(Planner(planner), problem);

        Assert.Equal([Monday(20), Monday(24)], plan.Schedule.Select(a => a.Start).Order());
    }

    [Theory]
    [MemberData(nameof(Planners))]
    public void A_window_whose_capacity_is_taken_moves_the_job_to_the_next_window(string planner)
    {
        // The urgent job holds the only slot from 09:00 until Tuesday 05:00: the night job waits for Tuesday night.
        var urgent = Job("urgent", hours: 20, deadlineHours: 20, priority: 9);
        var night = Windowed(Job("night", hours: 4, deadlineHours: 48), "Mon-Fri 20:00-06:00");
        var problem = Problem([urgent, night], OneType, OneSlot);

        var plan = PlanWith(Planner(planner), problem);

        Assert.Equal(Monday(24 + 20), Scheduled(plan, "night").Start);
    }

    [Fact]
    public void CpSat_moves_an_unwindowed_job_aside_so_a_windowed_one_fits_its_only_window()
    {
        // Greedy places the higher-priority job first at 09:00 and the windowed job, due before the next morning window,
        // finds its only window taken; CP-SAT plans both by putting the windowed job in its window and the other after it.
        var free = Job("free", hours: 4, deadlineHours: 30, priority: 6);
        var morning = Windowed(Job("morning", hours: 4, deadlineHours: 20), "Mon-Fri 09:00-13:00");
        var problem = Problem([free, morning], OneType, OneSlot);

        var greedy = PlanWith(new GreedyPlanner(), problem);
        var cpsat = PlanWith(new CpSatPlanner(), problem);

        Assert.Single(greedy.Unplanned);
        Assert.Empty(cpsat.Unplanned);
        Assert.Equal(Monday(9), Scheduled(cpsat, "morning").Start);
        Assert.Equal(Monday(13), Scheduled(cpsat, "free").Start);
    }

    [Theory]
    [MemberData(nameof(Planners))]
    public void A_job_that_cannot_fit_its_windows_before_its_deadline_is_reported_with_the_next_window(string planner)
    {
        var problem = Problem([Windowed(Job("late", hours: 3, deadlineHours: 10), "Mon-Fri 20:00-06:00")], OneType, CapacityLimits.None);

        var plan = PlanWith(Planner(planner), problem);

        var why = UnplannedOf(plan, "late").Reason;
        Assert.StartsWith("window: ", why, StringComparison.Ordinal);
        Assert.Contains("'Mon-Fri 20:00-06:00'", why, StringComparison.Ordinal);
        Assert.Contains("the next window is 2026-03-02T20:00:00+00:00 to 2026-03-03T06:00:00+00:00", why, StringComparison.Ordinal);
    }

    [Fact]
    public void The_validator_refuses_a_run_outside_the_jobs_windows()
    {
        var job = Job("night", hours: 2, deadlineHours: 48);
        var anyTime = Problem([job], OneType, CapacityLimits.None);
        var plan = PlanWith(new GreedyPlanner(), anyTime);

        var violations = PlanValidator.Validate(plan, anyTime with { Jobs = [Windowed(job, "Mon-Fri 20:00-06:00")] });

        var v = Assert.Single(violations);
        Assert.Equal(ViolationKind.OutsideWindow, v.Kind);
        Assert.Contains("not inside one allowed interval of its windows 'Mon-Fri 20:00-06:00'", v.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_validator_refuses_a_run_that_starts_in_a_window_but_ends_after_it()
    {
        var job = Job("long", hours: 12, deadlineHours: 48, earliestHours: 11);
        var anyTime = Problem([job], OneType, CapacityLimits.None);
        var plan = PlanWith(new GreedyPlanner(), anyTime);
        Assert.Equal(Monday(20), Scheduled(plan, "long").Start);

        var violations = PlanValidator.Validate(plan, anyTime with { Jobs = [Windowed(job, "Mon-Fri 20:00-06:00")] });

        Assert.Equal(ViolationKind.OutsideWindow, Assert.Single(violations).Kind);
    }
}
