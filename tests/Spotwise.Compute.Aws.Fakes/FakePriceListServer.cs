using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// A loopback AWS Price List Query API speaking its JSON 1.1 protocol: <c>POST /</c> with
/// <c>X-Amz-Target: AWSPriceListService.GetProducts</c> and <c>Content-Type: application/x-amz-json-1.1</c>, TERM_MATCH
/// filters on product attributes, <c>MaxResults</c> (1-100) and <c>NextToken</c>, each PriceList item a product document
/// as a JSON string, errors as <c>{"__type", "message"}</c>
/// (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html). It refuses a
/// request that is not SigV4-signed in shape (Authorization header, X-Amz-Date), as AWS would.
/// </summary>
public sealed partial class FakePriceListServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly List<JsonObject> _products = [];
    private readonly Lock _lock = new();

    private FakePriceListServer(WebApplication app) => _app = app;

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>Every request's Authorization header, in order.</summary>
    public ConcurrentQueue<string> Authorizations { get; } = new();

    public static async Task<FakePriceListServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakePriceListServer(app);
        app.MapPost("/", (Delegate)server.HandleAsync);
        await app.StartAsync();
        server.BaseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    /// <summary>An EC2 product as the API lists it, with an OnDemand hourly price; <paramref name="attributes"/> override the defaults (Linux, Shared, NA, Used).</summary>
    public void AddProduct(string region, string instanceType, int vcpus, string memory, int gpus, double onDemandUsd, params (string Name, string Value)[] attributes)
    {
        var sku = $"SKU{_products.Count:D6}";
        var attrs = new JsonObject
        {
            ["instanceType"] = instanceType,
            ["regionCode"] = region,
            ["vcpu"] = vcpus.ToString(CultureInfo.InvariantCulture),
            ["memory"] = memory,
            ["operatingSystem"] = "Linux",
            ["tenancy"] = "Shared",
            ["preInstalledSw"] = "NA",
            ["capacitystatus"] = "Used",
        };
        if (gpus > 0)
        {
            attrs["gpu"] = gpus.ToString(CultureInfo.InvariantCulture);
        }
        foreach (var (name, value) in attributes)
        {
            attrs[name] = value;
        }
        var product = new JsonObject
        {
            ["product"] = new JsonObject { ["productFamily"] = "Compute Instance", ["attributes"] = attrs, ["sku"] = sku },
            ["serviceCode"] = "AmazonEC2",
            ["terms"] = new JsonObject
            {
                ["OnDemand"] = new JsonObject
                {
                    [$"{sku}.JRTCKXETXF"] = new JsonObject
                    {
                        ["priceDimensions"] = new JsonObject
                        {
                            [$"{sku}.JRTCKXETXF.6YS6EN2CT7"] = new JsonObject
                            {
                                ["unit"] = "Hrs",
                                ["pricePerUnit"] = new JsonObject { ["USD"] = onDemandUsd.ToString("0.0000000000", CultureInfo.InvariantCulture) },
                            },
                        },
                    },
                },
            },
            ["version"] = "20261201000000",
        };
        lock (_lock)
        {
            _products.Add(product);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        Authorizations.Enqueue(authorization);
        if (!SignedShape().IsMatch(authorization) || !AmzDate().IsMatch(context.Request.Headers["X-Amz-Date"].ToString())
            || !authorization.Contains($"/{context.Request.Headers["X-Amz-Date"].ToString()[..8]}/us-east-1/pricing/aws4_request", StringComparison.Ordinal))
        {
            return Error(403, "IncompleteSignatureException", "Authorization header requires a SigV4 signature with an X-Amz-Date for pricing in us-east-1.");
        }
        if (context.Request.Headers["X-Amz-Target"] != "AWSPriceListService.GetProducts" || context.Request.ContentType != "application/x-amz-json-1.1")
        {
            return Error(400, "UnknownOperationException", "expected X-Amz-Target AWSPriceListService.GetProducts, Content-Type application/x-amz-json-1.1");
        }
        var body = await JsonNode.ParseAsync(context.Request.Body) as JsonObject;
        if (body?["ServiceCode"]?.GetValue<string>() != "AmazonEC2")
        {
            return Error(400, "InvalidParameterException", "this fake lists ServiceCode AmazonEC2 only");
        }
        var filters = (body["Filters"]?.AsArray() ?? []).Select(f => (Field: f!["Field"]!.GetValue<string>(), Value: f["Value"]!.GetValue<string>())).ToList();
        var maxResults = body["MaxResults"]?.GetValue<int>() ?? 100;
        if (maxResults is < 1 or > 100)
        {
            return Error(400, "InvalidParameterException", $"MaxResults {maxResults} must be between 1 and 100");
        }
        var start = body["NextToken"]?.GetValue<string>() is { } token ? int.Parse(token, CultureInfo.InvariantCulture) : 0;
        List<string> matching;
        lock (_lock)
        {
            matching = [.. _products.Where(p => filters.All(f => p["product"]!["attributes"]![f.Field]?.GetValue<string>() == f.Value)).Select(p => p.ToJsonString())];
        }
        var page = matching.Skip(start).Take(maxResults).ToList();
        var answer = new JsonObject { ["FormatVersion"] = "aws_v1", ["PriceList"] = new JsonArray([.. page.Select(p => (JsonNode)JsonValue.Create(p))]) };
        if (start + page.Count < matching.Count)
        {
            answer["NextToken"] = (start + page.Count).ToString(CultureInfo.InvariantCulture);
        }
        return Results.Text(answer.ToJsonString(), "application/x-amz-json-1.1");
    }

    private static IResult Error(int status, string code, string message) =>
        Results.Text(JsonSerializer.Serialize(new Dictionary<string, string> { ["__type"] = code, ["message"] = message }), "application/x-amz-json-1.1", statusCode: status);

    [GeneratedRegex(@"^AWS4-HMAC-SHA256 Credential=[^/\s]+/\d{8}/[a-z0-9-]+/[a-z]+/aws4_request, SignedHeaders=[a-z0-9;-]*host[a-z0-9;-]*x-amz-date[a-z0-9;-]*, Signature=[0-9a-f]{64}$")]
    private static partial Regex SignedShape();

    [GeneratedRegex(@"^\d{8}T\d{6}Z$")]
    private static partial Regex AmzDate();
}
