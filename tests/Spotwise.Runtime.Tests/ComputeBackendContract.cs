using System.Reflection;
using Spotwise.Core;

namespace Spotwise.Runtime.Tests;

/// <summary>
/// What every <see cref="ICompute"/> must do, whatever it runs on. Each backend's tests inherit this class (one
/// contract suite per abstraction) and say how to make the backend, what a small on-demand job is for it, and how to let
/// its time pass (virtual backends advance their clock; real ones wait).
/// </summary>
public abstract class ComputeBackendContract
{
    protected abstract ICompute Backend { get; }

    /// <summary>An on-demand launch the backend runs to success within <see cref="TimeToFinish"/>.</summary>
    protected abstract LaunchRequest OnDemandRequest(string jobId, int attempt = 1);

    /// <summary>Enough time for <see cref="OnDemandRequest"/> to boot and finish.</summary>
    protected abstract TimeSpan TimeToFinish { get; }

    protected abstract Task LetTimePassAsync(TimeSpan span);

    /// <summary>
    /// The zone Describe reports for a launch: the one asked for. A backend that chooses the zone of a placement in the
    /// region itself (EC2's instant fleet) says which it chose.
    /// </summary>
    protected virtual string ZoneFor(LaunchRequest request) => request.Zone;

    protected static CancellationToken Ct => CancellationToken.None;

    [ContractFact]
    public async Task Launching_the_same_client_token_twice_gives_the_same_instance()
    {
        var request = OnDemandRequest("job-1");
        var first = await Backend.LaunchAsync(request, Ct);
        var second = await Backend.LaunchAsync(request, Ct);

        Assert.Equal(first.InstanceId, second.InstanceId);
        Assert.Single(await Backend.DescribeAsync(Ct));
    }

    [ContractFact]
    public async Task A_retry_after_time_has_passed_still_finds_the_first_instance()
    {
        var request = OnDemandRequest("job-1");
        var first = await Backend.LaunchAsync(request, Ct);
        await LetTimePassAsync(TimeToFinish);
        var again = await Backend.LaunchAsync(request, Ct);

        Assert.Equal(first.InstanceId, again.InstanceId);
        Assert.Single(await Backend.DescribeAsync(Ct));
    }

    [ContractFact]
    public async Task Each_attempt_of_a_job_is_its_own_instance()
    {
        var first = await Backend.LaunchAsync(OnDemandRequest("job-1", attempt: 1), Ct);
        var second = await Backend.LaunchAsync(OnDemandRequest("job-1", attempt: 2), Ct);

        Assert.NotEqual(first.InstanceId, second.InstanceId);
        Assert.Equal(2, (await Backend.DescribeAsync(Ct)).Count);
    }

    [ContractFact]
    public async Task The_same_job_id_of_two_teams_is_two_instances_each_reported_with_its_team()
    {
        var mine = OnDemandRequest("job-1");
        var theirs = ForTeam(mine, "other");

        var first = await Backend.LaunchAsync(mine, Ct);
        var second = await Backend.LaunchAsync(theirs, Ct);

        Assert.NotEqual(first.InstanceId, second.InstanceId);
        Assert.Equal((Team, "other"), (first.Team, second.Team));
        Assert.Equal(["ml/job-1", "other/job-1"], (await Backend.DescribeAsync(Ct)).Select(s => s.Job.ToString()).Order(StringComparer.Ordinal));
    }

    [ContractFact]
    public async Task Describe_lists_every_launched_instance_as_it_was_asked_for()
    {
        var a = OnDemandRequest("job-a");
        var b = OnDemandRequest("job-b", attempt: 3);
        await Backend.LaunchAsync(a, Ct);
        await Backend.LaunchAsync(b, Ct);

        var statuses = await Backend.DescribeAsync(Ct);

        Assert.Equal(2, statuses.Count);
        foreach (var request in new[] { a, b })
        {
            var status = Assert.Single(statuses, s => s.ClientToken == request.ClientToken);
            Assert.Equal((request.Team, request.JobId), (status.Team, status.JobId));
            Assert.Equal(request.Attempt, status.Attempt);
            Assert.Equal(request.Market, status.Market);
            Assert.Equal(request.InstanceType, status.InstanceType);
            Assert.Equal(ZoneFor(request), status.Zone);
        }
        Assert.Equal(2, statuses.Select(s => s.InstanceId).Distinct().Count());
    }

    [ContractFact]
    public async Task An_on_demand_instance_runs_to_success()
    {
        var launched = await Backend.LaunchAsync(OnDemandRequest("job-1"), Ct);
        Assert.False(launched.IsEnded);

        await LetTimePassAsync(TimeToFinish);

        var status = Assert.Single(await Backend.DescribeAsync(Ct));
        Assert.Equal(InstanceState.Succeeded, status.State);
        Assert.NotNull(status.RunningSince);
        Assert.NotNull(status.EndedAt);
        Assert.True(status.RunningSince <= status.EndedAt);
        Assert.True(status.LaunchedAt <= status.RunningSince);
        Assert.Null(status.InterruptionNoticeAt);
        Assert.Null(status.Error);
    }

    [ContractFact]
    public async Task Terminate_stops_an_instance_and_is_idempotent()
    {
        var launched = await Backend.LaunchAsync(OnDemandRequest("job-1"), Ct);

        await Backend.TerminateAsync(launched.InstanceId, Ct);
        var once = Assert.Single(await Backend.DescribeAsync(Ct));
        await Backend.TerminateAsync(launched.InstanceId, Ct);
        var twice = Assert.Single(await Backend.DescribeAsync(Ct));

        Assert.Equal(InstanceState.Terminated, once.State);
        Assert.Equal(once.State, twice.State);
        Assert.Equal(once.EndedAt, twice.EndedAt);
    }

    [ContractFact]
    public async Task A_terminated_instance_stays_terminated_as_time_passes()
    {
        var launched = await Backend.LaunchAsync(OnDemandRequest("job-1"), Ct);
        await Backend.TerminateAsync(launched.InstanceId, Ct);

        await LetTimePassAsync(TimeToFinish);

        Assert.Equal(InstanceState.Terminated, Assert.Single(await Backend.DescribeAsync(Ct)).State);
    }

    [ContractFact]
    public async Task Terminating_a_finished_or_unknown_instance_is_not_an_error()
    {
        var launched = await Backend.LaunchAsync(OnDemandRequest("job-1"), Ct);
        await LetTimePassAsync(TimeToFinish);

        await Backend.TerminateAsync(launched.InstanceId, Ct);
        await Backend.TerminateAsync("no-such-instance", Ct);

        Assert.Equal(InstanceState.Succeeded, Assert.Single(await Backend.DescribeAsync(Ct)).State);
    }

    [ContractFact]
    public async Task A_new_backend_knows_no_instances() => Assert.Empty(await Backend.DescribeAsync(Ct));

    /// <summary>The team the contract's jobs belong to unless a test says otherwise.</summary>
    protected const string Team = "ml";

    protected static LaunchRequest Request(
        string jobId, int attempt, Market market, string instanceType, string zone, double workHours,
        bool checkpointable = false, double checkpointIntervalHours = 0, string? command = null, string team = Team) =>
        new(ClientTokens.For(new JobKey(team, jobId), attempt), team, jobId, attempt, market, instanceType, zone, workHours, checkpointable,
            checkpointIntervalHours, command);

    /// <summary>The same request for another team's job of the same id (its own client token, as the reconciler makes it).</summary>
    protected static LaunchRequest ForTeam(LaunchRequest request, string team) =>
        request with { Team = team, ClientToken = ClientTokens.For(new JobKey(team, request.JobId), request.Attempt) };
}

/// <summary>
/// A contract fact: plain for a backend that needs nothing, and for one on a real server the rule of tests/Shared's
/// <c>ServiceFact</c> (skipped with how to start it when the variable is unset on a laptop, run and failing under
/// scripts/test.sh). The contract's file is compiled into each backend's test project, so this attribute's type is that
/// project's own: the project names its server once, with <see cref="ContractServerAttribute"/> on its assembly.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ContractFactAttribute : FactAttribute
{
    public ContractFactAttribute()
    {
        if (typeof(ContractFactAttribute).Assembly.GetCustomAttribute<ContractServerAttribute>() is { } server)
        {
            Skip = ServiceEnvironment.SkipReason(server.Variable);
        }
    }
}

/// <summary>The backend under contract in this test project runs on the server an up script announced in <see cref="Variable"/>.</summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class ContractServerAttribute(string variable) : Attribute
{
    public string Variable { get; } = variable;
}
