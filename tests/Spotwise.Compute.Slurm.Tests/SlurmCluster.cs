using Spotwise.Runtime;

namespace Spotwise.Compute.Slurm.Tests;

/// <summary>
/// The tests' hold on the local cluster scripts/slurm-up.sh starts (one node, two CPUs here): every test class that submits
/// to it is in this collection, so their jobs never compete for the node and a preemption test owns it.
/// </summary>
[CollectionDefinition(Name)]
public sealed class OneSlurmCluster
{
    public const string Name = "slurm cluster";
}

/// <summary>A test's own view of the cluster: its own job-name prefix (so tests never see each other's jobs) and output folder.</summary>
internal sealed class SlurmCluster : IDisposable
{
    public const string Variable = "SPOTWISE_SLURM_CONF";

    /// <summary>A bound on any wait for the cluster, never a pause: every wait ends as soon as its condition holds.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The bound on a wait for a preemption: Slurm preempts within seconds of the on-demand job's submission when the node
    /// holds only spot jobs, and at its next scheduling pass (every 5 s) after an on-demand job of another test project
    /// leaves; this leaves room for a loaded machine.
    /// </summary>
    public static readonly TimeSpan PreemptionPatience = TimeSpan.FromMinutes(4);

    /// <summary>
    /// A spot job's command that only a preemption ends: on the spot partition it sleeps far longer than any wait (the test
    /// cancels it), so a preemption that comes late is waited for instead of being missed because the job finished; on
    /// the on-demand partition (a fallback) it ends in seconds.
    /// </summary>
    public const string RunsOnSpotUntilPreempted = "if [ \"$SLURM_JOB_PARTITION\" = ondemand ]; then sleep 5; else sleep 1800; fi";

    public string Prefix { get; } = $"t{Guid.NewGuid():N}"[..9] + ":";

    public string Output { get; } = Path.Combine(Path.GetTempPath(), $"spotwise-slurm-{Guid.NewGuid():N}");

    public SlurmComputeOptions Options => new()
    {
        Conf = ServiceEnvironment.Require(Variable),
        JobNamePrefix = Prefix,
        OutputDirectory = Output,
    };

    private SlurmCommands Commands => new(Options);

    /// <summary>Every job on the cluster, ours or not, as squeue reports it.</summary>
    public async Task<IReadOnlyList<SlurmJob>> JobsAsync() =>
        SlurmJob.ParseSqueue(await Commands.AskAsync("squeue", ["--json"], CancellationToken.None));

    /// <summary>The Slurm jobs named for <paramref name="clientToken"/> under this test's prefix.</summary>
    public async Task<IReadOnlyList<SlurmJob>> JobsNamedAsync(string clientToken) =>
        [.. (await JobsAsync()).Where(j => j.Name == Prefix + clientToken)];

    /// <summary>Submits a job by hand, as another user of the cluster would (the on-demand job that preempts a spot one).</summary>
    public async Task<long> SubmitAsync(params string[] arguments) =>
        long.Parse((await Commands.AskAsync("sbatch", ["--parsable", $"--job-name={Prefix}hand", $"--output={Output}/hand-%j.out", .. arguments], CancellationToken.None)).Trim().Split(';')[0],
            System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// Submits, as another user would, an on-demand job that needs the whole node (<c>--exclusive</c>): Slurm can start it
    /// only by preempting the spot jobs on the node, and does so as soon as nothing unpreemptable (an on-demand job of
    /// another test project) holds a CPU there.
    /// </summary>
    public Task<long> SubmitNodeHogAsync(int seconds) =>
        SubmitAsync("--partition=ondemand", "--exclusive", "--time=1", $"--wrap=sleep {seconds}");

    /// <summary>What the cluster holds now, a job a line with its partition, state and reason: why a wait ended empty.</summary>
    public async Task<string> QueueAsync() =>
        await Commands.AskAsync("squeue", ["--noheader", "--format=%i %j %P %T %r"], CancellationToken.None);

    /// <summary>Cancels a job; one that has ended already is no error.</summary>
    public Task CancelAsync(long jobId) => Commands.RunAsync("scancel", [jobId.ToString(System.Globalization.CultureInfo.InvariantCulture)], CancellationToken.None);

    /// <summary>Waits until <paramref name="condition"/> holds, asking again every 200 ms, failing with <paramref name="what"/> after <see cref="Patience"/>.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? limit = null) =>
        UntilAsync(condition, () => Task.FromResult(what), limit);

    /// <summary>As <see cref="UntilAsync(Func{Task{bool}}, string, TimeSpan?)"/>, the failure's words read only when it fails (what the cluster holds then).</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, Func<Task<string>> what, TimeSpan? limit = null)
    {
        var end = TimeProvider.System.GetUtcNow() + (limit ?? Patience);
        while (!await condition())
        {
            if (TimeProvider.System.GetUtcNow() > end)
            {
                Assert.Fail($"waited {limit ?? Patience} for {await what()}");
            }
            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System);
        }
    }

    /// <summary>Waits until the backend reports <paramref name="instanceId"/> in a state <paramref name="wanted"/> accepts; returns it.</summary>
    public static async Task<InstanceStatus> UntilStateAsync(ICompute backend, string instanceId, Func<InstanceState, bool> wanted, string what)
    {
        InstanceStatus? seen = null;
        await UntilAsync(async () =>
        {
            seen = (await backend.DescribeAsync(CancellationToken.None)).SingleOrDefault(s => s.InstanceId == instanceId);
            return seen is not null && wanted(seen.State);
        }, $"{instanceId} to be {what} (last seen {seen?.State.ToString() ?? "nowhere"})");
        return seen!;
    }

    /// <summary>Cancels whatever this test left on the cluster and removes its output.</summary>
    public void Dispose()
    {
        if (Environment.GetEnvironmentVariable(Variable) is { Length: > 0 })
        {
            using var backend = new SlurmCompute(Options, TimeProvider.System);
            backend.CancelAllAsync(CancellationToken.None).GetAwaiter().GetResult();
            foreach (var hand in JobsAsync().GetAwaiter().GetResult().Where(j => j.Name == Prefix + "hand"))
            {
                CancelAsync(hand.JobId).GetAwaiter().GetResult();
            }
        }
        if (Directory.Exists(Output))
        {
            Directory.Delete(Output, recursive: true);
        }
    }
}
