using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Aws.Fakes;

namespace Spotwise.Cli.Tests;

/// <summary>
/// <c>spotwise serve --backend aws</c> as a child process, its EC2 the loopback fake, reached the way a user points the
/// binary at any EC2-compatible endpoint: the SDK's own environment (<c>AWS_ENDPOINT_URL_EC2</c>, <c>AWS_REGION</c>,
/// credentials from <c>AWS_ACCESS_KEY_ID</c>), no flag of ours.
/// </summary>
public sealed class ServeAwsTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spotwise-serve-aws-").FullName;
    private FakeEc2Server _ec2 = null!;

    public async Task InitializeAsync() => _ec2 = await FakeEc2Server.StartAsync(new FakeTimeProvider(CliRunner.FixedNow),
        new Dictionary<string, string>(StringComparer.Ordinal) { ["subnet-aaaa"] = "us-west-2a", ["subnet-bbbb"] = "us-west-2b" });

    public async Task DisposeAsync()
    {
        await _ec2.DisposeAsync();
        try
        {
            Directory.Delete(_dir, recursive: true);
        }
        catch (IOException)
        {
            // The child's files may linger a moment; the OS cleans temp.
        }
    }

    private Dictionary<string, string> Environment => new(StringComparer.Ordinal)
    {
        ["SPOTWISE_API_KEYS"] = "k1=team-a",
        ["AWS_ENDPOINT_URL_EC2"] = _ec2.BaseUri.ToString(),
        ["AWS_REGION"] = "us-west-2",
        ["AWS_ACCESS_KEY_ID"] = "AKIDEXAMPLE",
        ["AWS_SECRET_ACCESS_KEY"] = "not-a-secret",
        // Never the machine's own profile or instance role.
        ["AWS_PROFILE"] = "",
        ["AWS_EC2_METADATA_DISABLED"] = "true",
    };

    [Fact]
    public async Task Serve_on_aws_starts_against_the_endpoint_the_sdk_environment_names()
    {
        using var serve = ServeProcess.Start(Path.Combine(_dir, "ok.db"), Environment, "--backend", "aws", "--launch-template", "lt-0abc", "--subnets", "subnet-aaaa,subnet-bbbb");
        using var http = new HttpClient();

        await serve.WaitHealthyAsync(http, TimeSpan.FromSeconds(30), CancellationToken.None);

        Assert.Contains("DescribeSubnets", _ec2.Actions);
    }

    [Fact]
    public async Task A_subnet_ec2_does_not_know_stops_serve_with_exit_2_naming_it()
    {
        using var serve = ServeProcess.Start(Path.Combine(_dir, "bad.db"), Environment, "--backend", "aws", "--launch-template", "lt-0abc", "--subnets", "subnet-aaaa,subnet-zzzz");

        var code = await serve.ExitCodeAsync(TimeSpan.FromSeconds(30));

        Assert.True(code == 2, $"exit {code}:\n{serve.RecentOutput}");
        Assert.Contains("error: --subnets: The subnet ID 'subnet-zzzz' does not exist (InvalidSubnetID.NotFound)", serve.RecentOutput, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Repeated_regions_each_ask_ec2_for_the_subnets_and_one_no_region_holds_stops_serve_naming_the_regions()
    {
        // One endpoint answers as both regions here (AWS_ENDPOINT_URL_EC2): the subnet both lack is named with both.
        using var serve = ServeProcess.Start(Path.Combine(_dir, "regions.db"), Environment, "--backend", "aws", "--region", "us-west-2", "--region", "us-east-1",
            "--launch-template", "spotwise-batch", "--subnets", "subnet-aaaa,subnet-zzzz");

        var code = await serve.ExitCodeAsync(TimeSpan.FromSeconds(30));

        Assert.True(code == 2, $"exit {code}:\n{serve.RecentOutput}");
        Assert.Contains("error: --subnets: subnet 'subnet-zzzz' does not exist in us-west-2, us-east-1 (DescribeSubnets did not list it)", serve.RecentOutput,
            StringComparison.Ordinal);
        Assert.Equal(2, _ec2.CallsOf("DescribeSubnets"));
    }
}
