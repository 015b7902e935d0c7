using System.Text.Json;
using Spotwise.Core.Serialization;

namespace Spotwise.Core.Tests;

public class PlanDocumentTests
{
    private static readonly DateTimeOffset Now = TestData.Now;

    private static readonly Job Train = TestData.Job("train", 6, Now.AddHours(20), "gpu_large", checkpointable: true);

    /// <summary>One job on spot, one on on-demand, one that cannot meet its deadline.</summary>
    private static readonly Lazy<(Plan Plan, JsonElement Root)> Document = new(() =>
    {
        var problem = new PlanningProblem(Now, [
            Train,
            TestData.Job("etl", 2, Now.AddHours(3), "cpu_medium"),
            TestData.Job("late", 5, Now.AddHours(1)),
        ], TestData.Catalog, CapacityLimits.Default);
        var plan = TestPlanner.CheapestAtEarliest(problem);
        using var doc = JsonDocument.Parse(PlanDocument.From(plan).ToJson());
        return (plan, doc.RootElement.Clone());
    });

    private static JsonElement Root => Document.Value.Root;

    private static List<string> Names(JsonElement obj) => [.. obj.EnumerateObject().Select(p => p.Name)];

    private static JsonElement Entry(string jobId) => Root.GetProperty("schedule").EnumerateArray().Single(e => e.GetProperty("jobId").GetString() == jobId);

    [Fact]
    public void The_top_level_has_exactly_the_public_fields() =>
        Assert.Equal(["planner", "now", "status", "totals", "schedule", "unplanned", "launchAllowanceSeconds"], Names(Root));

    [Fact]
    public void The_llm_section_is_written_only_for_a_model_plan_with_exactly_its_public_fields()
    {
        var plan = Document.Value.Plan with
        {
            Llm = new LlmReport
            {
                Model = "gemini/gemini-2.5-flash",
                LatencySeconds = 1.23456,
                TokensIn = 100,
                TokensOut = 20,
                Chunks = 1,
                Violations = [new Violation(ViolationKind.OverCapacity, "etl", "pool full")],
                Repaired = [new LlmRepair("etl", "OverCapacity: pool full")],
                Kept = 1,
                CostVsOptimizerPct = 2.345,
            },
        };
        using var doc = JsonDocument.Parse(PlanDocument.From(plan).ToJson());
        var llm = doc.RootElement.GetProperty("llm");

        Assert.False(Root.TryGetProperty("llm", out _));
        Assert.Equal(["model", "latencySeconds", "tokensIn", "tokensOut", "chunks", "rawProposalValid", "violations", "repaired", "kept", "costVsOptimizerPct"], Names(llm));
        Assert.Equal(2.35, llm.GetProperty("costVsOptimizerPct").GetDouble());
        Assert.Equal("over-capacity", llm.GetProperty("violations")[0].GetProperty("kind").GetString());
        Assert.Equal("etl", llm.GetProperty("repaired")[0].GetProperty("jobId").GetString());
    }

    [Fact]
    public void Totals_have_exactly_the_public_fields() =>
        Assert.Equal(
            ["expectedCostUsd", "onDemandCostUsd", "savingsPct", "lowerBoundUsd", "gapPct", "solveSeconds", "jobsPlanned", "jobsUnplanned", "deadlinesAtRisk"],
            Names(Root.GetProperty("totals")));

    [Fact]
    public void A_spot_entry_has_exactly_the_public_fields_with_its_fallback_moment()
    {
        var spot = Entry("train");

        Assert.Equal(
            ["jobId", "market", "instanceType", "zone", "startTime", "endTime", "pricePerHourUsd", "expectedCostUsd", "fallbackAt", "reason"],
            Names(spot));
        Assert.Equal("spot", spot.GetProperty("market").GetString());
        Assert.Equal(CostModel.FallbackAt(Train), spot.GetProperty("fallbackAt").GetDateTimeOffset());
    }

    [Fact]
    public void An_on_demand_entry_has_no_fallback_moment()
    {
        var onDemand = Entry("etl");

        Assert.Equal("on-demand", onDemand.GetProperty("market").GetString());
        Assert.Equal(
            ["jobId", "market", "instanceType", "zone", "startTime", "endTime", "pricePerHourUsd", "expectedCostUsd", "reason"],
            Names(onDemand));
    }

    [Fact]
    public void Unplanned_entries_have_a_job_id_and_a_reason()
    {
        var late = Assert.Single(Root.GetProperty("unplanned").EnumerateArray());

        Assert.Equal(["jobId", "reason"], Names(late));
        Assert.Equal("late", late.GetProperty("jobId").GetString());
        Assert.Contains("cannot be met", late.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Values_carry_the_plan_status_in_lower_case_times_with_offset_and_money_as_numbers()
    {
        var plan = Document.Value.Plan;
        var etl = plan.Schedule.Single(a => a.JobId == "etl");
        var entry = Entry("etl");

        Assert.Equal("infeasible", Root.GetProperty("status").GetString());
        Assert.Equal("test", Root.GetProperty("planner").GetString());
        Assert.Equal("2026-11-24T08:00:00+00:00", Root.GetProperty("now").GetString());
        Assert.Equal(etl.Start, entry.GetProperty("startTime").GetDateTimeOffset());
        Assert.Equal(etl.Offer.PricePerHourUsd, entry.GetProperty("pricePerHourUsd").GetDouble());
        Assert.Equal(etl.ExpectedCostUsd, entry.GetProperty("expectedCostUsd").GetDouble());
        Assert.Equal("us-east-1", entry.GetProperty("zone").GetString());
        Assert.Equal((2, 1), (Root.GetProperty("totals").GetProperty("jobsPlanned").GetInt32(), Root.GetProperty("totals").GetProperty("jobsUnplanned").GetInt32()));
        Assert.Equal(plan.Totals.ExpectedCostUsd, Root.GetProperty("totals").GetProperty("expectedCostUsd").GetDouble());
    }

    [Fact]
    public void Renaming_jobs_keeps_the_chosen_jobs_under_their_new_ids_in_every_per_job_list_and_the_totals_whole()
    {
        var whole = PlanDocument.From(Document.Value.Plan) with
        {
            Llm = new PlanDocument.LlmView("m", 1, 10, 20, 1, false,
                [new("missed-deadline", "train", "train ends late"), new("missed-deadline", "etl", "etl ends late"), new("malformed-assignment", null, "not JSON")],
                [new("train", "re-planned"), new("etl", "re-planned")], 1, null, 0.5, "llm"),
        };

        var part = whole.RenameJobs(id => id is "etl" or "late" ? id.ToUpperInvariant() : null, text => "<" + text + ">");

        Assert.Equal(["ETL"], part.Schedule.Select(a => a.JobId));
        Assert.Equal(["LATE"], part.Unplanned.Select(u => u.JobId));
        Assert.Equal([(string?)"ETL", null], part.Llm!.Violations.Select(v => v.JobId));
        Assert.Equal(["<etl ends late>", "<not JSON>"], part.Llm.Violations.Select(v => v.Message));
        Assert.Equal(["ETL"], part.Llm.Repaired.Select(r => r.JobId));
        Assert.Equal(["<re-planned>"], part.Llm.Repaired.Select(r => r.Reason));
        Assert.Equal([.. whole.Schedule.Where(a => a.JobId == "etl").Select(a => $"<{a.Reason}>")], part.Schedule.Select(a => a.Reason));
        Assert.Equal([.. whole.Unplanned.Where(u => u.JobId == "late").Select(u => $"<{u.Reason}>")], part.Unplanned.Select(u => u.Reason));
        Assert.Equal(whole.Totals, part.Totals);
    }
}
