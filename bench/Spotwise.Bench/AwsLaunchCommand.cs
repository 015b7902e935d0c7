using System.Diagnostics;
using System.Globalization;
using Amazon.EC2;
using Amazon.Runtime;
using Spotwise.Compute.Aws;
using Spotwise.Compute.Aws.Fakes;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Bench;

/// <summary>
/// <c>aws-launch</c>: the EC2 backend's own cost, through the real AWS SDK client against the loopback EC2 (the tests'
/// FakeEc2Server, in this process): launches per second, one at a time and eight at once, and how long one
/// <c>DescribeAsync</c> (the reconciler's every tick) takes with 1,000 instances. Both ends share this machine, so the
/// figures bound what Spotwise adds per call; EC2's own latency (tens to hundreds of ms per call) is not in them.
/// </summary>
public static class AwsLaunchCommand
{
    public const string Usage = "aws-launch [--launches 2000] [--instances 1000] [--describes 30] [--launch-api run-instances|create-fleet]";

    private static readonly Dictionary<string, string> Subnets = new(StringComparer.Ordinal)
    {
        ["us-east-1a"] = "subnet-aaaa",
        ["us-east-1b"] = "subnet-bbbb",
        ["us-east-1c"] = "subnet-cccc",
    };

    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr)
    {
        var a = new ArgReader(args, ["--launches", "--instances", "--describes", "--launch-api"], []);
        var launches = a.WholeNumber("--launches", 8, 1_000_000) ?? 2000;
        var instances = a.WholeNumber("--instances", 1, 100_000) ?? 1000;
        var describes = a.WholeNumber("--describes", 1, 10_000) ?? 30;
        var apiName = a.Text("--launch-api") ?? Ec2LaunchApis.RunInstancesName;
        if (!Ec2LaunchApis.TryParse(apiName, out var api))
        {
            a.AddError($"--launch-api: '{apiName}' is not a launch API ({Ec2LaunchApis.Names})");
        }
        if (a.Errors.Count > 0)
        {
            return ArgReader.Refuse(a.Errors, Usage, stderr);
        }
        stdout.WriteLine($"machine: {Environment.ProcessorCount} cores, {System.Runtime.InteropServices.RuntimeInformation.OSDescription}, .NET {Environment.Version}");

        // Each measure on a fresh endpoint, so one's instances do not weigh on the next's.
        foreach (var concurrency in new[] { 1, 8 })
        {
            await using var ec2 = await Endpoint();
            using var client = Client(ec2, api, out var backend);
            await LaunchAllAsync(backend, api, "warm-up", 200, concurrency);
            var clock = Stopwatch.StartNew();
            await LaunchAllAsync(backend, api, "bench", launches, concurrency);
            var seconds = clock.Elapsed.TotalSeconds;
            var call = api == Ec2LaunchApi.CreateFleet ? "CreateFleet (instant, 3 subnets)" : "RunInstances";
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"launch, concurrency {concurrency}: {launches:N0} {call} in {seconds:0.00} s = {launches / seconds:N0} launches/s ({seconds * 1000 / launches * concurrency:0.00} ms each)"));
        }

        await using (var ec2 = await Endpoint())
        {
            using var client = Client(ec2, api, out var backend);
            await LaunchAllAsync(backend, api, "fleet", instances, 8);
            var described = await backend.DescribeAsync(CancellationToken.None); // warm-up
            var times = new List<double>();
            for (var n = 0; n < describes; n++)
            {
                var clock = Stopwatch.StartNew();
                described = await backend.DescribeAsync(CancellationToken.None);
                times.Add(clock.Elapsed.TotalMilliseconds);
            }
            times.Sort();
            stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"describe, {described.Count:N0} instances ({instances:N0} launched): p50 {Percentile(times, 0.5):0.0} ms, p95 {Percentile(times, 0.95):0.0} ms, max {times[^1]:0.0} ms over {describes} calls"));
        }
        return 0;
    }

    private static Task<FakeEc2Server> Endpoint() =>
        FakeEc2Server.StartAsync(new FixedTime(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero)),
            Subnets.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal));

    /// <summary>The backend as the service makes it (<see cref="AwsComputeRegistration.CreateClient(AwsComputeOptions)"/>), with dummy credentials for loopback.</summary>
    private static AmazonEC2Client Client(FakeEc2Server ec2, Ec2LaunchApi api, out AwsEc2Compute backend)
    {
        var options = new AwsComputeOptions
        {
            Region = "us-east-1",
            ServiceUrl = ec2.BaseUri,
            Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "not-a-secret"),
            LaunchTemplateId = "lt-0abc",
            SubnetsByZone = Subnets,
            LaunchApi = api,
        };
        var client = (AmazonEC2Client)AwsComputeRegistration.CreateClient(options);
        backend = new AwsEc2Compute(client, options, TimeProvider.System);
        return client;
    }

    /// <summary>
    /// <paramref name="count"/> launches, each its own job, <paramref name="concurrency"/> in flight: spread over the zones
    /// (RunInstances), or each in the region itself (CreateFleet, which only such placements take).
    /// </summary>
    private static Task LaunchAllAsync(AwsEc2Compute backend, Ec2LaunchApi api, string prefix, int count, int concurrency) =>
        Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (n, ct) =>
        {
            var job = string.Create(CultureInfo.InvariantCulture, $"{prefix}-{n:D6}");
            var zone = api == Ec2LaunchApi.CreateFleet ? "us-east-1" : Subnets.Keys.ElementAt(n % Subnets.Count);
            await backend.LaunchAsync(new LaunchRequest(ClientTokens.For(new JobKey("bench", job), 1), "bench", job, 1,
                n % 2 == 0 ? Market.Spot : Market.OnDemand, "m5.large", zone, 1, false, 0, null), ct);
        });

    private static double Percentile(List<double> sorted, double p) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(p * sorted.Count) - 1)];

    /// <summary>The loopback EC2's clock: frozen, so instances stay as launched while they are counted.</summary>
    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
