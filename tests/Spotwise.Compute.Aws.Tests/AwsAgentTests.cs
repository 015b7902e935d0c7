using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Attempts;
using InstanceState = Spotwise.Runtime.InstanceState;
using InstanceStatus = Spotwise.Runtime.InstanceStatus;

namespace Spotwise.Compute.Aws.Tests;

/// <summary>
/// The EC2 backend with the agent configured, through the real SDK client against the loopback EC2 on the test's clock:
/// the launch carries the agent; what the agents report (written here as the endpoint writes it) completes EC2's word;
/// a silent agent's instance is lost and terminated.
/// </summary>
public sealed class AwsAgentTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Subnets = new(StringComparer.Ordinal) { ["us-east-1a"] = "subnet-aaaa" };
    private static readonly Uri Callback = new("https://spotwise.example.com/");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly AttemptSecrets _secrets = new(AttemptSecrets.NewKey());
    private AttemptReports _reports = null!;
    private FakeEc2Server _server = null!;
    private AmazonEC2Client _client = null!;
    private AwsEc2Compute _backend = null!;

    private static CancellationToken Ct => CancellationToken.None;

    public async Task InitializeAsync()
    {
        _reports = new AttemptReports(_time);
        // The job's command runs for hours: every end in these tests is the agent's word, or Spotwise's.
        _server = await FakeEc2Server.StartAsync(_time, Subnets.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal));
        _server.Run = TimeSpan.FromHours(10);
        _backend = Backend(_reports);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    private AwsComputeOptions Options(Uri? callback) => new()
    {
        ServiceUrl = _server.BaseUri,
        Region = "us-east-1",
        LaunchTemplateId = "lt-0abc",
        SubnetsByZone = Subnets,
        Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
        AgentCallbackUrl = callback,
    };

    private AwsEc2Compute Backend(AttemptReports reports)
    {
        var options = Options(Callback);
        _client ??= (AmazonEC2Client)AwsComputeRegistration.CreateClient(options);
        return new AwsEc2Compute(_client, options, _time, reports: reports, secrets: _secrets);
    }

    private static LaunchRequest Spot(string jobId = "job-1", string? command = "python train.py") =>
        new(ClientTokens.For(new JobKey("ml", jobId), 1), "ml", jobId, 1, Market.Spot, "p3.2xlarge", "us-east-1a", 2, true, 0.5, command);

    private void Report(LaunchRequest request, AttemptEventKind kind, double? progressHours = null, int? exitCode = null) =>
        _reports.Record(request.ClientToken, new AttemptEvent(kind, _time.GetUtcNow(), ProgressHours: progressHours, ExitCode: exitCode));

    private async Task<InstanceStatus> DescribeAsync(LaunchRequest request) =>
        Assert.Single(await _backend.DescribeAsync(Ct), s => s.ClientToken == request.ClientToken);

    private async Task<string> Ec2StateAsync(string instanceId)
    {
        var described = await _client.DescribeInstancesAsync(new DescribeInstancesRequest { InstanceIds = [instanceId] });
        var instance = described.Reservations.SelectMany(r => r.Instances).Single();
        return $"{instance.State.Name.Value} {instance.StateReason?.Code}".Trim();
    }

    [Fact]
    public void The_launch_carries_the_agent_with_the_attempts_token_and_secret_and_a_shutdown_that_terminates()
    {
        var run = _backend.RunRequest(Spot());

        var userData = Encoding.UTF8.GetString(Convert.FromBase64String(run.UserData));
        Assert.StartsWith("#!/bin/bash\n", userData, StringComparison.Ordinal);
        Assert.Contains("export SPOTWISE_URL='https://spotwise.example.com/'\n", userData, StringComparison.Ordinal);
        Assert.Contains("export SPOTWISE_TOKEN='ml/job-1#1'\n", userData, StringComparison.Ordinal);
        Assert.Contains($"export SPOTWISE_SECRET='{_secrets.For("ml/job-1#1")}'\n", userData, StringComparison.Ordinal);
        Assert.Contains("export SPOTWISE_COMMAND='python train.py'\n", userData, StringComparison.Ordinal);
        Assert.Contains(Ec2UserData.AgentScript, userData, StringComparison.Ordinal);
        Assert.Equal(ShutdownBehavior.Terminate, run.InstanceInitiatedShutdownBehavior);
    }

    [Fact]
    public void Without_a_callback_url_no_user_data_is_sent_and_the_templates_applies()
    {
        using var client = (AmazonEC2Client)AwsComputeRegistration.CreateClient(Options(null));
        var backend = new AwsEc2Compute(client, Options(null), _time);

        var run = backend.RunRequest(Spot());

        Assert.Null(run.UserData);
        Assert.Equal(ShutdownBehavior.Terminate, run.InstanceInitiatedShutdownBehavior);
    }

    [Fact]
    public async Task A_command_too_long_for_user_data_is_refused_naming_the_job_before_ec2_is_asked()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _backend.LaunchAsync(Spot(command: new string('x', Ec2UserData.MaxBytes)), Ct));

        Assert.Contains("job 'ml/job-1'", error.Message, StringComparison.Ordinal);
        Assert.Contains("16384", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, _server.InstanceCount);
    }

    [Fact]
    public async Task A_job_without_a_command_is_refused_naming_the_job()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => _backend.LaunchAsync(Spot(command: null), Ct));

        Assert.Contains("job 'ml/job-1' has no command", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Exited_0_is_success_before_ec2_has_seen_the_shutdown()
    {
        var request = Spot();
        var launched = await _backend.LaunchAsync(request, Ct);
        _time.Advance(TimeSpan.FromMinutes(2));
        Report(request, AttemptEventKind.Started);
        _time.Advance(TimeSpan.FromMinutes(1));
        Report(request, AttemptEventKind.Exited, exitCode: 0);
        var exitedAt = _time.GetUtcNow();

        var status = await DescribeAsync(request);

        Assert.Equal((InstanceState.Succeeded, exitedAt, (string?)null), (status.State, status.EndedAt, status.Error));
        Assert.Equal("running", await Ec2StateAsync(launched.InstanceId));
    }

    [Fact]
    public async Task Exited_3_is_a_failure_with_the_code()
    {
        var request = Spot();
        await _backend.LaunchAsync(request, Ct);
        _time.Advance(TimeSpan.FromMinutes(2));
        Report(request, AttemptEventKind.Exited, exitCode: 3);

        var status = await DescribeAsync(request);

        Assert.Equal((InstanceState.Failed, "the job's command exited with code 3"), (status.State, status.Error));
    }

    [Fact]
    public async Task An_instance_still_up_long_after_its_command_exited_is_terminated_and_stays_a_success()
    {
        var request = Spot();
        var launched = await _backend.LaunchAsync(request, Ct);
        _time.Advance(TimeSpan.FromMinutes(2));
        Report(request, AttemptEventKind.Exited, exitCode: 0);
        _time.Advance(TimeSpan.FromMinutes(4));

        var status = await DescribeAsync(request);

        Assert.Equal(InstanceState.Succeeded, status.State);
        Assert.Equal("terminated Client.UserInitiatedShutdown", await Ec2StateAsync(launched.InstanceId));
        Assert.Equal(InstanceState.Succeeded, (await DescribeAsync(request)).State);
    }

    [Fact]
    public async Task Heartbeats_carry_saved_progress_and_a_notice_its_moment()
    {
        var request = Spot();
        await _backend.LaunchAsync(request, Ct);
        _time.Advance(TimeSpan.FromMinutes(2));
        Report(request, AttemptEventKind.Heartbeat, progressHours: 0.75);
        _time.Advance(TimeSpan.FromSeconds(30));
        Report(request, AttemptEventKind.Notice);
        var noticeAt = _time.GetUtcNow();

        var status = await DescribeAsync(request);

        Assert.Equal((InstanceState.Running, 0.75, noticeAt), (status.State, status.SavedProgressHours, status.InterruptionNoticeAt));
    }

    [Fact]
    public async Task An_exit_after_a_notice_is_an_interruption_whatever_its_code()
    {
        var request = Spot();
        await _backend.LaunchAsync(request, Ct);
        _time.Advance(TimeSpan.FromMinutes(2));
        Report(request, AttemptEventKind.Notice);
        Report(request, AttemptEventKind.Exited, progressHours: 1.0, exitCode: 0);

        var status = await DescribeAsync(request);

        Assert.Equal((InstanceState.Interrupted, 1.0), (status.State, status.SavedProgressHours));
        Assert.Contains("after a spot interruption notice", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_instance_whose_agent_goes_silent_is_lost_reported_interrupted_and_terminated()
    {
        var request = Spot();
        var launched = await _backend.LaunchAsync(request, Ct);
        _time.Advance(TimeSpan.FromMinutes(2));
        Report(request, AttemptEventKind.Heartbeat, progressHours: 0.5);
        var lastHeard = _time.GetUtcNow();
        _time.Advance(TimeSpan.FromMinutes(2.5));
        Assert.Equal(InstanceState.Running, (await DescribeAsync(request)).State);

        _time.Advance(TimeSpan.FromMinutes(1));
        var lost = await DescribeAsync(request);

        Assert.Equal(InstanceState.Interrupted, lost.State);
        Assert.StartsWith($"lost: no heartbeat since {lastHeard.UtcDateTime:yyyy-MM-dd HH:mm:ss} UTC", lost.Error, StringComparison.Ordinal);
        Assert.Equal((0.5, _time.GetUtcNow()), (lost.SavedProgressHours, lost.EndedAt));
        Assert.Equal("terminated Client.UserInitiatedShutdown", await Ec2StateAsync(launched.InstanceId));
        // EC2 now says "terminated by the user"; the verdict stays lost.
        _time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal((InstanceState.Interrupted, lost.Error), ((await DescribeAsync(request)).State, (await DescribeAsync(request)).Error));
    }

    [Fact]
    public async Task An_agent_that_never_reports_is_lost_after_the_boot_allowance_and_the_timeout()
    {
        var request = Spot();
        await _backend.LaunchAsync(request, Ct);

        _time.Advance(TimeSpan.FromMinutes(5.5));
        var booting = await DescribeAsync(request);
        _time.Advance(TimeSpan.FromMinutes(1));
        var lost = await DescribeAsync(request);

        Assert.Equal(InstanceState.Running, booting.State);
        Assert.Equal(InstanceState.Interrupted, lost.State);
        Assert.Contains("the agent never reported", lost.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_restart_forgets_the_reports_but_judges_no_instance_lost_before_heartbeats_can_resume()
    {
        var request = Spot();
        await _backend.LaunchAsync(request, Ct);
        _time.Advance(TimeSpan.FromHours(1));
        _backend = Backend(new AttemptReports(_time));

        _time.Advance(TimeSpan.FromMinutes(2.5));
        var afterRestart = await DescribeAsync(request);

        Assert.Equal(InstanceState.Running, afterRestart.State);
    }

    [Fact]
    public void The_registered_backend_takes_the_services_reports_and_secrets()
    {
        var services = new ServiceCollection().AddSingleton<TimeProvider>(_time).AddSingleton(_reports).AddSingleton(_secrets)
            .AddAwsCompute(_ => Options(Callback));
        using var provider = services.BuildServiceProvider();

        Assert.IsType<AwsEc2Compute>(provider.GetRequiredKeyedService<Spotwise.Runtime.ICompute>(AwsComputeRegistration.Name));
    }

    [Fact]
    public void A_callback_url_without_the_services_reports_is_a_clear_error()
    {
        using var client = (AmazonEC2Client)AwsComputeRegistration.CreateClient(Options(Callback));

        var error = Assert.Throws<ArgumentException>(() => new AwsEc2Compute(client, Options(Callback), _time));

        Assert.Contains("AgentCallbackUrl", error.Message, StringComparison.Ordinal);
    }
}
