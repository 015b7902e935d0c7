using System.CommandLine;
using System.Net;
using System.Text.Json;
using Spotwise.Core.Serialization;

namespace Spotwise.Cli;

/// <summary>
/// <c>spotwise submit JOBS</c>: posts the jobs file's jobs in batches the server takes (at most
/// <see cref="Spotwise.Server.JobInput.MaxBatch"/> jobs and well under its body limit each), in file order; the server
/// resolves times and validates. A refused batch stops the command: the batches before it are stored, and submitting
/// the corrected file again is safe (stored jobs come back as duplicates).
/// </summary>
public static class SubmitCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, HttpMessageHandler? http)
    {
        var file = new Argument<string>("jobs-file") { Description = "JSON jobs file: an array of jobs or {\"jobs\": [...]}" };
        var client = new ClientOptions();
        var via = new Option<string?>("--via") { Description = "Publish to RabbitMQ instead of the server's API: amqp://team:password@host:5672/ (publisher confirms; docs/scale-out.md)" };
        var queue = new Option<string>("--queue") { Description = "With --via: the queue the service takes jobs from", DefaultValueFactory = _ => Spotwise.Intake.RabbitMq.RabbitMqOptions.DefaultQueue };
        var command = new Command("submit", "Submit the jobs of a file to the Spotwise server (idempotent by jobId)") { file, via, queue };
        client.AddTo(command);
        command.SetAction((parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            if (parse.GetValue(via) is { } broker)
            {
                return Task.Run(() => ViaAsync(path, broker, parse.GetValue(queue)!, stdout, stderr, ct), ct);
            }
            var server = parse.GetValue(client.Server);
            var key = parse.GetValue(client.ApiKey);
            // Off the caller's synchronization context (a test's CliRunner waits for the exit code).
            return Task.Run(() => RunAsync(path, server, key, http, stdout, stderr, ct), ct);
        });
        return command;
    }

    public static async Task<int> RunAsync(
        string path, string? server, string? apiKey, HttpMessageHandler? http, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var jobs = ReadJobsArray(path, out var why);
        if (jobs is null)
        {
            stderr.WriteLine($"error: jobs file: {why}");
            return ExitCodes.BadInput;
        }
        return await ApiAnswers.RunAsync(server, apiKey, http, stderr, async api =>
        {
            var conflicts = 0;
            var offset = 0;
            foreach (var batch in Batches(jobs))
            {
                var response = await api.SubmitAsync("[" + string.Join(",", batch) + "]", ct);
                if (response.Status != HttpStatusCode.OK)
                {
                    if (offset > 0)
                    {
                        stderr.WriteLine($"error: jobs[{offset}] onwards were not submitted; jobs[0..{offset - 1}] were (submitting the file again is safe)");
                    }
                    return ApiAnswers.ReportFailure(response, stderr, indexOffset: offset);
                }
                conflicts += Report(response.Body, stdout);
                offset += batch.Count;
            }
            return conflicts == 0 ? ExitCodes.Ok : ExitCodes.Partial;
        });
    }

    private static async Task<int> ViaAsync(string path, string broker, string queue, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        var jobs = ReadJobsArray(path, out var why);
        if (jobs is null)
        {
            stderr.WriteLine($"error: jobs file: {why}");
            return ExitCodes.BadInput;
        }
        return await AmqpSubmit.RunAsync(jobs, broker, queue, stdout, stderr, ct);
    }

    /// <summary>The file's jobs, in order, cut into batches by count and by size (one request, or one message, each).</summary>
    internal static IEnumerable<List<string>> Batches(IReadOnlyList<string> jobs)
    {
        const long maxBytes = Spotwise.Server.JobInput.MaxBodyBytes / 2; // room for multi-byte characters and brackets
        var batch = new List<string>();
        long bytes = 0;
        foreach (var job in jobs)
        {
            if (batch.Count > 0 && (batch.Count == Spotwise.Server.JobInput.MaxBatch || bytes + job.Length > maxBytes))
            {
                yield return batch;
                batch = [];
                bytes = 0;
            }
            batch.Add(job);
            bytes += job.Length + 1;
        }
        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    /// <summary>One line per job of a batch's answer; returns how many were conflicts.</summary>
    private static int Report(string body, TextWriter stdout)
    {
        var conflicts = 0;
        using var doc = JsonDocument.Parse(body);
        foreach (var item in doc.RootElement.EnumerateArray())
        {
            var id = item.GetProperty("jobId").GetString();
            var outcome = item.GetProperty("outcome").GetString();
            if (outcome == "conflict")
            {
                conflicts++;
                stdout.WriteLine($"{id} conflict: already submitted with a different body; submit it under a new jobId");
            }
            else
            {
                stdout.WriteLine($"{id} {outcome}");
            }
        }
        return conflicts;
    }

    /// <summary>The file's jobs, each as its JSON text (sent as-is), or null with the reason.</summary>
    public static IReadOnlyList<string>? ReadJobsArray(string path, out string? why)
    {
        why = null;
        if (!File.Exists(path))
        {
            why = $"'{path}' does not exist";
            return null;
        }
        // Strict, as the server reads it: a trailing comma or a comment is refused here as there.
        using var doc = StrictJson.Parse(File.ReadAllBytes(path), out var error);
        if (doc is null)
        {
            var (index, field) = JobPaths.Locate(error!.Path);
            why = $"'{path}': {JobPaths.Of(index, field)}: {error.Message}";
            return null;
        }
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("jobs", out var inner))
        {
            root = inner;
        }
        if (root.ValueKind != JsonValueKind.Array)
        {
            why = $"'{path}' holds neither a JSON array of jobs nor {{\"jobs\": [...]}}";
            return null;
        }
        return [.. root.EnumerateArray().Select(j => j.GetRawText())];
    }
}
