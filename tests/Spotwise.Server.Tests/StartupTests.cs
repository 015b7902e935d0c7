using Microsoft.Extensions.DependencyInjection;
using Spotwise.Compute.Local;
using Spotwise.Compute.Simulated;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;

namespace Spotwise.Server.Tests;

/// <summary>What <c>serve</c> chooses at start from its settings.</summary>
public class StartupTests
{
    [Fact]
    public async Task With_no_key_configured_the_server_generates_one_for_team_default()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:ApiKeys"] = "" });
        var keys = factory.Services.GetRequiredService<ApiKeyRing>();

        Assert.Equal(1, keys.Count);
    }

    [Fact]
    public void A_team_name_with_a_slash_is_refused_naming_it()
    {
        // A job's key is written team/id: the first '/' must end the team.
        Assert.False(ApiKeyRing.TryParse("k1=ml,k2=vision/cv", out _, out var why));

        Assert.Contains("'vision/cv'", why, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_simulated_cloud_is_the_default_backend_and_plans_allow_for_its_boot()
    {
        await using var factory = new SpotwiseServerFactory();

        Assert.IsType<SimulatedCloud>(BackendOfTheCatalog(factory));
        Assert.Equal(new SimulatedCloudOptions { Catalog = Catalog(factory) }.LaunchDelay,
            factory.Services.GetRequiredService<SchedulerOptions>().Settings.LaunchAllowance);
    }

    [Fact]
    public async Task Backend_local_runs_jobs_as_local_processes_with_no_launch_allowance()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:Backend"] = "local" });

        Assert.IsType<LocalProcessCompute>(BackendOfTheCatalog(factory));
        Assert.Equal(TimeSpan.Zero, factory.Services.GetRequiredService<SchedulerOptions>().Settings.LaunchAllowance);
    }

    [Fact]
    public async Task An_unknown_backend_stops_the_start_naming_the_setting_and_the_registered_backends()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:Backend"] = "nomad" });

        var e = Assert.ThrowsAny<Exception>(() => factory.Services.GetRequiredService<ICompute>());
        Assert.Contains("Spotwise:Backend is 'nomad'; choose one of the registered backends: simulated, local", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_store_path_that_cannot_be_a_file_stops_the_start_before_any_request()
    {
        var file = Path.GetTempFileName();
        try
        {
            // A directory where a file stands: the store cannot be created under it.
            await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:Db"] = Path.Combine(file, "spotwise.db") });

            Assert.ThrowsAny<IOException>(() => factory.Services);
        }
        finally
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_spot_trace_is_replayed_by_the_simulated_cloud_and_read_by_the_price_feed()
    {
        var trace = Path.Combine(RepoPaths.Root, "data", "traces", "aws-v100", "us-west-2a_v100_1.json");
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:SpotTrace"] = trace });

        Assert.IsType<SimulatedCloud>(BackendOfTheCatalog(factory));
        Assert.Single(factory.Services.GetRequiredService<SimulatedCloudOptions>().SpotTraces);
        // The planner and the spot policy see the market the cloud replays (its capacity per pool, its prices).
        Assert.IsType<Spotwise.Runtime.Traces.TracePriceFeed>(factory.Services.GetRequiredService<IPriceFeed>());
    }

    [Fact]
    public async Task Without_a_spot_trace_the_price_feed_is_the_catalog()
    {
        await using var factory = new SpotwiseServerFactory();

        Assert.IsType<CatalogPriceFeed>(factory.Services.GetRequiredService<IPriceFeed>());
    }

    [Fact]
    public async Task A_missing_spot_trace_stops_the_start_naming_the_setting()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:SpotTrace"] = "/no/such/trace.json" });

        var e = Assert.ThrowsAny<Exception>(() => factory.Services.GetRequiredService<ICompute>());
        Assert.Contains("Spotwise:SpotTrace is '/no/such/trace.json'; no such file", e.ToString(), StringComparison.Ordinal);
    }

    private static Catalog Catalog(SpotwiseServerFactory factory) => factory.Services.GetRequiredService<Catalog>();

    /// <summary>The service's backend is a router; the catalog's offers name its provider, so this backend launches them.</summary>
    private static ICompute BackendOfTheCatalog(SpotwiseServerFactory factory) =>
        Assert.IsType<ComputeRouter>(factory.Services.GetRequiredService<ICompute>()).BackendFor(Catalog(factory).Provider);
}
