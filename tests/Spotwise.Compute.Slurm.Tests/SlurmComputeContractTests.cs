using Spotwise.Compute.Slurm.Tests;
using Spotwise.Core;
using Spotwise.Runtime;

// The contract's facts need the cluster: skipped without it on a laptop, failing under scripts/test.sh.
[assembly: ContractServer(SlurmCluster.Variable)]

namespace Spotwise.Compute.Slurm.Tests;

/// <summary>
/// The backend contract against the real local cluster (scripts/slurm-up.sh): each launch is a real sbatch job running
/// <c>sleep</c> on the node, each describe a real squeue.
/// </summary>
[Collection(OneSlurmCluster.Name)]
public sealed class SlurmComputeContractTests : ComputeBackendContract, IDisposable
{
    private readonly SlurmCluster _cluster = new();
    private SlurmCompute? _backend;

    protected override ICompute Backend => _backend ??= new SlurmCompute(_cluster.Options, TimeProvider.System);

    protected override LaunchRequest OnDemandRequest(string jobId, int attempt = 1) =>
        Request(jobId, attempt, Market.OnDemand, "slurm-node", "localhost", workHours: 0.001, command: "sleep 0.3");

    /// <summary>Only a bound: the tests go on as soon as every job has ended.</summary>
    protected override TimeSpan TimeToFinish => SlurmCluster.Patience;

    /// <summary>Real time: waits until every instance the backend knows has ended, as squeue reports them.</summary>
    protected override Task LetTimePassAsync(TimeSpan span) =>
        SlurmCluster.UntilAsync(async () => (await Backend.DescribeAsync(Ct)).All(s => s.IsEnded), "every Slurm job to end", span);

    public void Dispose()
    {
        _backend?.Dispose();
        _cluster.Dispose();
    }
}
