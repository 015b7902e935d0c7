using System.Net;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Compute.Aws;
using Spotwise.Compute.Aws.Fakes;
using Spotwise.Runtime;
using Spotwise.Runtime.Attempts;

namespace Spotwise.Server.Tests.Attempts;

/// <summary>
/// The shipped agent (src/Spotwise.Compute.Aws/Agent/spotwise-agent.sh), run by bash from the user data the backend
/// builds, against the real server on a loopback port and a loopback IMDSv2 (<see cref="FakeImds"/>). Needs bash and
/// curl (scripts/test.sh installs curl when it is missing).
/// </summary>
public sealed class AgentScriptTests : IAsyncLifetime
{
    private readonly string _dir = Directory.CreateTempSubdirectory("spotwise-agent-").FullName;
    private LiveServer _server = null!;
    private FakeImds _imds = null!;
    private string _token = null!;

    private AttemptReports Reports => _server.Factory.Services.GetRequiredService<AttemptReports>();

    private AttemptSecrets Secrets => _server.Factory.Services.GetRequiredService<AttemptSecrets>();

    public async Task InitializeAsync()
    {
        _server = LiveServer.Start();
        _imds = await FakeImds.StartAsync();
        using var team = _server.ClientFor("k1");
        var submitted = await team.PostAsync("/api/jobs", new StringContent(LaunchedJobs.Job, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Created, submitted.StatusCode);
        _token = await LaunchedJobs.LaunchAsync(_server.Factory.Services.GetRequiredService<IJobStore>(), new JobKey("team-a", "job-1"),
            _server.Factory.Time.GetUtcNow());
    }

    public async Task DisposeAsync()
    {
        await _imds.DisposeAsync();
        await _server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private AgentRun Run(string command) => AgentRun.Start(_token, command, _server.Address, Secrets, Reports, _imds.BaseUri, _dir);

    private string InDir(string name) => Ec2UserData.Quote(Path.Combine(_dir, name));

    [Fact]
    public async Task A_command_that_exits_3_reports_started_then_exited_3_tags_the_code_and_shuts_the_instance_down()
    {
        await using var agent = Run("echo working; exit 3");

        var code = await agent.ExitAsync();

        Assert.Equal(3, code);
        var kinds = agent.Seen.Select(e => e.Kind).Where(k => k != AttemptEventKind.Heartbeat).ToList();
        Assert.Equal([AttemptEventKind.Started, AttemptEventKind.Exited], kinds);
        var exited = agent.Seen.Single(e => e.Kind == AttemptEventKind.Exited);
        Assert.Equal((3, _imds.InstanceId), (exited.ExitCode, exited.InstanceId));
        Assert.Equal(3, Reports.Get(_token)!.ExitCode);
        Assert.True(File.Exists(agent.ShutdownRecord), $"the agent did not call the shutdown command; it said:\n{agent.Output}");
        Assert.Equal($"ec2 create-tags --region us-east-1 --resources {_imds.InstanceId} --tags Key=spotwise:exit-code,Value=3",
            File.ReadAllText(agent.TagRecord).Trim());
    }

    [Fact]
    public async Task The_agent_speaks_imdsv2_a_session_token_first_then_every_read_with_it()
    {
        await using var agent = Run("exit 0");

        await agent.ExitAsync();

        var requests = _imds.Requests.ToList();
        Assert.StartsWith("PUT /latest/api/token 200", requests[0], StringComparison.Ordinal);
        Assert.Contains("GET /latest/meta-data/instance-id 200", requests);
        Assert.DoesNotContain(requests, r => r.EndsWith(" 401", StringComparison.Ordinal) || r.EndsWith(" 400", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_interruption_notice_reaches_spotwise_and_the_command_gets_its_checkpoint_signal()
    {
        await using var agent = Run($"trap 'echo TERM > {InDir("signal")}; exit 0' TERM; while :; do sleep 0.1; done");
        // The agent polls at once after starting the command, and heartbeats a second later: by then it has seen no notice.
        await agent.WaitForAsync(e => e.Kind == AttemptEventKind.Heartbeat);
        Assert.Contains(_imds.Requests, r => r == "GET /latest/meta-data/spot/instance-action 404");

        _imds.AnnounceInterruption(_server.Factory.Time.GetUtcNow().AddMinutes(2));
        await agent.WaitForAsync(e => e.Kind == AttemptEventKind.Notice);
        var exited = await agent.WaitForAsync(e => e.Kind == AttemptEventKind.Exited);

        Assert.Equal("TERM", File.ReadAllText(Path.Combine(_dir, "signal")).Trim());
        Assert.Equal(0, exited.ExitCode);
        Assert.NotNull(Reports.Get(_token)!.NoticeAt);
        Assert.Equal(0, await agent.ExitAsync());
    }

    [Fact]
    public async Task Heartbeats_carry_the_progress_the_command_writes()
    {
        var stop = Path.Combine(_dir, "stop");
        await using var agent = Run($"echo 1.5 > \"$SPOTWISE_PROGRESS_FILE\"; while [ ! -e {InDir("stop")} ]; do sleep 0.1; done; echo 2.25 > \"$SPOTWISE_PROGRESS_FILE\"");

        var beat = await agent.WaitForAsync(e => e is { Kind: AttemptEventKind.Heartbeat, ProgressHours: not null });
        await File.WriteAllTextAsync(stop, "");
        var exited = await agent.WaitForAsync(e => e.Kind == AttemptEventKind.Exited);

        Assert.Equal(1.5, beat.ProgressHours);
        Assert.Equal((0, 2.25), (exited.ExitCode, exited.ProgressHours));
        Assert.Equal(2.25, Reports.Get(_token)!.ProgressHours);
    }

    [Fact]
    public async Task The_command_arrives_exactly_quotes_dollars_backticks_and_newlines_included_without_the_secret()
    {
        var command = $"printf '%s' \"$SPOTWISE_COMMAND\" > {InDir("command")}; printf '%s' \"${{SPOTWISE_SECRET-unset}}\" > {InDir("secret")} # it's \"quoted\" $HOME `id` \\n\nexit 0\n";
        await using var agent = Run(command);

        Assert.Equal(0, await agent.ExitAsync());

        Assert.Equal(command, File.ReadAllText(Path.Combine(_dir, "command")));
        Assert.Equal("unset", File.ReadAllText(Path.Combine(_dir, "secret")));
    }
}
