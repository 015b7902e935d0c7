using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Aws.Fakes;

namespace Spotwise.Cli.Tests;

/// <summary>
/// <c>spotwise aws check</c> against the loopback EC2 (<see cref="FakeEc2Server"/>, which answers DryRun as EC2 does),
/// through the real AWS SDK client: the endpoint comes from <c>AWS_ENDPOINT_URL_EC2</c> as a user would set it, the
/// credentials are dummy ones handed to the command in place of the SDK's chain.
/// </summary>
public sealed class AwsCheckCommandTests : IAsyncLifetime
{
    private static readonly string[] EveryEc2Permission =
    [
        "ec2:RunInstances", "ec2:DescribeInstances", "ec2:TerminateInstances", "ec2:DescribeSpotPriceHistory",
        "ec2:DescribeInstanceTypeOfferings", "ec2:DescribeSubnets",
    ];

    private readonly FakeTimeProvider _time = new(CliRunner.FixedNow);
    private FakeEc2Server _ec2 = null!;

    public async Task InitializeAsync() =>
        _ec2 = await FakeEc2Server.StartAsync(_time, new Dictionary<string, string>(StringComparer.Ordinal) { ["subnet-a"] = "us-east-1a" });

    public async Task DisposeAsync() => await _ec2.DisposeAsync();

    private Dictionary<string, string> Env() => new(StringComparer.Ordinal) { ["AWS_ENDPOINT_URL_EC2"] = _ec2.BaseUri.ToString() };

    private static (int Code, string Out, string Err) Check(IReadOnlyDictionary<string, string> env, AwsCommand.CredentialSource credentials,
        params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = Task.Run(() => CliApp.RunAsync(["aws", "check", .. args], stdout, stderr, new FakeTimeProvider(CliRunner.FixedNow),
            env: env.GetValueOrDefault, awsCredentials: credentials)).GetAwaiter().GetResult();
        Assert.DoesNotContain("   at ", stderr.ToString()); // never a stack trace
        return (code, stdout.ToString(), stderr.ToString());
    }

    private (int Code, string Out, string Err) Check(params string[] args) => Check(Env(), Dummy, args);

    private static Task<AWSCredentials> Dummy(IClientConfig config) => Task.FromResult<AWSCredentials>(new BasicAWSCredentials("AKIDEXAMPLE", "secret"));

    /// <summary>The table's row for <paramref name="permission"/>: its result word and detail.</summary>
    private static (string Result, string Detail) Row(string output, string permission)
    {
        var line = output.Split('\n').Single(l => l.StartsWith(permission + " ", StringComparison.Ordinal));
        var rest = line[permission.Length..].TrimStart();
        var space = rest.IndexOf(' ', StringComparison.Ordinal);
        return (rest[..space], rest[space..].Trim());
    }

    [Fact]
    public void Every_permission_allowed_exits_0_with_ok_on_every_row_and_launches_nothing()
    {
        var (code, output, err) = Check("--region", "us-east-1", "--launch-template", "lt-0abc", "--subnets", "subnet-a,subnet-b");

        Assert.Equal(0, code);
        Assert.Equal("", err);
        Assert.StartsWith("permission", output, StringComparison.Ordinal);
        Assert.All(EveryEc2Permission, p => Assert.Equal("ok", Row(output, p).Result));
        Assert.Contains("DryRun: would have succeeded; launch template lt-0abc, t3.micro spot in subnet-a, tagged on create: ec2:CreateTags too",
            Row(output, "ec2:RunInstances").Detail, StringComparison.Ordinal);
        Assert.Equal(0, _ec2.InstanceCount);
        Assert.Contains("RunInstances", _ec2.Actions);
    }

    [Fact]
    public void A_denied_run_instances_exits_1_naming_the_permission()
    {
        _ec2.Deny("RunInstances");

        var (code, output, err) = Check("--region", "us-east-1", "--launch-template", "lt-0abc");

        Assert.Equal(1, code);
        var (result, detail) = Row(output, "ec2:RunInstances");
        Assert.Equal("missing", result);
        Assert.Contains("UnauthorizedOperation: You are not authorized to perform this operation.", detail, StringComparison.Ordinal);
        Assert.Contains("not authorized to perform: ec2:RunInstances", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Encoded authorization failure message", detail, StringComparison.Ordinal);
        Assert.Equal("ok", Row(output, "ec2:TerminateInstances").Result);
        Assert.Equal("not ready: ec2:RunInstances missing\n", err.ReplaceLineEndings("\n"));
    }

    [Fact]
    public async Task Terminate_is_tried_on_an_instance_of_this_installation_when_there_is_one()
    {
        // An instance tagged as Spotwise tags them, launched through the SDK as the backend would.
        using var client = new Amazon.EC2.AmazonEC2Client(new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
            new Amazon.EC2.AmazonEC2Config { ServiceURL = _ec2.BaseUri.ToString(), AuthenticationRegion = "us-east-1" });
        var launched = await client.RunInstancesAsync(new Amazon.EC2.Model.RunInstancesRequest
        {
            MinCount = 1,
            MaxCount = 1,
            InstanceType = Amazon.EC2.InstanceType.T3Micro,
            SubnetId = "subnet-a",
            LaunchTemplate = new Amazon.EC2.Model.LaunchTemplateSpecification { LaunchTemplateId = "lt-0abc" },
            TagSpecifications = [new() { ResourceType = Amazon.EC2.ResourceType.Instance, Tags = [new("spotwise:managed-by", "spotwise")] }],
        });
        var id = launched.Reservation.Instances[0].InstanceId;

        var (code, output, _) = Check("--region", "us-east-1", "--launch-template", "lt-0abc");

        Assert.Equal(0, code);
        Assert.Contains($"on {id}, an instance of this installation", Row(output, "ec2:TerminateInstances").Detail, StringComparison.Ordinal);
        Assert.Equal(1, _ec2.InstanceCount);
    }

    [Fact]
    public void A_queue_out_of_reach_is_an_error_on_both_sqs_rows_and_exits_1()
    {
        // SQS has no dry run: the check reads the queue for real. Nothing listens on the discard port.
        var env = Env();
        env["AWS_ENDPOINT_URL_SQS"] = "http://127.0.0.1:9/";

        var (code, output, err) = Check(env, Dummy, "--region", "us-east-1", "--launch-template", "lt-0abc",
            "--interruption-queue", "http://127.0.0.1:9/123456789012/spot-events");

        Assert.Equal(1, code);
        Assert.Equal("error", Row(output, "sqs:GetQueueAttributes").Result);
        Assert.Equal("error", Row(output, "sqs:ReceiveMessage").Result);
        Assert.Contains("sqs:GetQueueAttributes error, sqs:ReceiveMessage error", err, StringComparison.Ordinal);
    }

    [Fact]
    public void The_region_comes_from_AWS_REGION_when_no_flag_gives_it()
    {
        var env = Env();
        env["AWS_REGION"] = "eu-west-1";

        var (code, _, err) = Check(env, Dummy, "--launch-template", "lt-0abc");

        Assert.Equal((0, ""), (code, err));
    }

    [Theory]
    [InlineData("error: --region: 'Mars' is not a region name (us-east-1)", "--region", "Mars", "--launch-template", "lt-0abc")]
    [InlineData("error: --launch-template: 'ami-0abc' is not a launch template id (lt-...)", "--region", "us-east-1", "--launch-template", "ami-0abc")]
    [InlineData("error: --subnets: 'sg-1' is not a subnet id (subnet-...)", "--region", "us-east-1", "--launch-template", "lt-0abc", "--subnets", "subnet-a,sg-1")]
    [InlineData("error: --interruption-queue: 'spot-events' is not an http(s) URL", "--region", "us-east-1", "--launch-template", "lt-0abc", "--interruption-queue", "spot-events")]
    [InlineData("error: --instance-type: 'huge' is not an instance type (t3.micro)", "--region", "us-east-1", "--launch-template", "lt-0abc", "--instance-type", "huge")]
    [InlineData("error: Option '--launch-template' is required.", "--region", "us-east-1")]
    [InlineData("error: Unrecognized command or argument '--subnet'.", "--region", "us-east-1", "--launch-template", "lt-0abc", "--subnet", "subnet-a")]
    public void Bad_flags_exit_2_naming_the_flag_and_the_value(string expected, params string[] args)
    {
        var (code, output, err) = Check(args);

        Assert.Equal(2, code);
        Assert.Contains(expected, err, StringComparison.Ordinal);
        Assert.Equal("", output);
        Assert.Empty(_ec2.Actions);
    }

    [Fact]
    public void A_syntax_error_points_to_the_subcommands_own_help()
    {
        var (_, _, err) = Check("--region", "us-east-1");

        Assert.Contains("Run 'spotwise aws check --help' for usage.", err, StringComparison.Ordinal);
    }

    [Fact]
    public void No_region_anywhere_and_a_bad_endpoint_variable_are_named()
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal) { ["AWS_ENDPOINT_URL_EC2"] = "localhost:4566" };

        var (code, _, err) = Check(env, Dummy, "--launch-template", "lt-0abc");

        Assert.Equal(2, code);
        Assert.Contains("error: --region: no region given, and AWS_REGION is not set", err, StringComparison.Ordinal);
        Assert.Contains("error: AWS_ENDPOINT_URL_EC2: 'localhost:4566' is not an http(s) URL", err, StringComparison.Ordinal);
    }

    [Fact]
    public void Without_credentials_the_sdks_message_is_one_line_and_the_exit_is_2()
    {
        // What the SDK's default chain throws when no provider finds anything.
        static Task<AWSCredentials> None(IClientConfig config) => throw new AmazonClientException(
            "Failed to resolve AWS credentials. The credential providers used to search for credentials returned the following errors: "
            + "Environment variables AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set.");

        var (code, output, err) = Check(Env(), None, "--region", "us-east-1", "--launch-template", "lt-0abc");

        Assert.Equal(2, code);
        Assert.Equal("", output);
        Assert.StartsWith("error: no AWS credentials: Failed to resolve AWS credentials.", err, StringComparison.Ordinal);
        Assert.Single(err.TrimEnd().Split('\n'));
        Assert.Empty(_ec2.Actions);
    }
}
