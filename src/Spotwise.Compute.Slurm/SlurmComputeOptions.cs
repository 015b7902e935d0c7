namespace Spotwise.Compute.Slurm;

/// <summary>
/// Where and how the Slurm backend submits (the <c>Spotwise:Slurm</c> section; <c>serve --backend slurm</c>'s flags).
/// The defaults work with scripts/slurm-up.sh once its <c>SPOTWISE_SLURM_CONF</c> is passed as <see cref="Conf"/>.
/// </summary>
public sealed record SlurmComputeOptions
{
    /// <summary>The partition spot attempts go to: low priority tier, preempted by requeue.</summary>
    public string SpotPartition { get; init; } = "spot";

    /// <summary>The partition on-demand attempts go to: a priority tier that preempts <see cref="SpotPartition"/>.</summary>
    public string OnDemandPartition { get; init; } = "ondemand";

    /// <summary>The slurm.conf the commands read (<c>SLURM_CONF</c>); null: the commands' own (the environment's, or /etc/slurm).</summary>
    public string? Conf { get; init; }

    /// <summary>The folder holding sbatch, squeue and scancel; null: found on PATH.</summary>
    public string? BinDirectory { get; init; }

    /// <summary>
    /// Each attempt's output (stdout and stderr) goes to <c>{name}-{jobid}.out</c> here, a folder the cluster's nodes can
    /// write (a shared file system on a real cluster).
    /// </summary>
    public string OutputDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "spotwise-slurm");

    /// <summary>
    /// Put before each client token in the Slurm job name, and the mark of this installation's jobs: only jobs named
    /// with it are listed, adopted or cancelled. Empty (the default): the name is the client token itself.
    /// </summary>
    public string JobNamePrefix { get; init; } = "";

    /// <summary>How long one command may take before the cluster is taken to be unreachable.</summary>
    public TimeSpan CommandTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// <c>--time</c> is the attempt's work times this, plus a minute (Slurm kills a job at its time limit: the
    /// estimate must not be the limit).
    /// </summary>
    public double TimeLimitFactor { get; init; } = 1.5;

    /// <summary>The partition an attempt on <paramref name="market"/> goes to.</summary>
    public string PartitionFor(Core.Market market) => market == Core.Market.Spot ? SpotPartition : OnDemandPartition;

    /// <summary>The path of a Slurm command: in <see cref="BinDirectory"/> when set, else its bare name (PATH).</summary>
    public string PathOf(string command) => BinDirectory is { Length: > 0 } bin ? Path.Combine(bin, command) : command;

    /// <summary>What is wrong with these options, one line per problem naming the setting.</summary>
    public IEnumerable<string> Problems()
    {
        if (string.IsNullOrWhiteSpace(SpotPartition))
        {
            yield return "Slurm:SpotPartition is empty; name the partition spot attempts go to";
        }
        if (string.IsNullOrWhiteSpace(OnDemandPartition))
        {
            yield return "Slurm:OnDemandPartition is empty; name the partition on-demand attempts go to";
        }
        if (Conf is { Length: > 0 } conf && !File.Exists(conf))
        {
            yield return $"Slurm:Conf is '{conf}', which does not exist (scripts/slurm-up.sh prints the path it wrote)";
        }
        if (BinDirectory is { Length: > 0 } bin && !Directory.Exists(bin))
        {
            yield return $"Slurm:BinDirectory is '{bin}', which is not a folder";
        }
        if (CommandTimeout <= TimeSpan.Zero)
        {
            yield return $"Slurm:CommandTimeout is {CommandTimeout}; it must be positive";
        }
        if (!(TimeLimitFactor >= 1))
        {
            yield return $"Slurm:TimeLimitFactor is {TimeLimitFactor}; it must be at least 1";
        }
    }
}
