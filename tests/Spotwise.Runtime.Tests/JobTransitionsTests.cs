using Spotwise.Core;

namespace Spotwise.Runtime.Tests;

public class JobTransitionsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    private static readonly Placement Spot = new(Market.Spot, "p3.2xlarge", "us-east-1", Now, 0.612, 2.448, Now.AddHours(5));

    private static JobRecord Record(JobState state, int attempt = 0) => new()
    {
        Job = new Job { Id = "train", DurationHours = 4, Deadline = Now.AddHours(10), Resources = ResourceRequest.ForInstanceTypes(["p3.2xlarge"]) },
        Team = "ml",
        SubmittedAt = Now,
        State = state,
        Attempt = attempt,
        Placement = Spot,
        InstanceId = attempt > 0 ? "i-1" : null,
        CostAccruedAt = attempt > 0 ? Now : null,
    };

    private static LaunchRequest Request(int attempt) =>
        new(ClientTokens.For(new JobKey("ml", "train"), attempt), "ml", "train", attempt, Market.Spot, "p3.2xlarge", "us-east-1", 4, false, 0.5, null);

    [Fact]
    public void A_move_the_state_machine_forbids_throws_before_anything_is_written()
    {
        var done = Record(JobState.Succeeded, attempt: 1);

        var e = Assert.Throws<InvalidOperationException>(() => JobTransitions.Cancel(done, "ml", Now));

        Assert.Contains("cannot move from succeeded to cancelled", e.Message, StringComparison.Ordinal);
        Assert.Throws<InvalidOperationException>(() => JobTransitions.Plan(Record(JobState.Running, 1), Spot, "again"));
    }

    [Fact]
    public void A_launch_stores_the_intent_and_clears_the_previous_attempts_instance_and_cost_mark()
    {
        var running = Record(JobState.Running, attempt: 1) with { CostSoFarUsd = 1.5 };

        var next = JobTransitions.Launch(running, Request(2), "safety net").Record;

        Assert.Equal((JobState.Launching, 2, Request(2), null, null, 1.5), (next.State, next.Attempt, next.LaunchIntent, next.InstanceId, next.CostAccruedAt, next.CostSoFarUsd));
    }

    [Fact]
    public void A_launch_must_be_a_later_attempt_of_the_same_job()
    {
        var running = Record(JobState.Running, attempt: 1);

        Assert.Throws<InvalidOperationException>(() => JobTransitions.Launch(running, Request(1), "again"));
        Assert.Throws<InvalidOperationException>(() => JobTransitions.Launch(running, Request(2) with { Team = "cv" }, "another team's"));
    }

    [Fact]
    public void A_job_that_never_launched_fails_without_its_placement_and_a_launched_one_keeps_it()
    {
        Assert.Null(JobTransitions.Fail(Record(JobState.Planned), "deadline passed", Now).Record.Placement);
        var failed = JobTransitions.Fail(Record(JobState.Running, 1), "exit 3", Now).Record;
        Assert.Equal((JobState.Failed, Spot, "exit 3", Now), (failed.State, failed.Placement, failed.LastError, failed.FinishedAt));
    }

    [Fact]
    public void Unplanning_a_queued_job_keeps_it_queued_with_the_reason()
    {
        var t = JobTransitions.Unplan(Record(JobState.Queued) with { Placement = null }, "no capacity");

        Assert.Equal((JobState.Queued, "no capacity", "not planned: no capacity"), (t.Record.State, t.Record.LastError, t.Cause));
    }
}
