using Spotwise.Core.Serialization;

namespace Spotwise.Core.Tests;

/// <summary>The commitments of a limits file: reserved instances and a savings plan (docs/limits.md).</summary>
public class CommitmentsFileTests
{
    private const string Declared = """
        { "reservedInstances": [ { "instanceType": "c5.large", "zone": "us-east-1a", "count": 4, "hourlyFeeUsd": 0.054 } ],
          "savingsPlan": { "committedUsdPerHour": 2.5, "discountRate": 0.28 } }
        """;

    private static IReadOnlyList<string> Errors(string json) =>
        [.. LimitsFile.Parse(json, TestData.Catalog).Errors.Select(e => e.ToString())];

    [Fact]
    public void Reserved_instances_and_a_savings_plan_are_read()
    {
        var result = LimitsFile.Parse(Declared, TestData.Catalog);

        Assert.True(result.Ok, string.Join("\n", result.Errors));
        var commitments = result.Value!.Commitments;
        Assert.Equal(new ReservedInstance("c5.large", "us-east-1a", 4, 0.054), Assert.Single(commitments.ReservedInstances));
        Assert.Equal(new SavingsPlan(2.5, 0.28), commitments.SavingsPlan);
        Assert.Equal("reserved:c5.large@us-east-1a", commitments.ReservedInstances[0].Name);
    }

    [Fact]
    public void A_file_without_commitments_has_none()
    {
        var result = LimitsFile.Parse("""{ "defaultSpotPoolSize": 8 }""", TestData.Catalog);

        Assert.True(result.Value!.Commitments.IsEmpty);
    }

    [Theory]
    [InlineData("""{ "reservedInstances": [ { "instanceType": "c9.huge", "zone": "us-east-1a", "count": 1, "hourlyFeeUsd": 0.1 } ] }""",
        "reservedInstances[0].instanceType: 'c9.huge' is not an instance type of the catalog")]
    [InlineData("""{ "reservedInstances": [ { "instanceType": "c5.large", "zone": "eu-west-1a", "count": 1, "hourlyFeeUsd": 0.1 } ] }""",
        "reservedInstances[0].zone: 'eu-west-1a' is not a zone of the catalog's regions")]
    [InlineData("""{ "reservedInstances": [ { "instanceType": "c5.large", "zone": "us-east-1a", "count": 0, "hourlyFeeUsd": 0.1 } ] }""",
        "reservedInstances[0].count: must be a whole number from 1 to 100000, found 0")]
    [InlineData("""{ "reservedInstances": [ { "instanceType": "c5.large", "zone": "us-east-1a", "count": 2.5, "hourlyFeeUsd": 0.1 } ] }""",
        "reservedInstances[0].count: must be a whole number from 1 to 100000, found 2.5")]
    [InlineData("""{ "reservedInstances": [ { "instanceType": "c5.large", "zone": "us-east-1a", "count": 1, "hourlyFeeUsd": -1 } ] }""",
        "reservedInstances[0].hourlyFeeUsd: must be a number of USD >= 0, found -1")]
    [InlineData("""{ "reservedInstances": [ { "instanceType": "c5.large", "zone": "us-east-1a", "count": 1 } ] }""",
        "reservedInstances[0].hourlyFeeUsd: must be a number of USD >= 0, found nothing")]
    [InlineData("""{ "reservedInstances": [ { "instanceType": "c5.large", "zone": "us-east-1a", "count": 1, "hourlyFeeUsd": 0.1, "cout": 2 } ] }""",
        "reservedInstances[0].cout: is not a field here; known: instanceType, zone, count, hourlyFeeUsd")]
    [InlineData("""{ "reservedInstances": { "instanceType": "c5.large" } }""",
        "reservedInstances: must be an array")]
    [InlineData("""{ "savingsPlan": { "committedUsdPerHour": 2.5, "discountRate": 1.2 } }""",
        "savingsPlan.discountRate: must be a fraction between 0 and 1, e.g. 0.28 for 28% off, found 1.2")]
    [InlineData("""{ "savingsPlan": { "committedUsdPerHour": 0, "discountRate": 0.3 } }""",
        "savingsPlan.committedUsdPerHour: must be a number of USD per hour above 0 (at most 100000), found 0")]
    [InlineData("""{ "savingsPlan": { "committedUsdPerHour": "lots", "discountRate": 0.3 } }""",
        "savingsPlan.committedUsdPerHour: must be a number of USD per hour above 0 (at most 100000), found \"lots\"")]
    [InlineData("""{ "savingsPlan": 3 }""",
        "savingsPlan: must be an object with committedUsdPerHour, discountRate, found 3")]
    public void A_bad_commitment_is_refused_naming_the_field_and_the_value(string json, string expected)
    {
        var error = Assert.Single(Errors(json));

        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.StartsWith("limits file: ", error, StringComparison.Ordinal);
    }

    [Fact]
    public void One_reservation_declared_twice_is_refused()
    {
        var error = Assert.Single(Errors("""
            { "reservedInstances": [ { "instanceType": "c5.large", "zone": "us-east-1a", "count": 1, "hourlyFeeUsd": 0.1 },
                                     { "instanceType": "c5.large", "zone": "us-east-1a", "count": 2, "hourlyFeeUsd": 0.1 } ] }
            """));

        Assert.Contains("reservedInstances[1].zone: c5.large in 'us-east-1a' is declared twice", error, StringComparison.Ordinal);
    }
}
