using System.Globalization;
using Amazon.Runtime;
using Spotwise.Compute.Aws;
using Spotwise.Compute.Aws.Prices;
using Spotwise.Core;

namespace Spotwise.Server;

/// <summary>
/// Live EC2 prices for a service that runs on EC2 (<c>Spotwise:Backend</c> = <c>aws</c>), set in the <c>Spotwise:Aws</c>
/// section: <c>Region</c> (default: the catalog's), <c>PriceTypes</c> (a comma list; default: every catalog type) and
/// <c>PriceTtl</c> (a time span, default 00:05:00). Endpoint and credentials are the AWS SDK's own (its default chain,
/// <c>AWS_ENDPOINT_URL_EC2</c>, <c>AWS_ENDPOINT_URL</c>).
/// </summary>
public static class AwsPrices
{
    public const string Section = "Spotwise:Aws";

    public static bool Wanted(IConfiguration configuration) =>
        string.Equals(configuration[$"{SpotwiseOptions.Section}:Backend"], AwsComputeRegistration.Name, StringComparison.Ordinal);

    /// <summary>
    /// The feed's options from the section; a bad value throws naming its key. <c>ServiceUrl</c> is the section's endpoint
    /// override, as for the backend; <paramref name="credentials"/> null is the SDK's chain (a test registers its own).
    /// </summary>
    public static AwsPriceFeedOptions Options(IConfiguration configuration, Catalog catalog, AWSCredentials? credentials = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(catalog);
        var section = configuration.GetSection(Section);
        return new AwsPriceFeedOptions
        {
            Region = section["Region"] is { Length: > 0 } region ? region : catalog.Region,
            Catalog = catalog,
            InstanceTypes = Types(section["PriceTypes"], catalog),
            Ttl = Ttl(section["PriceTtl"]),
            ServiceUrl = section["ServiceUrl"] is { Length: > 0 } url ? new Uri(url) : null,
            Credentials = credentials,
        };
    }

    private static string[]? Types(string? text, Catalog catalog)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }
        var types = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var unknown = types.Where(t => catalog.Find(t) is null).ToList();
        return unknown.Count == 0
            ? types
            : throw new InvalidOperationException($"{Section}:PriceTypes names {string.Join(", ", unknown.Select(t => $"'{t}'"))}, not in the catalog");
    }

    private static TimeSpan Ttl(string? text) =>
        text is null ? AwsPriceFeedOptions.DefaultTtl
        : TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var ttl) && ttl > TimeSpan.Zero ? ttl
        : throw new InvalidOperationException($"{Section}:PriceTtl is '{text}'; give a time span greater than zero, such as 00:05:00");
}
