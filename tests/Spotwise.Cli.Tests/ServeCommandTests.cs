namespace Spotwise.Cli.Tests;

public class ServeCommandTests
{
    [Theory]
    [InlineData("--backend", "kubernetes", "--backend: 'kubernetes' is not a backend; choose one of simulated, local")]
    [InlineData("--planner", "magic", "--planner: 'magic' is not a planner")]
    [InlineData("--speed", "0", "--speed: 0 must be a number greater than 0")]
    [InlineData("--cycle-seconds", "-1", "--cycle-seconds: -1 must be greater than 0")]
    [InlineData("--trace", "/no/such/trace.json", "--trace: '/no/such/trace.json' does not exist")]
    public void Bad_serve_flags_exit_2_naming_the_flag(string flag, string value, string expected)
    {
        var (code, _, err) = CliRunner.Run("serve", flag, value);

        Assert.Equal(2, code);
        Assert.Contains("error: " + expected, err);
    }

    [Theory]
    [InlineData("--launch-template: required with --backend aws", "--backend", "aws", "--region", "us-east-1", "--subnets", "subnet-a,subnet-b")]
    [InlineData("--subnets: required with --backend aws", "--backend", "aws", "--launch-template", "lt-0abc")]
    [InlineData("--subnets: 'subnet-a,,subnet-b' has an empty entry", "--backend", "aws", "--launch-template", "lt-0abc", "--subnets", "subnet-a,,subnet-b")]
    [InlineData("--interruption-queue: 'spot-events' is not an SQS queue URL", "--backend", "aws", "--launch-template", "lt-0abc", "--subnets", "subnet-a", "--interruption-queue", "spot-events")]
    [InlineData("--agent-callback-url: 'spotwise.local' is not an absolute http(s) URL", "--backend", "aws", "--launch-template", "lt-0abc", "--subnets", "subnet-a", "--agent-callback-url", "spotwise.local")]
    [InlineData("--agent-callback-url: only for --backend aws", "--agent-callback-url", "https://spotwise.example.com")]
    [InlineData("--region: only for --backend aws (the backend is simulated)", "--region", "us-west-2")]
    [InlineData("--region: 'mars-1' is not an AWS region", "--backend", "aws", "--region", "us-east-1", "--region", "mars-1", "--launch-template", "lt-0abc", "--subnets", "subnet-a")]
    [InlineData("--launch-template: 'lt-0abc' is one region's template id; with several --region give the template's name", "--backend", "aws", "--region", "us-east-1", "--region", "us-west-2", "--launch-template", "lt-0abc", "--subnets", "subnet-a")]
    [InlineData("--region: 'us-east-1' is given twice", "--backend", "aws", "--region", "us-east-1", "--region", "us-east-1", "--launch-template", "lt-0abc", "--subnets", "subnet-a")]
    public void Bad_aws_flags_exit_2_naming_the_flag(string expected, params string[] flags)
    {
        var (code, _, err) = CliRunner.Run(["serve", .. flags]);

        Assert.Equal(2, code);
        Assert.Contains("error: " + expected, err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_aws_backend_is_listed_beside_the_others()
    {
        var (code, _, err) = CliRunner.Run("serve", "--backend", "ec2");

        Assert.Equal(2, code);
        Assert.Contains("choose one of simulated, local, aws", err, StringComparison.Ordinal);
    }

    [Fact]
    public void A_catalog_with_a_bad_line_exits_2_naming_the_file_and_line()
    {
        var path = CliRunner.TempFile(
            "instance_type,vcpus,memory_gib,gpus,gpu_model,on_demand_usd_per_hour,spot_usd_per_hour_typical,interruption_band\n" +
            "m5.large,2,8,0,,0.096,0.04,1\n" +
            "c5.large,2,4,0,,cheap,0.03,1\n", ".csv");

        var (code, _, err) = CliRunner.Run("serve", "--catalog", path);

        Assert.Equal(2, code);
        Assert.Contains($"error: --catalog: {path}:3: on_demand_usd_per_hour 'cheap' is not a number", err, StringComparison.Ordinal);
    }
}
