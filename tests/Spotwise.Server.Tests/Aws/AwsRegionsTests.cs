using System.Text;
using Amazon.EC2;
using Amazon.EC2.Model;
using Amazon.Runtime;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Compute.Aws.Fakes;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Reconciliation;

namespace Spotwise.Server.Tests.Aws;

/// <summary>
/// <c>spotwise serve --backend aws --region us-east-1 --region us-west-2</c> as <c>SpotwiseApp</c> composes it, each
/// region its own loopback EC2 endpoint (as EC2 is: ec2.us-east-1.amazonaws.com, ec2.us-west-2.amazonaws.com), each
/// refusing a request signed for another region, reached through the real SDK clients on the service's fake clock.
/// </summary>
public sealed class AwsRegionsTests : IAsyncLifetime, IDisposable
{
    private static readonly DateTimeOffset Before = SpotwiseServerFactory.Start - TimeSpan.FromDays(1);

    private SpotwiseServerFactory _factory = null!;
    private FakeEc2Server _east = null!;
    private FakeEc2Server _west = null!;

    public async Task InitializeAsync()
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["Spotwise:Backend"] = "aws",
            ["Spotwise:Planner"] = "cpsat",
            ["Spotwise:Aws:Region"] = "us-east-1",
            ["Spotwise:Aws:Regions:0"] = "us-east-1",
            ["Spotwise:Aws:Regions:1"] = "us-west-2",
            // A template is regional: several regions name it (created under one name in each).
            ["Spotwise:Aws:LaunchTemplate"] = "spotwise-batch",
            // Mixed, as a user may list them: which region holds each subnet is EC2's answer, not the order.
            ["Spotwise:Aws:Subnets"] = "subnet-west-a,subnet-east-a,subnet-east-b",
            ["Spotwise:Aws:PriceTypes"] = "m5.large,c5.large",
        };
        _factory = new SpotwiseServerFactory(settings, services: s => s.AddSingleton<AWSCredentials>(AwsService.Credentials));
        _east = await FakeEc2Server.StartAsync(_factory.Time,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["subnet-east-a"] = "us-east-1a", ["subnet-east-b"] = "us-east-1b" }, region: "us-east-1");
        _west = await FakeEc2Server.StartAsync(_factory.Time,
            new Dictionary<string, string>(StringComparer.Ordinal) { ["subnet-west-a"] = "us-west-2a" }, region: "us-west-2");
        settings["Spotwise:Aws:ServiceUrls:us-east-1"] = _east.BaseUri.ToString();
        settings["Spotwise:Aws:ServiceUrls:us-west-2"] = _west.BaseUri.ToString();
        // Both types sold on spot in both regions (a type a region's zones do not sell keeps the catalog's regional spot
        // price: SpotMarketReading.Apply): c5.large cheapest in us-east-1a, m5.large in us-west-2a.
        _east.Offer("us-east-1a", "c5.large");
        _east.Offer("us-east-1b", "m5.large");
        _east.SeedSpotPrice("us-east-1a", "c5.large", Before, 0.034);
        _east.SeedSpotPrice("us-east-1b", "m5.large", Before, 0.090);
        _west.Offer("us-west-2a", "m5.large", "c5.large");
        _west.SeedSpotPrice("us-west-2a", "m5.large", Before, 0.020);
        _west.SeedSpotPrice("us-west-2a", "c5.large", Before, 0.080);
        _east.Run = _west.Run = TimeSpan.FromMinutes(20);
    }

    public async Task DisposeAsync()
    {
        await _factory.DisposeAsync();
        await _east.DisposeAsync();
        await _west.DisposeAsync();
    }

    /// <summary>Already done by <see cref="DisposeAsync"/> (xunit calls both); a second dispose does nothing.</summary>
    public void Dispose() => _factory.Dispose();

    private IServiceProvider Services => _factory.Services;

    [Fact]
    public async Task Jobs_are_planned_and_launched_in_both_regions_each_through_its_own_endpoint_and_nothing_is_left_running()
    {
        using var client = _factory.ClientFor("k1");
        await SubmitAsync(client, "job-east", "c5.large");
        await SubmitAsync(client, "job-west", "m5.large", ""","dataRegion":"us-east-1","inputDataSizeGB":2""");
        await SubmitAsync(client, "job-gone", "m5.large");
        // Each region was asked which of the subnets it holds.
        Assert.Contains("DescribeSubnets", _east.Actions);
        Assert.Contains("DescribeSubnets", _west.Actions);
        Assert.Equal(["us-east-1", "us-west-2"], Services.GetRequiredService<Catalog>().Regions.ToArray());

        await Services.GetRequiredService<Scheduler>().RunCycleAsync(default);
        Assert.Equal("us-east-1a", (await JobAsync("job-east")).Placement!.Zone);
        Assert.Equal("us-west-2a", (await JobAsync("job-west")).Placement!.Zone);
        // Its input lives in us-east-1: the plan moves it (2 GB at 1 Gbit/s, 16 s) and says so.
        Assert.Contains(await EventsAsync("job-west"), e => e.Cause.Contains("2 GB of input move to us-west-2 first", StringComparison.Ordinal));

        await Services.GetRequiredService<ReconcileLoop>().TickAsync(default);
        var east = Assert.Single(await InstancesAsync(_east));
        Assert.Equal(("subnet-east-a", "c5.large"), (east.SubnetId, east.InstanceType.Value));
        var west = await InstancesAsync(_west);
        Assert.Equal(["subnet-west-a"], west.Select(i => i.SubnetId).Distinct());
        Assert.Equal(2, west.Count);
        var westJob = await JobAsync("job-west");
        Assert.Equal(16.0 / 3600, westJob.LaunchIntent!.TransferHours, 6);
        Assert.Contains(west, i => i.InstanceId == westJob.InstanceId);

        // A cancelled job's instance is terminated in its own region: the other region never hears of it.
        Assert.Equal(System.Net.HttpStatusCode.OK, (await client.DeleteAsync("/api/jobs/job-gone")).StatusCode);
        _factory.Time.Advance(TimeSpan.FromMinutes(1));
        await Services.GetRequiredService<ReconcileLoop>().TickAsync(default);
        // (At least once: the service's own loop may tick too, on the same clock, and terminate it again.)
        Assert.True(_west.CallsOf("TerminateInstances") >= 1, "the cancelled job's instance is terminated in us-west-2");
        Assert.Equal(0, _east.CallsOf("TerminateInstances"));
        Assert.Contains("DescribeInstances", _east.Actions);
        Assert.Contains("DescribeInstances", _west.Actions);

        for (var step = 0; step < 12 && !await AllAsync(JobState.Succeeded, "job-east", "job-west"); step++)
        {
            _factory.Time.Advance(TimeSpan.FromMinutes(5));
            await Services.GetRequiredService<Scheduler>().RunCycleAsync(default);
            await Services.GetRequiredService<ReconcileLoop>().TickAsync(default);
        }
        Assert.True(await AllAsync(JobState.Succeeded, "job-east", "job-west"), "both jobs succeed");
        Assert.All([.. await InstancesAsync(_east), .. await InstancesAsync(_west)], i => Assert.Equal("terminated", i.State.Name.Value));
    }

    private static async Task SubmitAsync(HttpClient client, string id, string type, string more = "")
    {
        var body = $$$"""{"jobId":"{{{id}}}","deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"instanceTypes":["{{{type}}}"]}{{{more}}}}""";
        var response = await client.PostAsync("/api/jobs", new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
    }

    private async Task<JobRecord> JobAsync(string id) =>
        (await Services.GetRequiredService<IJobStore>().GetAsync(new JobKey("team-a", id), default))!;

    private async Task<IReadOnlyList<JobEvent>> EventsAsync(string id) =>
        await Services.GetRequiredService<IJobStore>().EventsAsync(new JobKey("team-a", id), default);

    private async Task<bool> AllAsync(JobState state, params string[] ids)
    {
        foreach (var id in ids)
        {
            if ((await JobAsync(id)).State != state)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Every instance one region's endpoint holds, asked as that region.</summary>
    private static async Task<List<Instance>> InstancesAsync(FakeEc2Server region)
    {
        using var ec2 = new AmazonEC2Client(AwsService.Credentials,
            new AmazonEC2Config { ServiceURL = region.BaseUri.ToString(), AuthenticationRegion = region.Region });
        var response = await ec2.DescribeInstancesAsync(new DescribeInstancesRequest());
        return [.. (response.Reservations ?? []).SelectMany(r => r.Instances ?? [])];
    }
}
