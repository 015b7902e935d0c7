using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.AI;

namespace Spotwise.Planning.Llm;

/// <summary>
/// An <see cref="IChatClient"/> over Gemini's REST API: <c>POST {endpoint}/v1beta/models/{model}:generateContent</c>
/// with the key in the <c>x-goog-api-key</c> header. A JSON response format becomes
/// <c>generationConfig.responseMimeType = application/json</c> and a <c>responseSchema</c> in Gemini's OpenAPI
/// subset; token counts come from <c>usageMetadata</c>. A non-success status throws
/// <see cref="HttpRequestException"/> with the status, for the retry decorator to judge.
/// </summary>
public sealed class GeminiChatClient(HttpClient http, Uri endpoint, string apiKey, string model) : IChatClient
{
    private readonly ChatClientMetadata _metadata = new("gemini", endpoint, model);

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var modelId = options?.ModelId ?? model;
        using var request = new HttpRequestMessage(HttpMethod.Post, GenerateContentUri(endpoint, modelId))
        {
            // Buffered, with a Content-Length: some proxies refuse a chunked body.
            Content = new StringContent(RequestBody(messages, options).ToJsonString(), Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("x-goog-api-key", apiKey);
        using var response = await http.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"Gemini answered {(int)response.StatusCode} {response.StatusCode}: {Trim(body)}", null, response.StatusCode);
        }
        return ReadResponse(body, modelId);
    }

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        // The planner needs the whole answer before it can check it; streaming is one answer in one update.
        var response = await GetResponseAsync(messages, options, cancellationToken);
        foreach (var update in response.ToChatResponseUpdates())
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) =>
        serviceKey is not null ? null
        : serviceType == typeof(ChatClientMetadata) ? _metadata
        : serviceType.IsInstanceOfType(this) ? this
        : null;

    public void Dispose()
    {
        // The HttpClient belongs to whoever made it.
    }

    /// <summary><c>{scheme://host[/prefix]}/v1beta/models/{model}:generateContent</c>.</summary>
    public static Uri GenerateContentUri(Uri endpoint, string model) =>
        new($"{endpoint.GetLeftPart(UriPartial.Path).TrimEnd('/')}/v1beta/models/{Uri.EscapeDataString(model)}:generateContent");

    private static JsonObject RequestBody(IEnumerable<ChatMessage> messages, ChatOptions? options)
    {
        var list = messages.ToList();
        var body = new JsonObject
        {
            ["contents"] = new JsonArray([.. list.Where(m => m.Role != ChatRole.System).Select(m => (JsonNode)new JsonObject
            {
                ["role"] = m.Role == ChatRole.Assistant ? "model" : "user",
                ["parts"] = new JsonArray(new JsonObject { ["text"] = m.Text }),
            })]),
        };
        var system = string.Join("\n\n", list.Where(m => m.Role == ChatRole.System).Select(m => m.Text));
        if (system.Length > 0)
        {
            body["systemInstruction"] = new JsonObject { ["parts"] = new JsonArray(new JsonObject { ["text"] = system }) };
        }
        var config = new JsonObject();
        if (options?.Temperature is { } temperature)
        {
            config["temperature"] = temperature;
        }
        if (options?.MaxOutputTokens is { } maxTokens)
        {
            config["maxOutputTokens"] = maxTokens;
        }
        if (options?.ResponseFormat is ChatResponseFormatJson json)
        {
            config["responseMimeType"] = "application/json";
            if (json.Schema is { } schema)
            {
                config["responseSchema"] = GeminiSchema.From(schema);
            }
        }
        body["generationConfig"] = config;
        return body;
    }

    /// <summary>
    /// The first candidate's text. No candidate, a blocked prompt or a safety stop is a refusal: an answer with no
    /// text and the content-filter finish reason.
    /// </summary>
    private static ChatResponse ReadResponse(string body, string modelId)
    {
        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        var text = "";
        ChatFinishReason? finish = ChatFinishReason.ContentFilter;
        if (root.TryGetProperty("candidates", out var candidates) && candidates.ValueKind == JsonValueKind.Array && candidates.GetArrayLength() > 0)
        {
            var first = candidates[0];
            var reason = first.TryGetProperty("finishReason", out var r) ? r.GetString() : null;
            finish = reason switch
            {
                "STOP" or null => ChatFinishReason.Stop,
                "MAX_TOKENS" => ChatFinishReason.Length,
                _ => ChatFinishReason.ContentFilter,
            };
            if (first.TryGetProperty("content", out var content) && content.TryGetProperty("parts", out var parts) && parts.ValueKind == JsonValueKind.Array)
            {
                // Thinking models may return their thoughts as parts marked "thought": they are not the answer.
                text = string.Concat(parts.EnumerateArray()
                    .Where(p => !(p.TryGetProperty("thought", out var t) && t.ValueKind == JsonValueKind.True))
                    .Select(p => p.TryGetProperty("text", out var t) ? t.GetString() : null));
            }
        }
        return new ChatResponse(new ChatMessage(ChatRole.Assistant, text))
        {
            ModelId = root.TryGetProperty("modelVersion", out var version) ? version.GetString() : modelId,
            FinishReason = finish,
            Usage = Usage(root),
        };
    }

    private static UsageDetails? Usage(JsonElement root)
    {
        if (!root.TryGetProperty("usageMetadata", out var usage))
        {
            return null;
        }
        long Count(string name) => usage.TryGetProperty(name, out var v) && v.TryGetInt64(out var n) ? n : 0;
        return new UsageDetails
        {
            InputTokenCount = Count("promptTokenCount"),
            // Thinking tokens are billed as output.
            OutputTokenCount = Count("candidatesTokenCount") + Count("thoughtsTokenCount"),
            TotalTokenCount = Count("totalTokenCount"),
        };
    }

    private static string Trim(string body) => body.Length <= 300 ? body : body[..300] + "…";
}

/// <summary>
/// JSON Schema to Gemini's <c>responseSchema</c>, an OpenAPI 3 subset: keeps type, format, description, enum,
/// properties, required, items, nullable and the array bounds; drops what Gemini refuses (additionalProperties,
/// $schema, title). Property order is stated so the model writes fields in the order the schema lists them.
/// </summary>
public static class GeminiSchema
{
    private static readonly HashSet<string> Kept =
        ["type", "format", "description", "enum", "properties", "required", "items", "nullable", "minItems", "maxItems"];

    public static JsonNode From(JsonElement schema)
    {
        var result = new JsonObject();
        foreach (var property in schema.EnumerateObject().Where(p => Kept.Contains(p.Name)))
        {
            result[property.Name] = property.Name switch
            {
                "properties" => new JsonObject(property.Value.EnumerateObject()
                    .Select(p => KeyValuePair.Create(p.Name, (JsonNode?)From(p.Value)))),
                "items" => From(property.Value),
                _ => JsonNode.Parse(property.Value.GetRawText()),
            };
        }
        if (schema.TryGetProperty("properties", out var properties))
        {
            result["propertyOrdering"] = new JsonArray([.. properties.EnumerateObject().Select(p => (JsonNode)JsonValue.Create(p.Name))]);
        }
        return result;
    }
}
