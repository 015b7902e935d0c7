using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;

namespace Spotwise.Compute.Slurm.Tests;

/// <summary>A cluster that cannot be asked makes the backend unhealthy, never a job failed. No cluster needed.</summary>
public sealed class SlurmUnreachableTests : IDisposable
{
    private readonly string _emptyBin = Directory.CreateTempSubdirectory("spotwise-no-slurm-").FullName;

    public void Dispose() => Directory.Delete(_emptyBin, recursive: true);

    [Fact]
    public async Task Missing_slurm_commands_make_the_backend_unhealthy_naming_the_command()
    {
        var health = new BackendHealth();
        using var backend = new SlurmCompute(new SlurmComputeOptions { BinDirectory = _emptyBin }, TimeProvider.System, health: health);

        var error = await Assert.ThrowsAsync<BackendUnavailableException>(() => backend.DescribeAsync(CancellationToken.None));

        Assert.Contains(Path.Combine(_emptyBin, "squeue"), error.Message, StringComparison.Ordinal);
        var problem = Assert.Single(health.Problems);
        Assert.Equal(("slurm", "squeue"), (problem.Backend, problem.Subject));
    }

    [Fact]
    public async Task A_launch_while_the_controller_is_unreachable_is_retried_later_not_failed()
    {
        // A slurm.conf naming a controller nobody runs: squeue cannot reach it.
        var conf = Path.Combine(_emptyBin, "slurm.conf");
        await File.WriteAllTextAsync(conf, "ClusterName=nowhere\nSlurmctldHost=localhost(127.0.0.1)\nSlurmctldPort=1\nAuthType=auth/none\nNodeName=n CPUs=1\nPartitionName=spot Nodes=n\n");
        var health = new BackendHealth();
        using var backend = new SlurmCompute(new SlurmComputeOptions { Conf = conf, CommandTimeout = TimeSpan.FromSeconds(20) }, TimeProvider.System, health: health);
        var request = new LaunchRequest(ClientTokens.For(new JobKey("ml", "a"), 1), "ml", "a", 1, Market.Spot, "t", "z", 1, false, 0, "true");

        await Assert.ThrowsAsync<BackendUnavailableException>(() => backend.LaunchAsync(request, CancellationToken.None));

        Assert.False(health.IsHealthy);
    }
}
