using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Spotwise.Testing;

/// <summary>What a client sent the model: the wire format, model, key, the whole body, the prompt text and the schema.</summary>
public sealed record ModelRequest(string Wire, string Path, string Model, string? ApiKey, JsonElement Body, string Prompt, JsonElement? Schema);

/// <summary>One scripted answer: an HTTP status, the model's text (for 200), a delay first, or a refusal.</summary>
public sealed record ScriptedReply(int Status = 200, string? Text = null, TimeSpan Delay = default, bool Refuse = false);

/// <summary>
/// A stand-in for the model at the edge of the world: a real HTTP server on loopback speaking Gemini's
/// <c>generateContent</c> and OpenAI's chat completions wire formats. It records every request and answers from a
/// script (or a responder), wrapping the text as each API does, with token counts (four characters a token).
/// Linked into the LLM tests, the CLI tests and the bench.
/// </summary>
public sealed class ScriptedModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ScriptedReply> _script = new();
    private readonly Func<ModelRequest, ScriptedReply>? _responder;

    private ScriptedModelServer(WebApplication app, Func<ModelRequest, ScriptedReply>? responder)
    {
        _app = app;
        _responder = responder;
    }

    public ConcurrentQueue<ModelRequest> Requests { get; } = new();

    /// <summary>Scheme and host: what <c>SPOTWISE_GEMINI_ENDPOINT</c> takes.</summary>
    public Uri BaseUri { get; private set; } = null!;

    /// <summary>The base URL an OpenAI client takes (…/v1).</summary>
    public Uri OpenAIEndpoint => new(BaseUri, "/v1");

    public static async Task<ScriptedModelServer> StartAsync(Func<ModelRequest, ScriptedReply>? responder = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new ScriptedModelServer(app, responder);
        app.MapPost("/v1beta/models/{**rest}", (Delegate)server.GeminiAsync);
        app.MapPost("/v1/chat/completions", (Delegate)server.OpenAIAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUri = new Uri(address);
        return server;
    }

    public void Enqueue(params ScriptedReply[] replies)
    {
        foreach (var r in replies)
        {
            _script.Enqueue(r);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<IResult> GeminiAsync(string rest, HttpContext context)
    {
        const string Suffix = ":generateContent";
        if (!rest.EndsWith(Suffix, StringComparison.Ordinal))
        {
            return Results.NotFound();
        }
        var body = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body);
        var prompt = string.Join("\n", Texts(body, "systemInstruction").Concat(
            body.GetProperty("contents").EnumerateArray().SelectMany(c => c.GetProperty("parts").EnumerateArray()).Select(p => p.GetProperty("text").GetString()!)));
        JsonElement? schema = body.TryGetProperty("generationConfig", out var config) && config.TryGetProperty("responseSchema", out var s) ? s : null;
        var request = new ModelRequest("gemini", context.Request.Path, rest[..^Suffix.Length],
            context.Request.Headers["x-goog-api-key"].FirstOrDefault(), body, prompt, schema);
        var reply = await NextAsync(request, context.RequestAborted);
        if (reply.Status != 200)
        {
            return Results.Json(new { error = new { code = reply.Status, message = "scripted failure", status = "UNAVAILABLE" } }, statusCode: reply.Status);
        }
        if (reply.Refuse)
        {
            return Results.Json(new { promptFeedback = new { blockReason = "SAFETY" }, usageMetadata = new { promptTokenCount = Tokens(prompt) } });
        }
        var text = reply.Text ?? "";
        return Results.Json(new
        {
            candidates = new[] { new { content = new { role = "model", parts = new[] { new { text } } }, finishReason = "STOP", index = 0 } },
            usageMetadata = new { promptTokenCount = Tokens(prompt), candidatesTokenCount = Tokens(text), totalTokenCount = Tokens(prompt) + Tokens(text) },
            modelVersion = request.Model,
        });
    }

    private async Task<IResult> OpenAIAsync(HttpContext context)
    {
        var body = await JsonSerializer.DeserializeAsync<JsonElement>(context.Request.Body);
        var prompt = string.Join("\n", body.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content")).Select(c =>
            c.ValueKind == JsonValueKind.String ? c.GetString()! : string.Concat(c.EnumerateArray().Select(p => p.GetProperty("text").GetString()))));
        JsonElement? schema = body.TryGetProperty("response_format", out var format) && format.TryGetProperty("json_schema", out var js) && js.TryGetProperty("schema", out var s) ? s : null;
        var auth = context.Request.Headers.Authorization.FirstOrDefault();
        var request = new ModelRequest("openai", context.Request.Path, body.GetProperty("model").GetString()!,
            auth is not null && auth.StartsWith("Bearer ", StringComparison.Ordinal) ? auth["Bearer ".Length..] : null, body, prompt, schema);
        var reply = await NextAsync(request, context.RequestAborted);
        if (reply.Status != 200)
        {
            return Results.Json(new { error = new { message = "scripted failure", type = "server_error", code = reply.Status.ToString(System.Globalization.CultureInfo.InvariantCulture) } }, statusCode: reply.Status);
        }
        var text = reply.Refuse ? null : reply.Text ?? "";
        var message = new JsonObject { ["role"] = "assistant", ["content"] = text, ["refusal"] = reply.Refuse ? "I can't help with that." : null };
        return Results.Json(new JsonObject
        {
            ["id"] = "chatcmpl-scripted",
            ["object"] = "chat.completion",
            ["created"] = 1_700_000_000,
            ["model"] = request.Model,
            ["choices"] = new JsonArray(new JsonObject { ["index"] = 0, ["message"] = message, ["finish_reason"] = "stop" }),
            ["usage"] = new JsonObject { ["prompt_tokens"] = Tokens(prompt), ["completion_tokens"] = Tokens(text ?? ""), ["total_tokens"] = Tokens(prompt) + Tokens(text ?? "") },
        });
    }

    private async Task<ScriptedReply> NextAsync(ModelRequest request, CancellationToken aborted)
    {
        Requests.Enqueue(request);
        var reply = _responder?.Invoke(request) ?? (_script.TryDequeue(out var next) ? next : new ScriptedReply(500));
        if (reply.Delay > TimeSpan.Zero)
        {
            // A slow model: the client gives up first (its own time limit), which aborts this request.
            await Task.Delay(reply.Delay, TimeProvider.System, aborted).ContinueWith(_ => { }, TaskScheduler.Default);
        }
        return reply;
    }

    /// <summary>The ids of the jobs a prompt asks about: one JSON object a line between <c>&lt;jobs&gt;</c> and <c>&lt;/jobs&gt;</c>.</summary>
    public static IReadOnlyList<string> JobIdsIn(string prompt)
    {
        var from = prompt.IndexOf("<jobs>\n", StringComparison.Ordinal) + "<jobs>\n".Length;
        var to = prompt.LastIndexOf("</jobs>", StringComparison.Ordinal);
        return [.. prompt[from..to].Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonDocument.Parse(line).RootElement.GetProperty("id").GetString()!)];
    }

    /// <summary>
    /// The answer of a naive model: every job of the prompt on its first (cheapest) option at its earliest start,
    /// capacity, spot safety and dependencies ignored. What the bench measures the pipeline with when no key is set.
    /// </summary>
    public static string NaiveAnswer(string prompt)
    {
        var from = prompt.IndexOf("<jobs>\n", StringComparison.Ordinal) + "<jobs>\n".Length;
        var to = prompt.LastIndexOf("</jobs>", StringComparison.Ordinal);
        var schedule = new JsonArray();
        foreach (var line in prompt[from..to].Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var job = JsonDocument.Parse(line).RootElement;
            var first = job.GetProperty("options")[0];
            schedule.Add(new JsonObject
            {
                ["jobId"] = job.GetProperty("id").GetString(),
                ["market"] = first.GetProperty("market").GetString(),
                ["instanceType"] = first.GetProperty("type").GetString(),
                ["zone"] = first.GetProperty("zone").GetString(),
                ["startTime"] = job.GetProperty("earliest").GetString(),
            });
        }
        return new JsonObject { ["schedule"] = schedule }.ToJsonString();
    }

    private static IEnumerable<string> Texts(JsonElement body, string property) =>
        body.TryGetProperty(property, out var p) ? p.GetProperty("parts").EnumerateArray().Select(x => x.GetProperty("text").GetString()!) : [];

    private static int Tokens(string text) => text.Length / 4;
}
