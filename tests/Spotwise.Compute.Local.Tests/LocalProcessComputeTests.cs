using Spotwise.Core;

using Spotwise.Runtime;

namespace Spotwise.Compute.Local.Tests;

/// <summary>The local backend runs real processes: the contract, plus what only real processes do.</summary>
public sealed class LocalProcessComputeTests : ComputeBackendContract, IDisposable
{
    private readonly string _logs = Path.Combine(Path.GetTempPath(), $"spotwise-local-{Guid.NewGuid():N}");
    private LocalProcessCompute? _backend;

    protected override ICompute Backend => Local();

    private LocalProcessCompute Local(int slots = 4) => _backend ??= new LocalProcessCompute(new LocalProcessOptions { Slots = slots, LogDirectory = _logs }, TimeProvider.System);

    protected override LaunchRequest OnDemandRequest(string jobId, int attempt = 1) => Job(jobId, "sleep 0.3", attempt);

    /// <summary>Only a bound on a hung process: the tests go on as soon as the processes have exited.</summary>
    protected override TimeSpan TimeToFinish => TimeSpan.FromMinutes(2);

    /// <summary>
    /// Real time: waits until every launched instance has finished, its process exited and its log written, however
    /// long a loaded machine takes. Waiting on time instead (poll the states for a few seconds) read empty logs.
    /// </summary>
    protected override async Task LetTimePassAsync(TimeSpan span)
    {
        var instances = await Backend.DescribeAsync(Ct);
        var finished = Task.WhenAll(instances.Select(i => Local().WhenFinishedAsync(i.InstanceId, Ct)));
        try
        {
            await finished.WaitAsync(span, TimeProvider.System);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"an instance was still running after {span}: {string.Join(", ", (await Backend.DescribeAsync(Ct)).Where(i => !i.IsEnded).Select(i => i.JobId))}");
        }
    }

    public void Dispose()
    {
        _backend?.Dispose();
        if (Directory.Exists(_logs))
        {
            Directory.Delete(_logs, recursive: true);
        }
    }

    private static LaunchRequest Job(string jobId, string? command, int attempt = 1) =>
        Request(jobId, attempt, Market.OnDemand, "local", "localhost", workHours: 0.001, command: command);

    [Fact]
    public async Task A_failing_command_fails_with_its_exit_code_and_its_output_is_kept()
    {
        await Backend.LaunchAsync(Job("bad", "echo about to fail; echo oops >&2; exit 3"), Ct);
        await LetTimePassAsync(TimeToFinish);

        var status = Assert.Single(await Backend.DescribeAsync(Ct));
        Assert.Equal(InstanceState.Failed, status.State);
        Assert.StartsWith("exit code 3", status.Error, StringComparison.Ordinal);
        var log = await File.ReadAllTextAsync(Path.Combine(_logs, status.InstanceId + ".log"));
        Assert.Contains("about to fail", log, StringComparison.Ordinal);
        Assert.Contains("oops", log, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_job_without_a_command_fails_saying_so()
    {
        var status = await Backend.LaunchAsync(Job("empty", null), Ct);

        Assert.Equal(InstanceState.Failed, status.State);
        Assert.Contains("has no command", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Jobs_beyond_the_slots_wait_their_turn()
    {
        var backend = Local(slots: 1);
        await backend.LaunchAsync(Job("first", "sleep 0.5"), Ct);
        var second = await backend.LaunchAsync(Job("second", "true"), Ct);

        Assert.Equal(InstanceState.Pending, second.State);
        await LetTimePassAsync(TimeToFinish);
        Assert.All(await backend.DescribeAsync(Ct), s => Assert.Equal(InstanceState.Succeeded, s.State));
    }

    [Fact]
    public async Task Terminating_kills_the_process_tree()
    {
        // A background child that outlives the shell unless the whole tree is killed. It holds the log's pipe, so the
        // instance finishes only when it is gone: had it survived, it would have touched the marker by then.
        var marker = Path.Combine(_logs, "survived");
        var launched = await Backend.LaunchAsync(Job("long", $"(sleep 1; touch {marker}) & wait"), Ct);

        await Backend.TerminateAsync(launched.InstanceId, Ct);
        await LetTimePassAsync(TimeToFinish);

        Assert.False(File.Exists(marker), "the command went on after it was terminated");
        Assert.Equal(InstanceState.Terminated, Assert.Single(await Backend.DescribeAsync(Ct)).State);
    }

    [Fact]
    public async Task The_job_sees_its_id_and_attempt()
    {
        var launched = await Backend.LaunchAsync(Job("env", "echo \"$SPOTWISE_JOB_ID/$SPOTWISE_ATTEMPT\"", attempt: 2), Ct);
        await LetTimePassAsync(TimeToFinish);

        Assert.Contains("env/2", await File.ReadAllTextAsync(Path.Combine(_logs, launched.InstanceId + ".log")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_job_sees_its_team()
    {
        // Ids are a team's own: the id alone does not say whose job runs.
        var launched = await Backend.LaunchAsync(ForTeam(Job("env", "echo \"team=$SPOTWISE_TEAM\""), "vision"), Ct);
        await LetTimePassAsync(TimeToFinish);

        Assert.Contains("team=vision", await File.ReadAllTextAsync(Path.Combine(_logs, launched.InstanceId + ".log")), StringComparison.Ordinal);
    }
}
