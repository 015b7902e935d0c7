using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Aws;
using Spotwise.Compute.Aws.Fakes;
using Spotwise.Compute.Aws.Prices;
using Spotwise.Core;

namespace Spotwise.Bench;

/// <summary>
/// <c>prices</c>: the live EC2 price feed (issue 12) against the loopback EC2, through the real AWS SDK client: a price
/// look-up from the warm cache (what every reconcile tick and scheduling cycle pays), and a refresh (offerings + spot
/// price history for every catalog type in six zones, what the background pays once per TTL).
/// </summary>
public static class PricesCommand
{
    public const string Usage = "prices [--lookups 100000] [--refreshes 20] [--zones 6]";

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new ArgReader(args, ["--lookups", "--refreshes", "--zones"], []);
        var lookups = a.WholeNumber("--lookups", 1, 10_000_000) ?? 100_000;
        var refreshes = a.WholeNumber("--refreshes", 1, 1000) ?? 20;
        var zoneCount = a.WholeNumber("--zones", 1, 26) ?? 6;
        var catalogPath = RepoRoot.PathTo(RepoRoot.Catalog, out var why);
        if (catalogPath is null)
        {
            a.AddError($"cannot find the repository's data: {why}");
        }
        if (a.Errors.Count > 0)
        {
            return ArgReader.Refuse(a.Errors, Usage, stderr);
        }
        using var reader = new StreamReader(catalogPath!);
        var catalog = CatalogCsv.Parse(reader, catalogPath!);
        var now = new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero);
        var time = new FakeTimeProvider(now);
        await using var ec2 = await FakeEc2Server.StartAsync(time, new Dictionary<string, string>());
        var zones = Enumerable.Range(0, zoneCount).Select(i => $"us-east-1{(char)('a' + i)}").ToArray();
        Seed(ec2, catalog, zones, now);
        using var client = Ec2Clients.Create("us-east-1", ec2.BaseUri, new BasicAWSCredentials("AKIDEXAMPLE", "secret"));
        using var feed = new AwsPriceFeed(client, new AwsPriceFeedOptions { Region = "us-east-1", Catalog = catalog }, time);

        // Refresh: each round is one first fetch of a new feed (the whole market read and applied to the catalog).
        var refreshMs = new List<double>();
        for (var i = 0; i < refreshes + 1; i++)
        {
            using var cold = new AwsPriceFeed(client, new AwsPriceFeedOptions { Region = "us-east-1", Catalog = catalog }, time);
            var clock = Stopwatch.StartNew();
            await cold.PricesAtAsync(now, CancellationToken.None);
            if (i > 0)
            {
                refreshMs.Add(clock.Elapsed.TotalMilliseconds); // the first round warms the SDK and the JIT
            }
        }

        await feed.PricesAtAsync(now, CancellationToken.None);
        var calls = ec2.Actions.Count;
        var lookupUs = new double[lookups];
        for (var i = 0; i < lookups; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await feed.PricesAtAsync(now, CancellationToken.None);
            lookupUs[i] = Stopwatch.GetElapsedTime(start).TotalMicroseconds;
        }
        var priced = (await feed.PricesAtAsync(now, CancellationToken.None)).Entries.Count(e => !e.SpotZones.IsEmpty);

        stdout.WriteLine(Invariant($"catalog: {catalog.Entries.Length} types, {priced} priced in {zoneCount} zones ({zoneCount * catalog.Entries.Length} spot pools)"));
        stdout.WriteLine(Invariant($"look-up from cache ({lookups} calls, {ec2.Actions.Count - calls} EC2 calls): p50 {Percentile(lookupUs, 0.50):0.00} us, p99 {Percentile(lookupUs, 0.99):0.00} us, max {lookupUs.Max():0.0} us"));
        stdout.WriteLine(Invariant($"refresh against loopback EC2 ({refreshes} rounds, {calls / (refreshes + 2)} calls each): p50 {Percentile([.. refreshMs], 0.50):0.0} ms, p99 {Percentile([.. refreshMs], 0.99):0.0} ms"));
        return 0;
    }

    /// <summary>Every catalog type offered in every zone, with a price change 10 minutes ago at a zone-dependent share of on-demand.</summary>
    private static void Seed(FakeEc2Server ec2, Catalog catalog, string[] zones, DateTimeOffset now)
    {
        var types = catalog.Entries.Select(e => e.Type.Name).ToArray();
        for (var z = 0; z < zones.Length; z++)
        {
            ec2.Offer(zones[z], types);
            foreach (var e in catalog.Entries)
            {
                ec2.SeedSpotPrice(zones[z], e.Type.Name, now.AddMinutes(-10), e.OnDemandPricePerHourUsd * (0.3 + (0.05 * z)));
            }
        }
    }

    private static double Percentile(double[] values, double p)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
    }

    private static string Invariant(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
