using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Runtime;
using Spotwise.Runtime.Reconciliation;

namespace Spotwise.Server.Tests;

public sealed class MarketApiTests : IAsyncLifetime, IDisposable
{
    private readonly SpotwiseServerFactory _factory = new();
    private HttpClient _teamA = null!;
    private HttpClient _teamB = null!;

    public Task InitializeAsync()
    {
        _teamA = _factory.ClientFor("k1");
        _teamB = _factory.ClientFor("k2");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        _teamA.Dispose();
        _teamB.Dispose();
        await _factory.DisposeAsync();
    }

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Prices_list_the_whole_catalog_in_force_now()
    {
        using var doc = JsonDocument.Parse(await _teamA.GetStringAsync("/api/prices"));

        Assert.Equal(894, doc.RootElement.GetProperty("prices").GetArrayLength());
        Assert.Equal("us-east-1", doc.RootElement.GetProperty("region").GetString());
    }

    [Fact]
    public async Task Prices_narrow_to_the_instance_types_asked_for()
    {
        using var doc = JsonDocument.Parse(await _teamA.GetStringAsync("/api/prices?instanceType=p3.2xlarge"));

        var p3 = Assert.Single(doc.RootElement.GetProperty("prices").EnumerateArray());
        Assert.Equal(3.06, p3.GetProperty("onDemandPricePerHourUsd").GetDouble());
        Assert.Equal(0.612, p3.GetProperty("spotPricePerHourUsd").GetDouble());
        Assert.Equal(4, p3.GetProperty("interruptionBand").GetInt32());
    }

    [Fact]
    public async Task An_unknown_instance_type_is_400_naming_it()
    {
        var response = await _teamA.GetAsync("/api/prices?instanceType=p9.huge");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'p9.huge' not in the catalog", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Prices_and_instances_need_a_key()
    {
        using var anonymous = _factory.CreateClient();

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/prices")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/instances")).StatusCode);
    }

    [Fact]
    public async Task Instances_show_only_the_callers_teams()
    {
        var job = """{"jobId":"a-job","deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"type":"cpu_small"}}""";
        Assert.Equal(HttpStatusCode.Created, (await _teamA.PostAsync("/api/jobs", new StringContent(job, Encoding.UTF8, "application/json"))).StatusCode);
        await _factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);
        await _factory.Services.GetRequiredService<ReconcileLoop>().TickAsync(default);

        var mine = await _teamA.GetFromJsonAsync<JsonElement>("/api/instances");
        var theirs = await _teamB.GetFromJsonAsync<JsonElement>("/api/instances");

        var instance = Assert.Single(mine.EnumerateArray());
        Assert.Equal("a-job", instance.GetProperty("jobId").GetString());
        Assert.Equal(0, theirs.GetArrayLength());
    }
}
