using System.ComponentModel;
using System.Diagnostics;

namespace Spotwise.Compute.Slurm;

/// <summary>What one Slurm command printed and how it exited.</summary>
internal sealed record SlurmOutput(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The first line of stderr (Slurm's message: <c>sbatch: error: invalid partition specified: x</c>), else stdout's.</summary>
    public string Message => FirstLine(Stderr) ?? FirstLine(Stdout) ?? $"exit code {ExitCode}";

    private static string? FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
}

/// <summary>
/// The cluster could not be asked: a command is missing, timed out, or the controller does not answer. No job's fault;
/// the backend reports it as unhealthy and the reconcile loop tries again next tick.
/// </summary>
public sealed class SlurmUnreachableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Runs the Slurm commands (sbatch, squeue, scancel) as processes with the configured slurm.conf, a timeout and times in
/// UTC (<c>TZ=UTC</c>: <c>--deadline</c> is read in the command's local time).
/// </summary>
internal sealed class SlurmCommands(SlurmComputeOptions options)
{
    /// <summary>Runs one command; <c>stdin</c>, when given, is written to its input and closed (sbatch reads its batch script there).</summary>
    public async Task<SlurmOutput> RunAsync(string command, IReadOnlyList<string> arguments, CancellationToken cancellationToken, string? stdin = null)
    {
        var path = options.PathOf(command);
        var info = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }
        if (options.Conf is { Length: > 0 } conf)
        {
            info.Environment["SLURM_CONF"] = conf;
        }
        info.Environment["TZ"] = "UTC";
        using var process = new Process { StartInfo = info };
        try
        {
            process.Start();
        }
        catch (Win32Exception e)
        {
            throw new SlurmUnreachableException($"cannot run '{path}': {e.Message} (is Slurm installed? set Slurm:BinDirectory / --slurm-bin)", e);
        }
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.CommandTimeout);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin.AsMemory(), timeout.Token);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
            return new SlurmOutput(process.ExitCode, await stdout, await stderr);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new SlurmUnreachableException($"'{command} {string.Join(' ', arguments)}' did not answer within {options.CommandTimeout} (is slurmctld running?)");
        }
    }

    /// <summary>Runs <paramref name="command"/> and returns its stdout; a non-zero exit means the cluster could not be asked.</summary>
    public async Task<string> AskAsync(string command, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var output = await RunAsync(command, arguments, cancellationToken);
        return output.ExitCode == 0
            ? output.Stdout
            : throw new SlurmUnreachableException($"{command} failed: {output.Message}");
    }
}
