using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Spotwise.Cli;

/// <summary>Where the API is and the key to use, as the user gave them (flags, then the environment).</summary>
public sealed record ApiConnection(Uri Server, string ApiKey)
{
    public const string DefaultServer = "http://127.0.0.1:5080";
    public const string KeyVariable = "SPOTWISE_API_KEY";

    /// <summary>Null (and one line on stderr) when the URL is bad or no key is given.</summary>
    public static ApiConnection? From(string? server, string? apiKey, TextWriter stderr)
    {
        var ok = true;
        server ??= DefaultServer;
        if (!Uri.TryCreate(server, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            stderr.WriteLine($"error: --server: '{server}' is not an http(s) URL");
            ok = false;
        }
        var key = string.IsNullOrWhiteSpace(apiKey) ? Environment.GetEnvironmentVariable(KeyVariable) : apiKey;
        if (string.IsNullOrWhiteSpace(key))
        {
            stderr.WriteLine($"error: no API key: set {KeyVariable} or pass --api-key");
            ok = false;
        }
        return ok ? new ApiConnection(uri!, key!.Trim()) : null;
    }
}

/// <summary>
/// One answer from the API: the status, the body text (empty when there was none), and the RFC 8288
/// <c>rel="next"</c> link of a paged list, if any (a path and query on the same server).
/// </summary>
public sealed record ApiResponse(HttpStatusCode Status, string Body, string? NextPage = null)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;
}

/// <summary>
/// The jobs API over HTTP with a bearer key; the one place the CLI talks to the server. Tests pass the handler of an
/// in-process server; the real program uses a plain <see cref="HttpClient"/>. A server that cannot be reached is
/// <see cref="ServerUnreachableException"/>.
/// </summary>
public sealed class ApiClient : IDisposable
{
    private readonly HttpClient _http;

    public ApiClient(ApiConnection connection, HttpMessageHandler? handler = null)
    {
        Server = connection.Server;
        _http = handler is null ? new HttpClient() : new HttpClient(handler, disposeHandler: false);
        _http.BaseAddress = connection.Server;
        _http.Timeout = TimeSpan.FromSeconds(100);
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", connection.ApiKey);
    }

    public Uri Server { get; }

    public Task<ApiResponse> SubmitAsync(string jobsArrayJson, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, "api/jobs") { Content = new StringContent(jobsArrayJson, Encoding.UTF8, "application/json") }, ct);

    public Task<ApiResponse> ListAsync(string? state, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, state is null ? "api/jobs" : $"api/jobs?state={Uri.EscapeDataString(state)}"), ct);

    /// <summary>The next page of a list, from a previous answer's <see cref="ApiResponse.NextPage"/>.</summary>
    public Task<ApiResponse> NextPageAsync(string nextPage, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Get, nextPage.TrimStart('/')), ct);

    public Task<ApiResponse> CancelAsync(string jobId, CancellationToken ct) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Delete, $"api/jobs/{Uri.EscapeDataString(jobId)}"), ct);

    private async Task<ApiResponse> SendAsync(HttpRequestMessage request, CancellationToken ct)
    {
        using (request)
        {
            try
            {
                using var response = await _http.SendAsync(request, ct);
                return new ApiResponse(response.StatusCode, await response.Content.ReadAsStringAsync(ct), NextLink(response));
            }
            catch (HttpRequestException e)
            {
                throw new ServerUnreachableException(Server, e.Message, e);
            }
            catch (TaskCanceledException e) when (!ct.IsCancellationRequested)
            {
                throw new ServerUnreachableException(Server, $"no answer within {_http.Timeout.TotalSeconds:0} s", e);
            }
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>The target of a <c>Link: &lt;...&gt;; rel="next"</c> header (the only link the API sends).</summary>
    private static string? NextLink(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Link", out var links)
            ? links.Where(l => l.Contains("rel=\"next\"", StringComparison.Ordinal))
                .Select(l => l[(l.IndexOf('<', StringComparison.Ordinal) + 1)..l.IndexOf('>', StringComparison.Ordinal)])
                .FirstOrDefault()
            : null;
}

public sealed class ServerUnreachableException(Uri server, string why, Exception inner)
    : Exception($"cannot reach the Spotwise server at {server}: {why}", inner)
{
    public Uri Server { get; } = server;
}

/// <summary>Turns the API's answers into lines and exit codes, the same way for every client command.</summary>
public static class ApiAnswers
{
    /// <summary>The server could not be reached (exit code of submit, jobs and cancel).</summary>
    public const int Unreachable = 3;

    /// <summary>Runs one client command: checks the connection flags, then maps what every command shares.</summary>
    public static async Task<int> RunAsync(
        string? server, string? apiKey, HttpMessageHandler? handler, TextWriter stderr, Func<ApiClient, Task<int>> body)
    {
        var connection = ApiConnection.From(server, apiKey, stderr);
        if (connection is null)
        {
            return ExitCodes.BadInput;
        }
        using var client = new ApiClient(connection, handler);
        try
        {
            return await body(client);
        }
        catch (ServerUnreachableException e)
        {
            stderr.WriteLine($"error: {e.Message}");
            return Unreachable;
        }
    }

    /// <summary>
    /// Reports an answer the command does not handle itself: 400 (one line per field), 401, and anything else. Returns the
    /// exit code: 2 for bad input or a refused key, 1 otherwise.
    /// </summary>
    /// <param name="response">The answer.</param>
    /// <param name="stderr">Where the lines go.</param>
    /// <param name="indexOffset">Added to <c>jobs[i]</c> in error fields: the batch's first index in the file.</param>
    public static int ReportFailure(ApiResponse response, TextWriter stderr, int indexOffset = 0)
    {
        switch (response.Status)
        {
            case HttpStatusCode.BadRequest:
                var errors = ValidationErrors(response.Body);
                if (errors.Count == 0)
                {
                    stderr.WriteLine($"error: the server refused the request: {Detail(response.Body) ?? "400 Bad Request"}");
                }
                foreach (var (field, message) in errors)
                {
                    stderr.WriteLine($"error: {Shift(field, indexOffset)}: {message}");
                }
                return ExitCodes.BadInput;
            case HttpStatusCode.Unauthorized:
                stderr.WriteLine($"error: the API key was refused (401); check {ApiConnection.KeyVariable} or --api-key");
                return ExitCodes.BadInput;
            case HttpStatusCode.RequestEntityTooLarge:
                stderr.WriteLine($"error: {Detail(response.Body) ?? "the request is too large"}");
                return ExitCodes.BadInput;
            case HttpStatusCode.TooManyRequests:
                stderr.WriteLine("error: too many requests for this key (429); try again in a minute");
                return ExitCodes.Partial;
            default:
                stderr.WriteLine($"error: the server answered {(int)response.Status} {response.Status}{(Detail(response.Body) is { } d ? ": " + d : "")}");
                return ExitCodes.Partial;
        }
    }

    private static string Shift(string field, int offset) =>
        offset == 0 ? field : System.Text.RegularExpressions.Regex.Replace(field, @"^jobs\[(\d+)\]",
            m => $"jobs[{int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) + offset}]",
            System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromSeconds(1));

    /// <summary>ProblemDetails' <c>detail</c>, else its <c>title</c>; null when the body is not a problem document.</summary>
    public static string? Detail(string body)
    {
        var root = TryParse(body);
        if (root is not { ValueKind: JsonValueKind.Object } r)
        {
            return null;
        }
        foreach (var name in new[] { "detail", "title" })
        {
            if (r.TryGetProperty(name, out var p) && p.ValueKind == JsonValueKind.String)
            {
                return p.GetString();
            }
        }
        return null;
    }

    /// <summary>The <c>errors</c> of a validation ProblemDetails as (field, message), in the server's order.</summary>
    public static IReadOnlyList<(string Field, string Message)> ValidationErrors(string body)
    {
        var list = new List<(string, string)>();
        if (TryParse(body) is { ValueKind: JsonValueKind.Object } root
            && root.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object)
        {
            foreach (var field in errors.EnumerateObject())
            {
                if (field.Value.ValueKind != JsonValueKind.Array)
                {
                    continue;
                }
                foreach (var message in field.Value.EnumerateArray())
                {
                    list.Add((field.Name, message.ToString()));
                }
            }
        }
        return list;
    }

    private static JsonElement? TryParse(string body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
