using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.Runtime;

namespace Spotwise.Compute.Aws.Pricing;

/// <summary>
/// The AWS Price List Query API's GetProducts (https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_pricing_GetProducts.html)
/// over HttpClient, signed with SigV4: the JSON 1.1 protocol (<c>X-Amz-Target: AWSPriceListService.GetProducts</c>,
/// <c>Content-Type: application/x-amz-json-1.1</c>), TERM_MATCH filters, paged with NextToken. Each PriceList item is a
/// product as a JSON string. An error answer becomes an <see cref="AmazonServiceException"/> with AWS's code and message.
/// </summary>
public sealed class PriceListClient(HttpClient http, Uri endpoint, Func<SigningCredentials> credentials, TimeProvider time)
{
    /// <summary>The Price List API lives in us-east-1 (also ap-south-1, eu-central-1) whatever region it prices.</summary>
    public static readonly Uri DefaultEndpoint = new("https://api.pricing.us-east-1.amazonaws.com/");

    public const string SigningRegion = "us-east-1";
    public const string SigningService = "pricing";
    public const string Target = "AWSPriceListService.GetProducts";
    public const string ContentType = "application/x-amz-json-1.1";

    /// <summary>The page size asked (the API's largest).</summary>
    public const int PageSize = 100;

    /// <summary>Every product of <paramref name="serviceCode"/> matching all <paramref name="filters"/> (TERM_MATCH), across pages.</summary>
    public async Task<List<string>> GetProductsAsync(string serviceCode, IReadOnlyList<(string Field, string Value)> filters, CancellationToken cancellationToken)
    {
        var products = new List<string>();
        string? next = null;
        do
        {
            var page = await PageAsync(serviceCode, filters, next, cancellationToken).ConfigureAwait(false);
            products.AddRange((page["PriceList"]?.AsArray() ?? []).Select(p => p?.GetValue<string>()).OfType<string>());
            next = page["NextToken"]?.GetValue<string>();
        }
        while (!string.IsNullOrEmpty(next));
        return products;
    }

    private async Task<JsonObject> PageAsync(string serviceCode, IReadOnlyList<(string Field, string Value)> filters, string? next, CancellationToken cancellationToken)
    {
        var body = new JsonObject
        {
            ["ServiceCode"] = serviceCode,
            ["Filters"] = new JsonArray([.. filters.Select(f => new JsonObject { ["Type"] = "TERM_MATCH", ["Field"] = f.Field, ["Value"] = f.Value })]),
            ["FormatVersion"] = "aws_v1",
            ["MaxResults"] = PageSize,
        };
        if (next is not null)
        {
            body["NextToken"] = next;
        }
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        using var request = new HttpRequestMessage(HttpMethod.Post, endpoint) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.TryAddWithoutValidation("Content-Type", ContentType);
        request.Headers.TryAddWithoutValidation("X-Amz-Target", Target);
        SigV4Signer.Sign(request, bytes, SigningRegion, SigningService, credentials(), time.GetUtcNow());
        using var response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode
            ? JsonNode.Parse(text)?.AsObject() ?? throw new InvalidDataException("the Price List API answered an empty body")
            : throw Error(response.StatusCode, text);
    }

    /// <summary>A JSON 1.1 error: <c>{"__type": "...#Code", "message": "..."}</c> (some services write <c>Message</c>).</summary>
    private static AmazonServiceException Error(HttpStatusCode status, string text)
    {
        JsonObject? error = null;
        try
        {
            error = JsonNode.Parse(text) as JsonObject;
        }
        catch (JsonException)
        {
            // Not JSON (a proxy's page): the status says enough.
        }
        var code = (error?["__type"]?.GetValue<string>() ?? status.ToString()).Split('#')[^1];
        var message = error?["message"]?.GetValue<string>() ?? error?["Message"]?.GetValue<string>() ?? text;
        return new AmazonServiceException($"Price List API: {message}") { ErrorCode = code, StatusCode = status };
    }
}
