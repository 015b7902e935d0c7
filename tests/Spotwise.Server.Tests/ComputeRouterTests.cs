using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Compute.Local;
using Spotwise.Compute.Simulated;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;

namespace Spotwise.Server.Tests;

/// <summary>Two real backends in one service: the simulated cloud serves provider aws, local processes serve provider local.</summary>
public sealed class ComputeRouterTests : IAsyncDisposable
{
    private static readonly CancellationToken Ct = CancellationToken.None;

    private readonly string _logs = Directory.CreateTempSubdirectory("spotwise-router-").FullName;
    private readonly ServiceProvider _services;

    public ComputeRouterTests()
    {
        var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(new FakeTimeProvider(SpotwiseServerFactory.Start))
            .AddSimulatedCompute(_ => new SimulatedCloudOptions { Catalog = ShippedCatalog.Load() })
            .AddLocalCompute(_ => new LocalProcessOptions { Slots = 2, LogDirectory = _logs })
            .AddComputeRoute(_ => new ComputeRoute("aws", SimulatedComputeRegistration.Name))
            .AddComputeRoute(_ => new ComputeRoute("local", LocalComputeRegistration.Name));
        _services = services.BuildServiceProvider();
    }

    private ComputeRouter Router => Assert.IsType<ComputeRouter>(_services.GetRequiredService<ICompute>());

    private SimulatedCloud Cloud => Assert.IsType<SimulatedCloud>(_services.GetRequiredKeyedService<ICompute>(SimulatedComputeRegistration.Name));

    private LocalProcessCompute Local => Assert.IsType<LocalProcessCompute>(_services.GetRequiredKeyedService<ICompute>(LocalComputeRegistration.Name));

    [Fact]
    public async Task Each_launch_goes_to_the_backend_of_its_offers_provider_and_describe_shows_both()
    {
        var onCloud = await Router.LaunchAsync(Request("train", "aws", command: null), Ct);
        var onLocal = await Router.LaunchAsync(Request("etl", "local", command: "true"), Ct);
        await Local.WhenFinishedAsync(onLocal.InstanceId, Ct);

        Assert.Equal([onCloud.InstanceId], (await Cloud.DescribeAsync(Ct)).Select(i => i.InstanceId));
        Assert.Equal([onLocal.InstanceId], (await Local.DescribeAsync(Ct)).Select(i => i.InstanceId));
        var all = await Router.DescribeAsync(Ct);
        Assert.Equal(["etl", "train"], all.Select(i => i.JobId).Order(StringComparer.Ordinal));
        Assert.Equal(InstanceState.Succeeded, all.Single(i => i.JobId == "etl").State);
    }

    [Fact]
    public async Task A_launch_that_names_no_provider_goes_to_the_first_route()
    {
        var launched = await Router.LaunchAsync(Request("old-placement", provider: null, command: null), Ct);

        Assert.Equal(launched.InstanceId, Assert.Single(await Cloud.DescribeAsync(Ct)).InstanceId);
    }

    [Fact]
    public async Task A_launch_for_a_provider_no_backend_serves_is_refused_naming_it()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => Router.LaunchAsync(Request("x", "gcp", command: null), Ct));

        Assert.Contains("provider 'gcp'", e.Message, StringComparison.Ordinal);
        Assert.Contains("aws, local", e.Message, StringComparison.Ordinal);
        Assert.Empty(await Router.DescribeAsync(Ct));
    }

    [Fact]
    public async Task Terminate_reaches_the_backend_that_owns_the_instance()
    {
        var onCloud = await Router.LaunchAsync(Request("train", "aws", command: null), Ct);
        var onLocal = await Router.LaunchAsync(Request("serve", "local", command: "sleep 60"), Ct);

        await Router.TerminateAsync(onLocal.InstanceId, Ct);
        await Local.WhenFinishedAsync(onLocal.InstanceId, Ct);

        Assert.Equal(InstanceState.Terminated, Assert.Single(await Local.DescribeAsync(Ct)).State);
        Assert.Equal(InstanceState.Pending, Assert.Single(await Cloud.DescribeAsync(Ct)).State);
        await Router.TerminateAsync(onCloud.InstanceId, Ct);
        Assert.Equal(InstanceState.Terminated, Assert.Single(await Cloud.DescribeAsync(Ct)).State);
    }

    [Fact]
    public async Task After_a_restart_the_router_finds_an_instances_owner_by_asking_the_backends()
    {
        var onLocal = await Router.LaunchAsync(Request("serve", "local", command: "sleep 60"), Ct);
        var onCloud = await Router.LaunchAsync(Request("train", "aws", command: null), Ct);
        // A new router over the same backends: it has launched nothing and remembers no owner.
        var restarted = new ComputeRouter([KeyValuePair.Create("aws", (ICompute)Cloud), KeyValuePair.Create("local", (ICompute)Local)]);

        await restarted.TerminateAsync(onCloud.InstanceId, Ct);
        await restarted.TerminateAsync(onLocal.InstanceId, Ct);
        await Local.WhenFinishedAsync(onLocal.InstanceId, Ct);

        Assert.All(await restarted.DescribeAsync(Ct), i => Assert.Equal(InstanceState.Terminated, i.State));
    }

    [Fact]
    public async Task Terminating_an_id_no_backend_knows_is_not_an_error()
    {
        await Router.TerminateAsync("i-nobody", Ct);

        Assert.Empty(await Router.DescribeAsync(Ct));
    }

    [Fact]
    public void A_route_to_a_backend_nobody_registered_is_refused_listing_the_registered_ones()
    {
        using var services = new ServiceCollection()
            .AddSingleton<TimeProvider>(new FakeTimeProvider(SpotwiseServerFactory.Start))
            .AddSimulatedCompute(_ => new SimulatedCloudOptions { Catalog = ShippedCatalog.Load() })
            .AddLocalCompute(_ => new LocalProcessOptions { LogDirectory = _logs })
            .AddComputeRoute(_ => new ComputeRoute("aws", "slurm"))
            .BuildServiceProvider();

        var e = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<ICompute>());

        Assert.Equal("no backend is named 'slurm'; registered: simulated, local", e.Message);
    }

    private static LaunchRequest Request(string jobId, string? provider, string? command) =>
        new(ClientTokens.For(new JobKey("team-a", jobId), 1), "team-a", jobId, 1, Market.OnDemand, "m5.large", "us-east-1", 0.5, false, 1, command)
        {
            Provider = provider,
        };

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        try
        {
            Directory.Delete(_logs, recursive: true);
        }
        catch (IOException)
        {
            // A log still being closed: the temp folder is cleaned by the OS later.
        }
    }
}
