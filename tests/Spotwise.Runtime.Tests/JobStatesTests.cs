namespace Spotwise.Runtime.Tests;

public class JobStatesTests
{
    [Theory]
    [InlineData(JobState.Queued, JobState.Planned)]
    [InlineData(JobState.Planned, JobState.Launching)]
    [InlineData(JobState.Launching, JobState.Running)]
    [InlineData(JobState.Running, JobState.Succeeded)]
    [InlineData(JobState.Running, JobState.Interrupted)]
    [InlineData(JobState.Interrupted, JobState.Queued)]
    [InlineData(JobState.Running, JobState.Launching)]
    [InlineData(JobState.Launching, JobState.Succeeded)]
    public void The_life_of_a_job_follows_the_documented_moves(JobState from, JobState to) =>
        Assert.True(JobStates.CanMove(from, to));

    [Fact]
    public void Nothing_leaves_a_final_state()
    {
        foreach (var final in Enum.GetValues<JobState>().Where(s => s.IsFinal()))
        {
            Assert.All(Enum.GetValues<JobState>(), to => Assert.False(JobStates.CanMove(final, to)));
        }
    }

    [Fact]
    public void Every_unfinished_job_can_be_cancelled_and_can_fail() =>
        Assert.All(Enum.GetValues<JobState>().Where(s => !s.IsFinal()), s =>
        {
            Assert.True(JobStates.CanMove(s, JobState.Cancelled));
            Assert.True(JobStates.CanMove(s, JobState.Failed));
        });

    [Theory]
    [InlineData("running", JobState.Running)]
    [InlineData("Interrupted", JobState.Interrupted)]
    public void States_read_by_name(string text, JobState expected)
    {
        Assert.True(JobStates.TryParse(text, out var state));
        Assert.Equal(expected, state);
        Assert.Equal(text.ToLowerInvariant(), state.ToWire());
    }

    [Theory]
    [InlineData("3")]
    [InlineData("sleeping")]
    [InlineData(null)]
    public void Unknown_states_are_refused(string? text) => Assert.False(JobStates.TryParse(text, out _));
}
