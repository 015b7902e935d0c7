using System.Globalization;
using System.Text.Json;

namespace Spotwise.Compute.Slurm;

/// <summary>
/// One Slurm job as <c>squeue --json</c> reports it (Slurm 22.05, openapi v0.0.38): finished jobs too, for the
/// controller's MinJobAge. Times are Unix seconds, 0 when unset; <paramref name="RawExitStatus"/> is the wait status
/// (exit code in the high byte, signal in the low bits).
/// </summary>
internal sealed record SlurmJob(
    long JobId,
    string Name,
    string State,
    string Partition,
    string Comment,
    int RawExitStatus,
    int Restarts,
    DateTimeOffset? SubmittedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? EndedAt,
    string? OutputPattern)
{
    /// <summary>The command's exit code (128 + signal for one killed by a signal, as a shell reports it).</summary>
    public int ExitCode => (RawExitStatus & 0x7f) is var signal and not 0 ? 128 + signal : (RawExitStatus >> 8) & 0xff;

    /// <summary>The output file, with Slurm's <c>%j</c> (the job id) filled in.</summary>
    public string? OutputPath => OutputPattern is { Length: > 0 } p ? p.Replace("%j", JobId.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal) : null;

    /// <summary>Every job in <c>squeue --json</c>'s answer.</summary>
    /// <exception cref="SlurmUnreachableException">The answer is not squeue's JSON.</exception>
    public static IReadOnlyList<SlurmJob> ParseSqueue(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (!document.RootElement.TryGetProperty("jobs", out var jobs))
            {
                throw new SlurmUnreachableException("squeue --json printed no 'jobs' (is this Slurm 22.05 or later?)");
            }
            return [.. jobs.EnumerateArray().Select(Read)];
        }
        catch (JsonException e)
        {
            throw new SlurmUnreachableException($"squeue --json printed something that is not JSON: {e.Message}", e);
        }
    }

    private static SlurmJob Read(JsonElement job) => new(
        Number(job, "job_id"),
        Text(job, "name"),
        Text(job, "job_state"),
        Text(job, "partition"),
        Text(job, "comment"),
        (int)Number(job, "exit_code"),
        (int)Number(job, "restart_cnt"),
        Time(job, "submit_time"),
        Time(job, "start_time"),
        Time(job, "end_time"),
        Text(job, "standard_output"));

    private static string Text(JsonElement job, string name) =>
        job.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : "";

    private static long Number(JsonElement job, string name) =>
        job.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : 0;

    private static DateTimeOffset? Time(JsonElement job, string name) =>
        Number(job, name) is > 0 and var seconds ? DateTimeOffset.FromUnixTimeSeconds(seconds) : null;
}
