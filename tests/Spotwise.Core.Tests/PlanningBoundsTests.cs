namespace Spotwise.Core.Tests;

/// <summary>
/// Numbers the planning model cannot hold are a reason, never an exception: the option builder gives such a job no
/// options and says which field and value, and the validator refuses an assignment of it before any arithmetic.
/// </summary>
public class PlanningBoundsTests
{
    private static readonly DateTimeOffset Now = TestData.Now;

    private static readonly DateTimeOffset Year9999 = new(9999, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static TheoryData<string, Job, string> OutOfBounds => new()
    {
        { "duration 1e15 h", TestData.Job("x", 1e15), "estimatedDurationHours 1E+15 is beyond the planning horizon of 730 days" },
        { "duration 1e308 h", TestData.Job("x", 1e308, Now.AddHours(2)), "estimatedDurationHours 1E+308 is beyond the planning horizon" },
        { "duration +inf", TestData.Job("x", double.PositiveInfinity), "estimatedDurationHours Infinity is beyond" },
        { "duration 0", TestData.Job("x", 0), "estimatedDurationHours 0 is not a positive number of hours" },
        { "duration -1", TestData.Job("x", -1), "estimatedDurationHours -1 is not a positive number of hours" },
        { "restart overhead 1e308 min", TestData.Job("x", 1, Now.AddHours(9)) with { RestartOverheadHours = 1e308 / 60 }, "restartOverheadMinutes 1E+308 is beyond the planning horizon" },
        { "restart overhead -5 min", TestData.Job("x", 1) with { RestartOverheadHours = -5.0 / 60 }, "restartOverheadMinutes -5 is not a number >= 0" },
        { "checkpoint every NaN min", TestData.Job("x", 1, checkpointable: true) with { CheckpointIntervalHours = double.NaN }, "checkpointIntervalMinutes NaN is not a number >= 0" },
        { "earliest start in 9999", TestData.Job("x", 1, earliestStart: Year9999), "earliestStart 9999-01-01T00:00:00+00:00 is beyond the planning horizon" },
        { "deadline in 9999", TestData.Job("x", 1, Year9999), "deadline 9999-01-01T00:00:00+00:00 is beyond the planning horizon of 730 days either side of now" },
        { "deadline at the end of time", TestData.Job("x", 1, DateTimeOffset.MaxValue), "deadline 9999-12-31T23:59:59+00:00 is beyond" },
        { "deadline at the start of time", TestData.Job("x", 1, DateTimeOffset.MinValue), "deadline 0001-01-01T00:00:00+00:00 is beyond" },
        { "priority 0", TestData.Job("x", 1) with { Priority = 0 }, "priority 0 is outside 1..10" },
        { "priority 64", TestData.Job("x", 1) with { Priority = 64 }, "priority 64 is outside 1..10" },
    };

    private static PlanningProblem Problem(params Job[] jobs) => new(Now, jobs, TestData.Catalog, CapacityLimits.None);

    [Theory, MemberData(nameof(OutOfBounds))]
    public void A_job_beyond_the_planning_model_has_no_options_and_a_reason_naming_the_field_and_value(string _, Job job, string reason)
    {
        var options = OptionBuilder.Build(Problem(job, TestData.Job("fine", 1)));

        Assert.False(options[0].IsPlannable);
        Assert.Contains(reason, options[0].WhyNone, StringComparison.Ordinal);
        Assert.True(options[1].IsPlannable);
    }

    [Fact]
    public void The_largest_jobs_the_intake_accepts_are_within_the_bounds()
    {
        // estimatedDurationHours <= 8760, restartOverheadMinutes <= 1440, checkpointIntervalMinutes <= 10080, times <= 366 days.
        var job = TestData.Job("big", 8760, earliestStart: Now.AddDays(366), checkpointable: true) with
        {
            RestartOverheadHours = 24,
            CheckpointIntervalHours = 168,
        };
        var due = TestData.Job("due", 1, Now.AddDays(366));

        Assert.Null(PlanningBounds.WhyOutOfBounds(job, Problem(job)));
        Assert.Null(PlanningBounds.WhyOutOfBounds(due, Problem(due)));
    }

    [Fact]
    public void The_horizon_is_a_setting()
    {
        var job = TestData.Job("week", 24 * 8);
        var problem = Problem(job) with { Settings = PlanningSettings.Default with { Horizon = TimeSpan.FromDays(7) } };

        Assert.Equal("estimatedDurationHours 192 is beyond the planning horizon of 7 days", PlanningBounds.WhyOutOfBounds(job, problem));
    }

    [Theory, MemberData(nameof(OutOfBounds))]
    public void An_assignment_of_a_job_beyond_the_planning_model_is_a_violation_not_an_exception(string _, Job job, string reason)
    {
        var problem = Problem(job);
        var offer = TestData.Catalog.OfferFor(TestData.Catalog.Entries[0], Market.OnDemand);
        var assignment = new Assignment(job.Id, offer, Now, Now.AddHours(1), 1, null, "proposed");
        var plan = new Plan("test", Now, PlanStatus.Feasible, [assignment], [], new PlanTotals(1, 1, 0, 0, 0, 0, 1, 0, 0));

        var violation = Assert.Single(PlanValidator.Validate(plan, problem));

        Assert.Equal(ViolationKind.Unplannable, violation.Kind);
        Assert.Contains(reason, violation.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_assignment_in_a_dependency_cycle_is_a_violation_naming_the_cycle()
    {
        var problem = Problem(TestData.Job("p", 1) with { DependsOn = ["p"] });
        var offer = TestData.Catalog.OfferFor(TestData.Catalog.Entries[0], Market.OnDemand);
        var plan = new Plan("test", Now, PlanStatus.Feasible, [new Assignment("p", offer, Now, Now.AddHours(1), 1, null, "proposed")], [],
            new PlanTotals(1, 1, 0, 0, 0, 0, 1, 0, 0));

        var violations = PlanValidator.Validate(plan, problem);

        Assert.Contains(violations, v => v.Kind == ViolationKind.Unplannable && v.Message.Contains("p -> p", StringComparison.Ordinal));
    }

    [Fact]
    public void A_start_at_the_end_of_time_is_a_violation_not_an_exception()
    {
        var job = TestData.Job("fine", 2);
        var problem = Problem(job);
        var offer = TestData.Catalog.OfferFor(TestData.Catalog.Entries[0], Market.OnDemand);
        var late = new Assignment("fine", offer, DateTimeOffset.MaxValue, DateTimeOffset.MaxValue, 1, null, "proposed");
        var plan = new Plan("test", Now, PlanStatus.Feasible, [late], [], new PlanTotals(1, 1, 0, 0, 0, 0, 1, 0, 0));

        var violation = Assert.Single(PlanValidator.Validate(plan, problem));

        Assert.Equal((ViolationKind.MalformedAssignment, "fine"), (violation.Kind, violation.JobId));
        Assert.Contains("beyond the planning horizon", violation.Message, StringComparison.Ordinal);
    }
}
