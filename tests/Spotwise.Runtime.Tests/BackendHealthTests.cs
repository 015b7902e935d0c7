using Spotwise.Runtime.Backends;

namespace Spotwise.Runtime.Tests;

public class BackendHealthTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_missing_permission_clears_when_that_call_succeeds_and_not_before()
    {
        var health = new BackendHealth();
        health.Failing("aws", "ec2:RunInstances", "missing permission ec2:RunInstances (UnauthorizedOperation: ...)", Now);
        health.Failing("aws", "ec2:TerminateInstances", "missing permission ec2:TerminateInstances (UnauthorizedOperation: ...)", Now);

        health.Cleared("aws", "ec2:DescribeInstances");
        Assert.Equal(["ec2:RunInstances", "ec2:TerminateInstances"], health.Problems.Select(p => p.Subject));

        health.Cleared("aws", "ec2:RunInstances");
        Assert.Equal("aws: missing permission ec2:TerminateInstances (UnauthorizedOperation: ...)", Assert.Single(health.Problems).ToString());
    }

    [Fact]
    public void A_problem_of_the_whole_backend_clears_when_any_of_its_calls_succeeds()
    {
        var health = new BackendHealth();
        health.Failing("aws", BackendProblem.Credentials, "AWS refused the credentials (ExpiredToken: ...)", Now, wholeBackend: true);
        health.Failing("other", BackendProblem.Credentials, "no credentials", Now, wholeBackend: true);

        health.Cleared("aws", "ec2:DescribeInstances");

        Assert.Equal("other", Assert.Single(health.Problems).Backend);
        Assert.False(health.IsHealthy);
    }
}
