using System.CommandLine;
using System.Net;
using System.Text.Json;

namespace Spotwise.Cli;

/// <summary><c>spotwise submit JOBS</c>: posts the jobs file's jobs as one batch; the server resolves times and validates.</summary>
public static class SubmitCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, HttpMessageHandler? http)
    {
        var file = new Argument<string>("jobs-file") { Description = "JSON jobs file: an array of jobs or {\"jobs\": [...]}" };
        var client = new ClientOptions();
        var command = new Command("submit", "Submit the jobs of a file to the Spotwise server (idempotent by jobId)") { file };
        client.AddTo(command);
        command.SetAction((parse, ct) =>
        {
            var path = parse.GetValue(file)!;
            var server = parse.GetValue(client.Server);
            var key = parse.GetValue(client.ApiKey);
            // Off the caller's synchronization context: CliApp.Run waits for the result.
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
            var response = await api.SubmitAsync(jobs, ct);
            if (response.Status != HttpStatusCode.OK)
            {
                return ApiAnswers.ReportFailure(response, stderr);
            }
            var conflicts = 0;
            using var doc = JsonDocument.Parse(response.Body);
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
            return conflicts == 0 ? ExitCodes.Ok : ExitCodes.Partial;
        });
    }

    /// <summary>The file's jobs array as JSON text (sent as-is), or null with the reason.</summary>
    public static string? ReadJobsArray(string path, out string? why)
    {
        why = null;
        if (!File.Exists(path))
        {
            why = $"'{path}' does not exist";
            return null;
        }
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllText(path));
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
            return root.GetRawText();
        }
        catch (JsonException e)
        {
            why = $"'{path}' is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})";
            return null;
        }
    }
}
