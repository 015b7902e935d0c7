using System.Globalization;
using Spotwise.Core;

namespace Spotwise.Planning.Llm.Tests;

/// <summary>A model may place a job in another region than its data: the move is priced and timed, or refused and repaired (issue 12).</summary>
public class MultiRegionProposalTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    private static readonly InstanceType C5 = new("c5.large", 2, 4, 0, null);

    /// <summary>c5.large spot $0.60/h in us-east-1a, $0.30/h in us-west-2a; data moves east to west at $0.02/GB, and not back.</summary>
    private static readonly Catalog EastAndWest = Catalog.Combine(
    [
        new Catalog("aws", "us-east-1", [new CatalogEntry(C5, 1.00, 0.60, 0) { SpotZones = [new ZoneSpotPrice("us-east-1a", 0.60)] }]),
        new Catalog("aws", "us-west-2", [new CatalogEntry(C5, 1.10, 0.30, 0) { SpotZones = [new ZoneSpotPrice("us-west-2a", 0.30)] }]),
    ], new TransferPrices([("us-east-1", "us-west-2", 0.02)]));

    private static Job C5Job(string id, double gb, string? dataRegion = null) => new()
    {
        Id = id,
        DurationHours = 10,
        Resources = ResourceRequest.ForInstanceTypes(["c5.large"]),
        InputDataSizeGB = gb,
        DataRegion = dataRegion,
    };

    private static PlanningProblem Problem(params Job[] jobs) => new(Now, jobs, EastAndWest, CapacityLimits.Default);

    [Fact]
    public void A_proposal_in_another_region_is_priced_with_the_move_and_runs_longer_by_it()
    {
        // 45 GB: 45 × 8 / 1 = 360 s = 0.1 h more on the instance, and $0.90 to move.
        var problem = Problem(C5Job("far", 45));
        var options = OptionBuilder.Build(problem);

        var (plan, unreadable) = Proposal.ToPlan("llm", problem, options, [Entry("far", "us-west-2a")]);

        Assert.Empty(unreadable);
        var a = Assert.Single(plan.Schedule);
        Assert.Equal("us-west-2", a.Offer.Region);
        Assert.Equal(Now.AddHours(10.1), a.End);
        var west = options[0].Options.Single(o => o.Offer.Zone == "us-west-2a");
        Assert.Equal(PlanBuilder.Round(west.ExpectedCostUsd), a.ExpectedCostUsd);
        Assert.Empty(PlanValidator.Validate(plan, problem));
    }

    [Fact]
    public void The_prompt_names_the_regions_and_how_long_a_far_option_runs()
    {
        var problem = Problem(C5Job("far", 45));

        var chunk = Assert.Single(PlanPrompt.Build(problem, OptionBuilder.Build(problem), PromptBudget.Default));

        Assert.Contains("Regions (home first; a job's options already price moving its data): us-east-1, us-west-2", chunk.User, StringComparison.Ordinal);
        Assert.Contains("\"zone\":\"us-west-2a\",\"costUsd\":", chunk.User, StringComparison.Ordinal);
        Assert.Contains("\"runHours\":10.1", chunk.User, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_proposal_in_a_region_the_data_cannot_reach_is_refused_and_repaired_where_it_can_run()
    {
        var problem = Problem(C5Job("stuck", 45, dataRegion: "us-west-2"), C5Job("fine", 1));
        var options = OptionBuilder.Build(problem);
        var (proposal, _) = Proposal.ToPlan("llm", problem, options, [Entry("stuck", "us-east-1a"), Entry("fine", "us-west-2a")]);
        var violations = PlanValidator.Validate(proposal, problem);

        var violation = Assert.Single(violations);
        Assert.Equal((ViolationKind.NoTransferPrice, "stuck"), (violation.Kind, violation.JobId));

        var repaired = await ProposalRepair.RepairAsync("llm", problem, options, proposal, violations, new CpSatPlanner(), LlmFixtures.Solve,
            CancellationToken.None);

        Assert.Equal(1, repaired.Kept);
        Assert.Equal("stuck", Assert.Single(repaired.Replanned).JobId);
        Assert.Equal("us-west-2a", repaired.Plan.Schedule.Single(a => a.JobId == "stuck").Offer.Zone);
        Assert.Equal("us-west-2a", repaired.Plan.Schedule.Single(a => a.JobId == "fine").Offer.Zone);
        Assert.Empty(PlanValidator.Validate(repaired.Plan, problem));
    }

    private static ProposedAssignment Entry(string job, string zone) =>
        new(job, "spot", "c5.large", zone, Now.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
}
