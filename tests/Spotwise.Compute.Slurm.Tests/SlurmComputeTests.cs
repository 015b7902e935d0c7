using System.Diagnostics;
using System.Globalization;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Compute.Slurm.Tests;

/// <summary>What only a real Slurm cluster does: exit codes and output files, partitions by market, preemption, scancel, restarts.</summary>
[Collection(OneSlurmCluster.Name)]
public sealed class SlurmComputeTests : IDisposable
{
    private const string Team = "ml";
    private static CancellationToken Ct => CancellationToken.None;

    private readonly SlurmCluster _cluster = new();
    private readonly List<SlurmCompute> _backends = [];

    private SlurmCompute NewBackend()
    {
        var backend = new SlurmCompute(_cluster.Options, TimeProvider.System);
        _backends.Add(backend);
        return backend;
    }

    private static LaunchRequest Job(string id, Market market, string command, int attempt = 1, double workHours = 0.01) =>
        new(ClientTokens.For(new JobKey(Team, id), attempt), Team, id, attempt, market, "slurm-node", "localhost", workHours, false, 0, command);

    public void Dispose()
    {
        _cluster.Dispose();
        foreach (var backend in _backends)
        {
            backend.Dispose();
        }
    }

    [ServiceFact(SlurmCluster.Variable)]
    public async Task A_job_completes_with_exit_code_0_and_its_output_file_is_recorded()
    {
        var backend = NewBackend();
        var launched = await backend.LaunchAsync(Job("hello", Market.OnDemand, "echo \"hello from $SPOTWISE_TEAM/$SPOTWISE_JOB_ID#$SPOTWISE_ATTEMPT\"; echo to-stderr >&2"), Ct);

        var done = await SlurmCluster.UntilStateAsync(backend, launched.InstanceId, s => s == InstanceState.Succeeded || s == InstanceState.Failed, "ended");

        Assert.Equal(InstanceState.Succeeded, done.State);
        Assert.Equal(0, done.ExitCode);
        Assert.NotNull(done.OutputPath);
        Assert.Equal(launched.OutputPath, done.OutputPath);
        var output = await File.ReadAllTextAsync(done.OutputPath);
        Assert.Contains("hello from ml/hello#1", output, StringComparison.Ordinal);
        Assert.Contains("to-stderr", output, StringComparison.Ordinal);
        Assert.Equal(0.01, done.SavedProgressHours);
    }

    [ServiceFact(SlurmCluster.Variable)]
    public async Task A_failing_command_fails_with_its_exit_code_and_output_file()
    {
        var backend = NewBackend();
        var launched = await backend.LaunchAsync(Job("bad", Market.OnDemand, "echo about to fail; exit 3"), Ct);

        var done = await SlurmCluster.UntilStateAsync(backend, launched.InstanceId, s => s is InstanceState.Succeeded or InstanceState.Failed, "ended");

        Assert.Equal(InstanceState.Failed, done.State);
        Assert.Equal(3, done.ExitCode);
        Assert.StartsWith("exit code 3 (Slurm job ", done.Error, StringComparison.Ordinal);
        Assert.Contains(done.OutputPath!, done.Error, StringComparison.Ordinal);
        Assert.Contains("about to fail", await File.ReadAllTextAsync(done.OutputPath!), StringComparison.Ordinal);
    }

    [ServiceFact(SlurmCluster.Variable)]
    public async Task Each_market_goes_to_its_partition_and_only_spot_may_be_requeued()
    {
        var backend = NewBackend();
        var spot = await backend.LaunchAsync(Job("s", Market.Spot, "sleep 30"), Ct);
        var onDemand = await backend.LaunchAsync(Job("o", Market.OnDemand, "sleep 30"), Ct);

        var jobs = (await _cluster.JobsAsync()).Where(j => j.Name.StartsWith(_cluster.Prefix, StringComparison.Ordinal)).ToList();
        Assert.Equal("spot", Assert.Single(jobs, j => j.Name.EndsWith(spot.ClientToken, StringComparison.Ordinal)).Partition);
        Assert.Equal("ondemand", Assert.Single(jobs, j => j.Name.EndsWith(onDemand.ClientToken, StringComparison.Ordinal)).Partition);
        var described = await backend.DescribeAsync(Ct);
        Assert.Equal([Market.OnDemand, Market.Spot], described.OrderBy(s => s.JobId, StringComparer.Ordinal).Select(s => s.Market));
    }

    [ServiceFact(SlurmCluster.Variable)]
    public async Task A_spot_job_preempted_by_an_on_demand_job_is_interrupted_and_slurm_does_not_run_it_again()
    {
        var backend = NewBackend();
        var spot = await backend.LaunchAsync(Job("long", Market.Spot, SlurmCluster.RunsOnSpotUntilPreempted), Ct);
        await SlurmCluster.UntilStateAsync(backend, spot.InstanceId, s => s == InstanceState.Running, "running");

        // Another user's on-demand job that needs the whole node: Slurm preempts the spot job to run it.
        var hog = await _cluster.SubmitNodeHogAsync(seconds: 2);

        InstanceStatus? interrupted = null;
        await SlurmCluster.UntilAsync(async () =>
        {
            interrupted = (await backend.DescribeAsync(Ct)).Single(s => s.InstanceId == spot.InstanceId);
            return interrupted.State is not (InstanceState.Running or InstanceState.Pending);
        }, async () => $"the spot job to be preempted; the cluster holds:\n{await _cluster.QueueAsync()}", SlurmCluster.PreemptionPatience);
        Assert.Equal(InstanceState.Interrupted, interrupted!.State);
        Assert.NotNull(interrupted.EndedAt);
        Assert.Null(interrupted.Error);
        // The requeued copy was cancelled: Slurm will not start the spot job again once the node is free.
        var slurm = Assert.Single(await _cluster.JobsNamedAsync(spot.ClientToken));
        Assert.Equal("CANCELLED", slurm.State);
        Assert.True(slurm.Restarts >= 1);
        await SlurmCluster.UntilAsync(async () => (await _cluster.JobsAsync()).Single(j => j.JobId == hog).State == "COMPLETED", "the on-demand job to complete");
        Assert.Equal(InstanceState.Interrupted, (await backend.DescribeAsync(Ct)).Single(s => s.InstanceId == spot.InstanceId).State);
    }

    [ServiceFact(SlurmCluster.Variable)]
    public async Task Terminate_cancels_the_job_and_kills_its_process()
    {
        var backend = NewBackend();
        Directory.CreateDirectory(_cluster.Output);
        var pidFile = Path.Combine(_cluster.Output, "pid");
        var launched = await backend.LaunchAsync(Job("victim", Market.OnDemand, $"echo $$ > {pidFile}; exec sleep 300"), Ct);
        await SlurmCluster.UntilAsync(() => Task.FromResult(File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0), "the job to write its pid");
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), CultureInfo.InvariantCulture);
        Assert.True(IsAlive(pid), "the job's process runs before the cancel");

        await backend.TerminateAsync(launched.InstanceId, Ct);

        Assert.Equal(InstanceState.Terminated, (await backend.DescribeAsync(Ct)).Single(s => s.InstanceId == launched.InstanceId).State);
        await SlurmCluster.UntilAsync(() => Task.FromResult(!IsAlive(pid)), $"process {pid} to be killed");
    }

    [ServiceFact(SlurmCluster.Variable)]
    public async Task A_restarted_backend_finds_its_job_by_name_and_submits_nothing_twice()
    {
        var request = Job("resume", Market.OnDemand, "sleep 5");
        var first = await NewBackend().LaunchAsync(request, Ct);

        // A new process (empty memory) asked for the same attempt: the name is found with squeue, nothing is submitted.
        var restarted = NewBackend();
        var again = await restarted.LaunchAsync(request, Ct);

        Assert.Equal(first.InstanceId, again.InstanceId);
        Assert.Single(await _cluster.JobsNamedAsync(request.ClientToken));
        var seen = Assert.Single(await restarted.DescribeAsync(Ct));
        Assert.Equal((request.ClientToken, Market.OnDemand, "slurm-node", "localhost"), (seen.ClientToken, seen.Market, seen.InstanceType, seen.Zone));
    }

    [ServiceFact(SlurmCluster.Variable)]
    public async Task Jobs_of_another_installation_or_user_are_not_ours()
    {
        var other = new SlurmCluster();
        try
        {
            await new SlurmCompute(other.Options, TimeProvider.System).LaunchAsync(Job("theirs", Market.OnDemand, "sleep 5"), Ct);
            await _cluster.SubmitAsync("--partition=ondemand", "--time=1", "--wrap=sleep 5");

            Assert.Empty(await NewBackend().DescribeAsync(Ct));
        }
        finally
        {
            other.Dispose();
        }
    }

    [ServiceFact(SlurmCluster.Variable)]
    public async Task A_partition_the_cluster_lacks_fails_the_launch_saying_so_and_is_not_asked_again()
    {
        var backend = new SlurmCompute(_cluster.Options with { OnDemandPartition = "no-such-partition" }, TimeProvider.System);
        _backends.Add(backend);

        var refused = await backend.LaunchAsync(Job("nowhere", Market.OnDemand, "true"), Ct);
        var again = await backend.LaunchAsync(Job("nowhere", Market.OnDemand, "true"), Ct);

        Assert.Equal(InstanceState.Failed, refused.State);
        Assert.Contains("sbatch refused the job", refused.Error, StringComparison.Ordinal);
        Assert.Contains("partition", refused.Error, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(refused, again);
        Assert.Contains(refused, await backend.DescribeAsync(Ct));
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
