using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Compute.Slurm.Tests;

/// <summary>The mappings docs/slurm.md names: Slurm state to instance state, market and plan to sbatch flags. No cluster needed.</summary>
public sealed class SlurmMappingTests
{
    private static SlurmJob Job(string state, int rawExit = 0, int restarts = 0) =>
        new(42, "ml/a#1", state, "spot", "", rawExit, restarts, null, null, null, "/out/ml_a_1-%j.out");

    [Theory]
    [InlineData("PENDING", InstanceState.Pending)]
    [InlineData("CONFIGURING", InstanceState.Pending)]
    [InlineData("RUNNING", InstanceState.Running)]
    [InlineData("COMPLETING", InstanceState.Running)]
    [InlineData("COMPLETED", InstanceState.Succeeded)]
    [InlineData("FAILED", InstanceState.Failed)]
    [InlineData("TIMEOUT", InstanceState.Failed)]
    [InlineData("OUT_OF_MEMORY", InstanceState.Failed)]
    [InlineData("NODE_FAIL", InstanceState.Failed)]
    [InlineData("DEADLINE", InstanceState.Failed)]
    [InlineData("PREEMPTED", InstanceState.Interrupted)]
    [InlineData("REQUEUED", InstanceState.Interrupted)]
    [InlineData("REQUEUE_HOLD", InstanceState.Interrupted)]
    [InlineData("CANCELLED", InstanceState.Terminated)]
    public void Each_slurm_state_maps_to_one_instance_state(string slurm, InstanceState expected) =>
        Assert.Equal(expected, SlurmStates.Of(Job(slurm)));

    [Theory]
    [InlineData("PENDING")]
    [InlineData("RUNNING")]
    [InlineData("CANCELLED")]
    public void A_job_slurm_requeued_is_interrupted_whatever_it_does_next(string slurm) =>
        Assert.Equal(InstanceState.Interrupted, SlurmStates.Of(Job(slurm, restarts: 1)));

    [Fact]
    public void Only_a_requeued_job_that_has_not_ended_awaits_slurms_requeue()
    {
        Assert.True(SlurmStates.AwaitsRequeue(Job("PENDING", restarts: 1)));
        Assert.False(SlurmStates.AwaitsRequeue(Job("CANCELLED", restarts: 1)));
        Assert.False(SlurmStates.AwaitsRequeue(Job("PENDING")));
    }

    [Fact]
    public void A_failure_names_the_exit_code_the_slurm_state_and_the_output_file()
    {
        var failed = Job("FAILED", rawExit: 3 << 8);

        Assert.Equal(3, failed.ExitCode);
        Assert.Equal("exit code 3 (Slurm job 42 FAILED); see /out/ml_a_1-42.out", SlurmStates.Error(failed));
        Assert.Null(SlurmStates.Error(Job("COMPLETED")));
    }

    [Fact]
    public void A_command_killed_by_a_signal_reports_128_plus_the_signal_as_a_shell_does() =>
        Assert.Equal(128 + 9, Job("FAILED", rawExit: 9).ExitCode);

    [Fact]
    public void A_completed_job_with_a_non_zero_exit_code_failed() =>
        Assert.Equal(InstanceState.Failed, SlurmStates.Of(Job("COMPLETED", rawExit: 1 << 8)));

    private static readonly DateTimeOffset Now = new(2026, 12, 1, 18, 0, 0, TimeSpan.Zero);

    private static LaunchRequest Request(Market market, double workHours = 2, DateTimeOffset? deadline = null) =>
        new(ClientTokens.For(new JobKey("ml", "train"), 2), "ml", "train", 2, market, "m5.large", "us-east-1a", workHours, false, 0, "python train.py")
        {
            Deadline = deadline,
        };

    [Fact]
    public void A_spot_attempt_is_named_by_its_token_on_the_spot_partition_requeueable_with_a_padded_time_limit()
    {
        var submission = SlurmSubmission.For(Request(Market.Spot), new SlurmComputeOptions { JobNamePrefix = "p:", OutputDirectory = "/out" }, Now);

        Assert.Contains("--job-name=p:ml/train#2", submission.Arguments);
        Assert.Contains("--partition=spot", submission.Arguments);
        Assert.Contains("--requeue", submission.Arguments);
        Assert.Contains("--time=181", submission.Arguments); // 2 h × 1.5 + 1 min
        Assert.Contains("--output=/out/p_ml_train_2-%j.out", submission.Arguments);
        Assert.Contains("--comment=spotwise market=spot type=m5.large zone=us-east-1a work=2", submission.Arguments);
        Assert.DoesNotContain(submission.Arguments, a => a.StartsWith("--deadline", StringComparison.Ordinal));
        Assert.EndsWith("python train.py\n", submission.Script, StringComparison.Ordinal);
        Assert.Contains("export SPOTWISE_JOB_ID='train'", submission.Script, StringComparison.Ordinal);
    }

    [Fact]
    public void An_on_demand_attempt_goes_to_the_configured_partition_never_requeued_with_the_jobs_deadline()
    {
        var options = new SlurmComputeOptions { OnDemandPartition = "batch" };
        var submission = SlurmSubmission.For(Request(Market.OnDemand, deadline: Now.AddHours(5)), options, Now);

        Assert.Contains("--partition=batch", submission.Arguments);
        Assert.Contains("--no-requeue", submission.Arguments);
        Assert.Contains("--deadline=2026-12-01T23:00:00", submission.Arguments);
        Assert.Contains("--time-min=120", submission.Arguments);
    }

    [Fact]
    public void A_deadline_already_past_is_not_passed_to_slurm_which_would_refuse_the_job() =>
        Assert.DoesNotContain(SlurmSubmission.For(Request(Market.OnDemand, deadline: Now.AddHours(-1)), new SlurmComputeOptions(), Now).Arguments,
            a => a.StartsWith("--deadline", StringComparison.Ordinal));

    [Fact]
    public void A_value_with_a_quote_stays_one_shell_word() =>
        Assert.Contains("export SPOTWISE_TEAM='o'\\''neil'",
            SlurmSubmission.For(Request(Market.Spot) with { Team = "o'neil" }, new SlurmComputeOptions(), Now).Script, StringComparison.Ordinal);

    [Fact]
    public void The_comment_reads_back_what_was_asked()
    {
        var read = SlurmSubmission.ReadComment(SlurmSubmission.CommentFor(Request(Market.OnDemand, workHours: 0.25)))!;

        Assert.Equal(("on-demand", "m5.large", "us-east-1a", "0.25"), (read["market"], read["type"], read["zone"], read["work"]));
        Assert.Null(SlurmSubmission.ReadComment("somebody else's comment"));
    }
}
