using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Spotwise.Compute.Aws;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Reconciliation;

namespace Spotwise.Server.Tests.Aws;

/// <summary><c>Spotwise:Backend=aws</c>: the composed service starts against a loopback EC2, or refuses to, naming why.</summary>
public sealed class AwsBackendTests
{
    private static readonly Dictionary<string, string> ZoneBySubnet = new(StringComparer.Ordinal)
    {
        ["subnet-aaaa"] = "us-west-2a",
        ["subnet-bbbb"] = "us-west-2b",
    };

    private static Dictionary<string, string> Settings(string subnets = "subnet-bbbb,subnet-aaaa") => new(StringComparer.Ordinal)
    {
        ["Spotwise:Aws:Region"] = "us-west-2",
        ["Spotwise:Aws:LaunchTemplate"] = "lt-0abc",
        ["Spotwise:Aws:Subnets"] = subnets,
    };

    [Fact]
    public async Task The_service_learns_its_subnets_zones_at_start_and_launches_a_planned_job_on_ec2_in_its_region()
    {
        await using var aws = await AwsService.StartAsync(ZoneBySubnet, Settings());
        using var client = aws.Factory.ClientFor("k1");
        Assert.Contains("DescribeSubnets", aws.Ec2.Actions);
        Assert.Equal("us-west-2", aws.Factory.Services.GetRequiredService<Catalog>().Region);

        await client.PostAsync("/api/jobs", new StringContent(
            """{"jobId":"job-1","deadline":"+24h","estimatedDurationHours":1,"resourceRequirements":{"type":"cpu_small"}}""", Encoding.UTF8, "application/json"));
        await aws.Factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);
        await aws.Factory.Services.GetRequiredService<ReconcileLoop>().TickAsync(default);

        // The shipped catalog knows no zones: the placement is the region's, and EC2 gets the first subnet listed.
        var instance = Assert.Single(await aws.InstancesAsync());
        Assert.Equal(("subnet-bbbb", "us-west-2b"), (instance.SubnetId, instance.Placement.AvailabilityZone));
        Assert.Contains(instance.Tags, t => t.Key == "spotwise:job" && t.Value == "job-1");
        var job = await aws.Factory.Services.GetRequiredService<IJobStore>().GetAsync(new JobKey("team-a", "job-1"), default);
        Assert.Equal(instance.InstanceId, job!.InstanceId);
    }

    [Fact]
    public async Task With_launch_api_create_fleet_a_job_planned_in_the_region_is_launched_by_one_instant_fleet_over_its_subnets()
    {
        var settings = Settings();
        settings["Spotwise:Aws:LaunchApi"] = "create-fleet";
        await using var aws = await AwsService.StartAsync(ZoneBySubnet, settings);
        using var client = aws.Factory.ClientFor("k1");
        Assert.Equal(Ec2LaunchApi.CreateFleet, aws.Factory.Services.GetRequiredService<AwsComputeOptions>().LaunchApi);

        await client.PostAsync("/api/jobs", new StringContent(
            """{"jobId":"job-1","deadline":"+24h","estimatedDurationHours":1,"resourceRequirements":{"type":"cpu_small"}}""", Encoding.UTF8, "application/json"));
        await aws.Factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);
        await aws.Factory.Services.GetRequiredService<ReconcileLoop>().TickAsync(default);

        var instance = Assert.Single(await aws.InstancesAsync());
        Assert.Equal(1, aws.Ec2.FleetCount);
        Assert.DoesNotContain("RunInstances", aws.Ec2.Actions);
        var job = await aws.Factory.Services.GetRequiredService<IJobStore>().GetAsync(new JobKey("team-a", "job-1"), default);
        Assert.Equal(instance.InstanceId, job!.InstanceId);
    }

    [Theory]
    [InlineData("fleet", null, "Spotwise:Aws:LaunchApi is 'fleet'; give run-instances, create-fleet")]
    [InlineData("create-fleet", "https://spotwise.example.com", "Spotwise:Aws:LaunchApi is 'create-fleet' and AgentCallbackUrl is set: create-fleet cannot pass each attempt's user data")]
    public async Task A_launch_api_that_cannot_work_stops_the_start_naming_the_setting(string api, string? agent, string expected)
    {
        var settings = Settings();
        settings["Spotwise:Aws:LaunchApi"] = api;
        if (agent is not null)
        {
            settings["Spotwise:Aws:AgentCallbackUrl"] = agent;
        }
        await using var aws = await AwsService.StartAsync(ZoneBySubnet, settings);

        var e = Assert.Throws<OptionsValidationException>(() => aws.Factory.CreateClient());

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_an_agent_callback_url_the_service_makes_its_backend_with_the_agents_reports_and_secrets()
    {
        var settings = Settings();
        settings["Spotwise:Aws:AgentCallbackUrl"] = "https://spotwise.example.com";
        await using var aws = await AwsService.StartAsync(ZoneBySubnet, settings);
        using var client = aws.Factory.ClientFor("k1");

        Assert.Equal(new Uri("https://spotwise.example.com"), aws.Factory.Services.GetRequiredService<AwsComputeOptions>().AgentCallbackUrl);
        // The backend refuses an agent URL without the service's AttemptReports and AttemptSecrets: made, it asks EC2.
        Assert.Empty(await aws.Factory.Services.GetRequiredService<ICompute>().DescribeAsync(default));
        Assert.Contains("DescribeInstances", aws.Ec2.Actions);
    }

    [Fact]
    public async Task Without_a_launch_template_or_subnets_the_start_fails_naming_the_settings()
    {
        await using var aws = await AwsService.StartAsync(ZoneBySubnet, new Dictionary<string, string> { ["Spotwise:Aws:Region"] = "us-west-2" });

        var e = Assert.Throws<OptionsValidationException>(() => aws.Factory.CreateClient());

        Assert.Contains("Spotwise:Aws:LaunchTemplate is empty", e.Message, StringComparison.Ordinal);
        Assert.Contains("Spotwise:Aws:Subnets is empty", e.Message, StringComparison.Ordinal);
        Assert.Empty(aws.Ec2.Actions);
    }

    [Fact]
    public async Task A_subnet_ec2_does_not_know_stops_the_start_naming_it()
    {
        await using var aws = await AwsService.StartAsync(ZoneBySubnet, Settings("subnet-aaaa,subnet-zzzz"));

        var e = Assert.Throws<AwsConfigurationException>(() => aws.Factory.CreateClient());

        Assert.Contains("subnet-zzzz", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("RunInstances", aws.Ec2.Actions);
    }
}
