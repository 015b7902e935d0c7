using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Spotwise.Cli;

/// <summary><c>spotwise jobs</c>: the team's jobs as a table (or the API's JSON), optionally only some states.</summary>
public static class JobsCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, HttpMessageHandler? http)
    {
        var state = new Option<string?>("--state") { Description = "Only jobs in these states, comma-separated (queued, planned, running, ...)" };
        var format = new Option<string>("--format") { Description = "Output: table or json", DefaultValueFactory = _ => "table" };
        var client = new ClientOptions();
        var command = new Command("jobs", "List the team's jobs: state, market, instance, start, cost so far") { state, format };
        client.AddTo(command);
        command.SetAction((parse, ct) =>
        {
            var s = parse.GetValue(state);
            var f = parse.GetValue(format)!;
            var server = parse.GetValue(client.Server);
            var key = parse.GetValue(client.ApiKey);
            return Task.Run(() => RunAsync(s, f, server, key, http, stdout, stderr, ct), ct);
        });
        return command;
    }

    public static async Task<int> RunAsync(
        string? state, string format, string? server, string? apiKey, HttpMessageHandler? http, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (format is not ("table" or "json"))
        {
            stderr.WriteLine($"error: --format: '{format}' is not a format; choose table or json");
            return ExitCodes.BadInput;
        }
        return await ApiAnswers.RunAsync(server, apiKey, http, stderr, async api =>
        {
            // Every page, following the API's next links: a team's list can be longer than one page.
            var pages = new List<JsonElement>();
            var response = await api.ListAsync(state, ct);
            while (true)
            {
                if (response.Status != HttpStatusCode.OK)
                {
                    return ApiAnswers.ReportFailure(response, stderr);
                }
                pages.AddRange(JsonSerializer.Deserialize<List<JsonElement>>(response.Body) ?? []);
                if (response.NextPage is not { } next)
                {
                    break;
                }
                response = await api.NextPageAsync(next, ct);
            }
            stdout.Write(format == "json"
                ? JsonSerializer.Serialize(pages) + "\n"
                : Render([.. pages.Select(p => p.Deserialize<JobRow>(JsonSerializerOptions.Web)!)]));
            return ExitCodes.Ok;
        });
    }

    /// <summary>One line per job; a start not yet taken shows the planned one, marked <c>(planned)</c>.</summary>
    public static string Render(IReadOnlyList<JobRow> jobs)
    {
        if (jobs.Count == 0)
        {
            return "no jobs\n";
        }
        string[] header = ["id", "team", "state", "market", "instance type", "zone", "start", "deadline", "cost so far"];
        var rows = jobs.Select(j => new[]
        {
            j.JobId,
            j.Team ?? "",
            j.State ?? "",
            j.Market ?? "-",
            j.InstanceType ?? "-",
            j.Zone ?? "-",
            j.StartedAt is { } s ? Time(s) : j.PlannedStart is { } p ? Time(p) + " (planned)" : "-",
            j.Deadline is { } d ? Time(d) : "-",
            "$" + j.CostSoFarUsd.ToString("0.00", CultureInfo.InvariantCulture),
        }).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        void Line(string[] cells)
        {
            for (var i = 0; i < cells.Length; i++)
            {
                // The cost column is right-aligned; the others left.
                text.Append(i == cells.Length - 1 ? cells[i].PadLeft(widths[i]) : cells[i].PadRight(widths[i]));
                text.Append(i == cells.Length - 1 ? "\n" : "  ");
            }
        }
        Line(header);
        foreach (var row in rows)
        {
            Line(row);
        }
        return text.ToString();
    }

    private static string Time(DateTimeOffset t) => t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm'Z'", CultureInfo.InvariantCulture);
}

/// <summary>The fields of the API's job view the table shows.</summary>
public sealed record JobRow(
    string JobId,
    string? Team,
    string? State,
    string? Market,
    string? InstanceType,
    string? Zone,
    DateTimeOffset? StartedAt,
    DateTimeOffset? PlannedStart,
    DateTimeOffset? Deadline,
    double CostSoFarUsd);
