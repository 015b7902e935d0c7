using System.CommandLine;
using System.Net;

namespace Spotwise.Cli;

/// <summary><c>spotwise cancel JOB</c>: cancels one of the team's jobs; the server terminates its instance, if any.</summary>
public static class CancelCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, HttpMessageHandler? http)
    {
        var id = new Argument<string>("job-id") { Description = "The job to cancel" };
        var client = new ClientOptions();
        var command = new Command("cancel", "Cancel a job") { id };
        client.AddTo(command);
        command.SetAction((parse, ct) =>
        {
            var jobId = parse.GetValue(id)!;
            var server = parse.GetValue(client.Server);
            var key = parse.GetValue(client.ApiKey);
            return Task.Run(() => RunAsync(jobId, server, key, http, stdout, stderr, ct), ct);
        });
        return command;
    }

    public static Task<int> RunAsync(
        string jobId, string? server, string? apiKey, HttpMessageHandler? http, TextWriter stdout, TextWriter stderr, CancellationToken ct) =>
        ApiAnswers.RunAsync(server, apiKey, http, stderr, async api =>
        {
            var response = await api.CancelAsync(jobId, ct);
            if (response.IsSuccess)
            {
                stdout.WriteLine($"{jobId} cancelled");
                return ExitCodes.Ok;
            }
            if (response.Status is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
            {
                stderr.WriteLine($"error: {ApiAnswers.Detail(response.Body) ?? $"job '{jobId}' could not be cancelled ({(int)response.Status})"}");
                return ExitCodes.Partial;
            }
            return ApiAnswers.ReportFailure(response, stderr);
        });
}
