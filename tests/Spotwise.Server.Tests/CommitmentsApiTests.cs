using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Runtime;

namespace Spotwise.Server.Tests;

/// <summary>
/// Commitments from <c>Spotwise:Limits</c> through the service: the scheduler plans onto the reservation, the plan says
/// which job uses it, and the money view shows how much of each commitment the work in hand uses.
/// </summary>
public sealed class CommitmentsApiTests : IAsyncLifetime, IDisposable
{
    private const string Limits = """
        { "reservedInstances": [ { "instanceType": "c5.large", "zone": "us-east-1a", "count": 2, "hourlyFeeUsd": 0.054 } ],
          "savingsPlan": { "committedUsdPerHour": 1.5, "discountRate": 0.28 } }
        """;

    private readonly string _limitsFile = Path.Combine(Directory.CreateTempSubdirectory("spotwise-limits-").FullName, "limits.json");
    private readonly SpotwiseServerFactory _factory;
    private HttpClient _teamA = null!;
    private HttpClient _teamB = null!;

    public CommitmentsApiTests()
    {
        File.WriteAllText(_limitsFile, Limits);
        _factory = new(new Dictionary<string, string> { ["Spotwise:Limits"] = _limitsFile });
    }

    public Task InitializeAsync()
    {
        _teamA = _factory.ClientFor("k1");
        _teamB = _factory.ClientFor("k2");
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    public void Dispose()
    {
        _teamA.Dispose();
        _teamB.Dispose();
        _factory.Dispose();
    }

    private static StringContent Job(string id) => new(
        $$$"""{"jobId":"{{{id}}}","deadline":"+24h","estimatedDurationHours":2,"resourceRequirements":{"instanceTypes":["c5.large"]}}""",
        Encoding.UTF8, "application/json");

    [Fact]
    public async Task Reserved_instances_are_planned_first_and_the_plan_and_the_money_view_show_their_use()
    {
        await _teamA.PostAsync("/api/jobs", Job("a1"));
        await _teamA.PostAsync("/api/jobs", Job("a2"));
        await _teamB.PostAsync("/api/jobs", Job("b1"));

        await _factory.Services.GetRequiredService<Scheduler>().RunCycleAsync(default);

        using var plan = JsonDocument.Parse(await _teamA.GetStringAsync("/api/plan"));
        var commitments = plan.RootElement.GetProperty("schedule").EnumerateArray()
            .Select(a => a.TryGetProperty("commitment", out var c) ? c.GetString() : null).ToList();
        // A cycle the submissions signalled may have planned a job already (due now, it is then held, not in the latest
        // plan): whichever of the team's jobs the plan holds run on the reservation.
        Assert.NotEmpty(commitments);
        Assert.All(commitments, c => Assert.Equal("reserved:c5.large@us-east-1a", c));
        var money = await _teamA.GetFromJsonAsync<MoneyView>("/api/money");
        var reserved = Assert.Single(money!.Commitments!.Reserved);
        // Two reserved instances, three jobs of 2 h with a day to run: at 0 $/h the third waits for one rather than pay,
        // so 6 of the day's 48 instance-hours are used, by both teams (commitments are the account's).
        Assert.Equal(("reserved:c5.large@us-east-1a", 6.0, 48.0), (reserved.Commitment, reserved.UsedInstanceHours, reserved.AvailableInstanceHours));
        Assert.Equal((0.0, 36.0), (money.Commitments.SavingsPlan!.UsedUsd, money.Commitments.SavingsPlan.CommittedUsd));
    }

    [Fact]
    public async Task Money_has_no_commitments_section_when_none_are_declared()
    {
        await using var plain = new SpotwiseServerFactory();
        using var client = plain.ClientFor("k1");

        using var money = JsonDocument.Parse(await client.GetStringAsync("/api/money"));

        Assert.True(!money.RootElement.TryGetProperty("commitments", out var none) || none.ValueKind == JsonValueKind.Null, money.RootElement.ToString());
    }
}
