namespace Spotwise.Cli.Tests;

public class PlanCommandExitCodeTests
{
    private const string Now = "2026-11-24T12:00:00Z";

    [Fact]
    public void Exits_0_when_every_job_is_planned()
    {
        // Without a boot to allow for, job-002's hour of work fits its hour (with one, it cannot: PlanAndRuntimeAgreeTests).
        Assert.Equal(0, CliRunner.Run("plan", RepoPaths.Sample("seed-jobs.json"), "--now", Now, "--launch-allowance", "0").ExitCode);
    }

    [Fact]
    public void Exits_1_and_still_prints_the_plan_when_a_job_cannot_meet_its_deadline()
    {
        // Each job fits its own deadline (the intake checks that); the quota runs one at a time, so one must miss.
        var jobs = CliRunner.TempFile("""
            [{"jobId": "fits", "priority": 9, "estimatedDurationHours": 2, "deadline": "+2h", "resourceRequirements": {"instanceTypes": ["m5.large"]}},
             {"jobId": "late", "estimatedDurationHours": 2, "deadline": "+3h", "resourceRequirements": {"instanceTypes": ["m5.large"]}}]
            """);
        var limits = CliRunner.TempFile("""{"onDemandVcpuQuotas": {"standard": 2}, "spotPoolSizes": {"m5.large": 0}}""");
        var (code, output, _) = CliRunner.Run("plan", jobs, "--now", Now, "--limits", limits, "--launch-allowance", "0");
        Assert.Equal(1, code);
        Assert.Contains("fits", output);
        Assert.Contains("late", output);
        Assert.Contains("UNPLANNED: every eligible pool is full until the deadline", output);
    }

    [Fact]
    public void Greedy_planner_is_selectable_and_valid()
    {
        var (code, output, _) = CliRunner.Run("plan", RepoPaths.Sample("seed-jobs.json"), "--now", Now, "--planner", "greedy", "--launch-allowance", "0");
        Assert.Equal(0, code);
        Assert.Contains("greedy:", output);
    }

    [Fact]
    public void No_limits_plans_with_unlimited_capacity()
    {
        var (code, output, _) = CliRunner.Run("plan", RepoPaths.Sample("seed-jobs.json"), "--now", Now, "--no-limits", "--launch-allowance", "0");
        Assert.Equal(0, code);
        Assert.Contains("no capacity limits", output);
    }

    [Fact]
    public void A_limits_file_constrains_the_plan()
    {
        // One p3.2xlarge at a time, no other GPU capacity: the second V100 job must wait for the first.
        var limits = CliRunner.TempFile("""{"onDemandVcpuQuotas": {"p": 8, "g": 0}, "defaultSpotPoolSize": 0}""");
        var jobs = CliRunner.TempFile("""
            [{"jobId": "a", "estimatedDurationHours": 1, "deadline": "+4h", "resourceRequirements": {"instanceTypes": ["p3.2xlarge"]}},
             {"jobId": "b", "estimatedDurationHours": 1, "deadline": "+4h", "resourceRequirements": {"instanceTypes": ["p3.2xlarge"]}}]
            """);
        // No boot: the second job may start the moment the first ends.
        var (code, output, err) = CliRunner.Run("plan", jobs, "--now", Now, "--limits", limits, "--format", "json", "--launch-allowance", "0");
        Assert.True(code == 0, err);
        Assert.Contains("\"startTime\": \"2026-11-24T12:00:00+00:00\"", output);
        Assert.Contains("\"startTime\": \"2026-11-24T13:00:00+00:00\"", output);
    }
}
