using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spotwise.Core.Serialization;

namespace Spotwise.Server.Tests;

/// <summary>
/// <c>/openapi/v1.json</c> as a client generator reads it (docs/server.md#openapi): every operation named, summarised,
/// secured or anonymous by name, and declaring the 4xx its handler and the middleware in front of it answer.
/// </summary>
public sealed class OpenApiTests
{
    /// <summary>The committed copy the generated client is built from (tests/Spotwise.Server.Tests, NSwag at build time).</summary>
    public static string CommittedPath => Path.Combine(RepoPaths.Root, "docs", "openapi.json");

    /// <summary>Operations that take no key by design: probes.</summary>
    private static readonly HashSet<string> Anonymous = new(StringComparer.Ordinal) { "GetHealth" };

    /// <summary>What each handler answers beyond 401 and 429 (which every key-authenticated operation declares).</summary>
    private static readonly Dictionary<string, int[]> HandlerAnswers = new(StringComparer.Ordinal)
    {
        ["SubmitJobs"] = [400, 409, 413, 415],
        ["ListJobs"] = [400],
        ["GetJob"] = [404],
        ["CancelJob"] = [404, 409],
        ["GetLatestPlan"] = [404],
        ["PreviewPlan"] = [400, 413, 415],
        ["ListPrices"] = [400],
        ["RecordAttemptEvent"] = [400, 401, 403, 404, 413, 415],
    };

    private static async Task<JsonObject> DocumentAsync(SpotwiseServerFactory factory)
    {
        using var client = factory.CreateClient();
        return JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!.AsObject();
    }

    private static IEnumerable<(string Path, string Method, JsonObject Operation)> Operations(JsonObject document) =>
        document["paths"]!.AsObject().SelectMany(path => path.Value!.AsObject()
            .Select(method => (path.Key, method.Key, method.Value!.AsObject())));

    private static string[] Schemes(JsonObject operation) =>
        [.. (operation["security"]?.AsArray() ?? []).SelectMany(r => r!.AsObject().Select(s => s.Key))];

    private static int[] FourXx(JsonObject operation) =>
        [.. operation["responses"]!.AsObject().Select(r => int.Parse(r.Key, System.Globalization.CultureInfo.InvariantCulture)).Where(c => c is >= 400 and < 500)];

    [Fact]
    public async Task Every_operation_has_an_operationId_a_summary_and_a_security_scheme_unless_it_is_anonymous_by_name()
    {
        await using var factory = new SpotwiseServerFactory();
        var document = await DocumentAsync(factory);

        var schemes = document["components"]!["securitySchemes"]!.AsObject();
        Assert.Equal("bearer", (string?)schemes[OpenApiDocumentation.ApiKeyScheme]!["scheme"]);
        Assert.Equal("http", (string?)schemes[OpenApiDocumentation.ApiKeyScheme]!["type"]);
        Assert.Equal("bearer", (string?)schemes[OpenApiDocumentation.AttemptScheme]!["scheme"]);
        var operations = Operations(document).ToList();
        Assert.True(operations.Count >= 11, $"{operations.Count} operations");
        foreach (var (path, method, operation) in operations)
        {
            var where = $"{method.ToUpperInvariant()} {path}";
            var id = (string?)operation["operationId"];
            Assert.False(string.IsNullOrWhiteSpace(id), $"{where} has no operationId");
            Assert.False(string.IsNullOrWhiteSpace((string?)operation["summary"]), $"{where} ({id}) has no summary");
            Assert.True(Schemes(operation).Length > 0 || Anonymous.Contains(id!), $"{where} ({id}) declares no security and is not listed as anonymous");
            Assert.True(Schemes(operation).Length == 0 || !Anonymous.Contains(id!), $"{where} ({id}) is listed as anonymous but declares security");
        }
        Assert.Equal(operations.Count, operations.Select(o => (string?)o.Operation["operationId"]).Distinct().Count());
        Assert.Equal([OpenApiDocumentation.AttemptScheme], Schemes(operations.Single(o => (string?)o.Operation["operationId"] == "RecordAttemptEvent").Operation));
        Assert.Equal([OpenApiDocumentation.ApiKeyScheme], Schemes(operations.Single(o => (string?)o.Operation["operationId"] == "SubmitJobs").Operation));
    }

    [Fact]
    public async Task Every_operation_declares_the_4xx_its_handler_and_the_middleware_answer()
    {
        await using var factory = new SpotwiseServerFactory();
        var document = await DocumentAsync(factory);

        foreach (var (path, method, operation) in Operations(document))
        {
            var id = (string)operation["operationId"]!;
            var declared = FourXx(operation);
            var expected = new HashSet<int>(HandlerAnswers.GetValueOrDefault(id, []));
            if (Schemes(operation).Contains(OpenApiDocumentation.ApiKeyScheme))
            {
                expected.UnionWith([401, 429]);
            }
            if (operation["requestBody"] is not null)
            {
                // A body is read with a limit and refused when it is not JSON (BodyLimits, JobInput).
                expected.UnionWith([413, 415]);
            }
            var missing = expected.Except(declared).Order().ToList();
            Assert.True(missing.Count == 0, $"{method.ToUpperInvariant()} {path} ({id}) does not declare {string.Join(", ", missing)}");
            foreach (var code in declared)
            {
                var content = operation["responses"]![code.ToString(System.Globalization.CultureInfo.InvariantCulture)]!["content"]?.AsObject();
                // Every 4xx body is problem details (an empty 404 before the first plan has none).
                Assert.True(content is null || content.Any(c => c.Value!["schema"] is not null), $"{id} {code} has content without a schema");
            }
        }
    }

    [Fact]
    public async Task Every_operation_that_needs_a_key_or_a_secret_answers_401_without_one_as_it_declares()
    {
        await using var factory = new SpotwiseServerFactory();
        var document = await DocumentAsync(factory);
        using var client = factory.CreateClient();

        foreach (var (path, method, operation) in Operations(document).Where(o => Schemes(o.Operation).Length > 0))
        {
            var url = path.Replace("{id}", "job-1", StringComparison.Ordinal).Replace("{token}", "team-a%2Fjob-1%231", StringComparison.Ordinal);
            using var request = new HttpRequestMessage(new HttpMethod(method.ToUpperInvariant()), url);
            if (operation["requestBody"] is not null)
            {
                request.Content = new StringContent("{}", Encoding.UTF8, "application/json");
            }
            using var response = await client.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path}: {(int)response.StatusCode}");
            Assert.Contains(401, FourXx(operation));
        }
    }

    [Fact]
    public async Task The_job_schema_has_every_field_the_intake_reads_and_only_those()
    {
        await using var factory = new SpotwiseServerFactory();
        var document = await DocumentAsync(factory);

        var schemas = document["components"]!["schemas"]!;
        var job = schemas[nameof(JobSpec)]!;
        Assert.Equal(JobsFile.JobFields.Order(StringComparer.Ordinal), job["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        Assert.Equal(["estimatedDurationHours", "jobId"], job["required"]!.AsArray().Select(r => (string)r!).Order(StringComparer.Ordinal));
        // A nullable object property is a reference inside a oneOf with null, or the schema itself.
        var property = job["properties"]!["resourceRequirements"]!;
        var reference = property.ToJsonString().Split("#/components/schemas/").Skip(1).Select(s => s[..s.IndexOf('"', StringComparison.Ordinal)]).FirstOrDefault();
        var resources = reference is null ? property : schemas[reference]!;
        Assert.Equal(JobsFile.ResourceFields.Order(StringComparer.Ordinal), resources["properties"]!.AsObject().Select(p => p.Key).Order(StringComparer.Ordinal));
        var submit = document["paths"]!["/api/jobs"]!["post"]!;
        // One job, an array of jobs, or {"jobs": [...]}: the first is the job itself, so a generated client writes one job.
        var body = submit["requestBody"]!["content"]!["application/json"]!["schema"]!["oneOf"]!.AsArray();
        Assert.Equal(3, body.Count);
        Assert.Equal("#/components/schemas/JobSpec", (string?)body[0]!["$ref"]);
        Assert.Equal("#/components/schemas/JobSpec", (string?)document["paths"]!["/api/plan/preview"]!["post"]!["requestBody"]!["content"]!["application/json"]!["schema"]!["oneOf"]![0]!["$ref"]);
        // One job sent again is the stored job; a batch is each job's outcome.
        Assert.Equal(2, submit["responses"]!["200"]!["content"]!["application/json"]!["schema"]!["oneOf"]!.AsArray().Count);
    }

    /// <summary>
    /// The committed document (what the generated client is built from, and what users read) is the one the server
    /// serves. After an API change, refresh it with <c>SPOTWISE_UPDATE_OPENAPI=1 dotnet test tests/Spotwise.Server.Tests
    /// --filter FullyQualifiedName~OpenApiTests</c>.
    /// </summary>
    [Fact]
    public async Task The_committed_document_is_the_one_the_server_serves()
    {
        await using var factory = new SpotwiseServerFactory();
        var served = await DocumentAsync(factory);
        // Where the server listens is the deployment's, not the API's.
        served.Remove("servers");
        var text = served.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }) + "\n";

        if (Environment.GetEnvironmentVariable("SPOTWISE_UPDATE_OPENAPI") == "1")
        {
            await File.WriteAllTextAsync(CommittedPath, text);
        }
        Assert.True(File.Exists(CommittedPath), $"{CommittedPath} is missing; write it with SPOTWISE_UPDATE_OPENAPI=1 (this test's remarks)");
        var committed = JsonNode.Parse(await File.ReadAllTextAsync(CommittedPath));
        Assert.True(JsonNode.DeepEquals(committed, served),
            "docs/openapi.json differs from the served /openapi/v1.json; refresh it with SPOTWISE_UPDATE_OPENAPI=1 dotnet test tests/Spotwise.Server.Tests --filter FullyQualifiedName~OpenApiTests");
    }
}
