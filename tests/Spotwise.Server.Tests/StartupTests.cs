using Microsoft.Extensions.DependencyInjection;
using Spotwise.Compute.Local;
using Spotwise.Compute.Simulated;
using Spotwise.Runtime;

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
    public async Task The_simulated_cloud_is_the_default_backend()
    {
        await using var factory = new SpotwiseServerFactory();

        Assert.IsType<SimulatedCloud>(factory.Services.GetRequiredService<ICompute>());
    }

    [Fact]
    public async Task Backend_local_runs_jobs_as_local_processes()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:Backend"] = "local" });

        Assert.IsType<LocalProcessCompute>(factory.Services.GetRequiredService<ICompute>());
    }

    [Fact]
    public async Task An_unknown_backend_stops_the_start_naming_the_setting()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:Backend"] = "kubernetes" });

        var e = Assert.ThrowsAny<Exception>(() => factory.Services.GetRequiredService<ICompute>());
        Assert.Contains("Spotwise:Backend is 'kubernetes'", e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_spot_trace_is_replayed_by_the_simulated_cloud()
    {
        var trace = Path.Combine(RepoPaths.Root, "data", "traces", "aws-v100", "us-west-2a_v100_1.json");
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:SpotTrace"] = trace });

        Assert.IsType<SimulatedCloud>(factory.Services.GetRequiredService<ICompute>());
    }

    [Fact]
    public async Task A_missing_spot_trace_stops_the_start_naming_the_setting()
    {
        await using var factory = new SpotwiseServerFactory(new Dictionary<string, string> { ["Spotwise:SpotTrace"] = "/no/such/trace.json" });

        var e = Assert.ThrowsAny<Exception>(() => factory.Services.GetRequiredService<ICompute>());
        Assert.Contains("Spotwise:SpotTrace is '/no/such/trace.json'; no such file", e.ToString(), StringComparison.Ordinal);
    }
}
