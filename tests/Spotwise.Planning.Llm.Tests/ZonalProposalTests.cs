using System.Globalization;
using Spotwise.Core;

namespace Spotwise.Planning.Llm.Tests;

/// <summary>When the feed knows zones, the model sees each option's zone, may name one, and is held to it.</summary>
public class ZonalProposalTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private static readonly InstanceType C5 = new("c5.large", 2, 4, 0, null);

    private static readonly Catalog TwoZones = new("aws", "us-east-1",
    [
        new CatalogEntry(C5, 0.10, 0.03, 0) { SpotZones = [new ZoneSpotPrice("us-east-1a", 0.05), new ZoneSpotPrice("us-east-1b", 0.03)] },
    ]);

    private static readonly PlanningProblem Problem = new(Now,
        [new Job { Id = "a", DurationHours = 1, Deadline = Now.AddHours(12), Resources = ResourceRequest.ForInstanceTypes(["c5.large"]) }],
        TwoZones, CapacityLimits.Default);

    [Fact]
    public void The_prompt_lists_each_options_zone_and_the_schema_allows_exactly_those_zones()
    {
        var options = OptionBuilder.Build(Problem);

        var chunk = Assert.Single(PlanPrompt.Build(Problem, options, PromptBudget.Default));

        Assert.Contains("\"zone\":\"us-east-1b\"", chunk.User, StringComparison.Ordinal);
        Assert.Contains("\"zone\":\"us-east-1a\"", chunk.User, StringComparison.Ordinal);
        var zones = chunk.Schema.GetProperty("properties").GetProperty("schedule").GetProperty("items").GetProperty("properties").GetProperty("zone")
            .GetProperty("enum").EnumerateArray().Select(z => z.GetString());
        Assert.Equal(["us-east-1", "us-east-1a", "us-east-1b"], zones);
    }

    [Fact]
    public void A_proposal_naming_a_zone_is_priced_at_that_zone_and_one_naming_a_zone_without_spot_is_refused()
    {
        var options = OptionBuilder.Build(Problem);

        var (inA, _) = Proposal.ToPlan("llm", Problem, options, [Entry("us-east-1a")]);
        var (nowhere, _) = Proposal.ToPlan("llm", Problem, options, [Entry("us-east-1")]);

        Assert.Equal(0.05, inA.Schedule[0].Offer.PricePerHourUsd);
        Assert.Empty(PlanValidator.Validate(inA, Problem));
        Assert.Equal(ViolationKind.UnknownZone, Assert.Single(PlanValidator.Validate(nowhere, Problem)).Kind);
    }

    private static ProposedAssignment Entry(string zone) =>
        new("a", "spot", "c5.large", zone, Now.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
}
