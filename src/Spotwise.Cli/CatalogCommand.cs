using System.CommandLine;
using Amazon.Runtime;
using Amazon.Runtime.Credentials;
using Spotwise.Compute.Aws;
using Spotwise.Compute.Aws.Pricing;
using Spotwise.Core;

namespace Spotwise.Cli;

/// <summary>
/// <c>spotwise catalog refresh</c>: a catalog CSV per region from AWS itself — on-demand prices and shapes from the
/// Price List API, spot from EC2 now (median of the zones), interruption bands from the shipped catalog (band 4 where it
/// does not know the type). The SDK's default credential chain signs every call; the Price List endpoint can be moved
/// with <c>AWS_ENDPOINT_URL_PRICING</c> or <c>AWS_ENDPOINT_URL</c>, EC2's with <c>AWS_ENDPOINT_URL_EC2</c>.
/// </summary>
public static class CatalogCommand
{
    public static Command Create(TextWriter stdout, TextWriter stderr, TimeProvider time)
    {
        var regions = new Option<string[]>("--region") { Description = "An AWS region to price (repeat for several)", Required = true, AllowMultipleArgumentsPerToken = false };
        var output = new Option<string>("--out")
        {
            Description = "The CSV to write (shipped format); with several regions, one file each, named <out>-<region>.csv",
            Required = true,
        };
        var refresh = new Command("refresh", "Write a catalog CSV from the AWS Price List API (on-demand) and EC2 (spot now)") { regions, output };
        refresh.SetAction((parse, ct) => RefreshAsync(parse.GetValue(regions)!, parse.GetValue(output)!, stdout, stderr, time, ct));
        return new Command("catalog", "Price catalogs: refresh one from AWS") { refresh };
    }

    public static async Task<int> RefreshAsync(IReadOnlyList<string> regions, string output, TextWriter stdout, TextWriter stderr, TimeProvider time, CancellationToken ct)
    {
        var errors = new List<string>();
        var shipped = Inputs.LoadCatalog(null);
        errors.AddRange(shipped.Errors.Select(e => e.ToString()));
        errors.AddRange(regions.Where(r => Amazon.RegionEndpoint.GetBySystemName(r).DisplayName == "Unknown").Select(r => $"--region: '{r}' is not an AWS region"));
        if (errors.Count > 0)
        {
            return AwsErrors.Refuse(errors, stderr);
        }
        try
        {
            var credentials = DefaultAWSCredentialsIdentityResolver.GetCredentials(null);
            using var http = new HttpClient();
            var prices = new PriceListClient(http, PriceListEndpoint(), () => Signing(credentials.GetCredentials()), time);
            foreach (var region in regions.Distinct(StringComparer.Ordinal))
            {
                using var ec2 = Ec2Clients.Create(region, credentials: credentials);
                var catalog = await CatalogRefresh.BuildAsync(region, prices, ec2, shipped.Value!, time, line => stderr.WriteLine(line), ct);
                var path = OutputFor(output, region, regions.Count);
                Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
                await using (var writer = File.CreateText(path))
                {
                    CatalogCsv.Write(catalog, writer);
                }
                await stderr.WriteLineAsync($"{region}: wrote {path} ({catalog.Entries.Length} instance types)");
                await stdout.WriteLineAsync(path);
            }
            return ExitCodes.Ok;
        }
        catch (Exception e) when (AwsErrors.Classify(e) is { } failure)
        {
            await stderr.WriteLineAsync($"error: {failure.Message}");
            return failure.ExitCode;
        }
    }

    /// <summary>The CSV format holds one region (it has no region column): one region writes <paramref name="output"/>, several write one file each.</summary>
    public static string OutputFor(string output, string region, int regionCount) => regionCount == 1
        ? output
        : Path.Combine(Path.GetDirectoryName(output) ?? "", $"{Path.GetFileNameWithoutExtension(output)}-{region}{Path.GetExtension(output)}");

    /// <summary>The SDK's endpoint settings, read as the SDK reads them for a service it ships.</summary>
    private static Uri PriceListEndpoint() =>
        Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL_PRICING") is { Length: > 0 } pricing ? new Uri(pricing)
        : Environment.GetEnvironmentVariable("AWS_ENDPOINT_URL") is { Length: > 0 } all ? new Uri(all)
        : PriceListClient.DefaultEndpoint;

    private static SigningCredentials Signing(ImmutableCredentials c) => new(c.AccessKey, c.SecretKey, c.UseToken ? c.Token : null);
}
