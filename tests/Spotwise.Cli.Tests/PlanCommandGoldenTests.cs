using System.Text.Json;

namespace Spotwise.Cli.Tests;

/// <summary>
/// The seed sample at a fixed moment gives the same plan every time. To accept an intended change, run the tests
/// with SPOTWISE_UPDATE_GOLDEN=1 and review the diff of the Golden folder.
/// </summary>
public class PlanCommandGoldenTests
{
    [Fact]
    public void Seed_sample_table_matches_the_golden_output()
    {
        var (code, output, err) = CliRunner.Run("plan", RepoPaths.Sample("seed-jobs.json"), "--now", "2026-11-24T12:00:00Z");
        Assert.Equal("", err);
        // job-002 cannot do its hour of work in its hour after a 90 s boot: refused, with the reason (exit 1).
        Assert.Equal(1, code);
        AssertGolden("seed-plan.txt", CliRunner.MaskTimings(output));
    }

    [Fact]
    public void Seed_sample_json_matches_the_golden_document()
    {
        var (code, output, _) = CliRunner.Run("plan", RepoPaths.Sample("seed-jobs.json"), "--now", "2026-11-24T12:00:00Z", "--format", "json");
        Assert.Equal(1, code);
        AssertGolden("seed-plan.json", CliRunner.MaskTimings(output));
    }

    [Fact]
    public void Json_output_carries_every_field_of_the_plan_document()
    {
        var (_, output, _) = CliRunner.Run("plan", RepoPaths.Sample("seed-jobs.json"), "--now", "2026-11-24T12:00:00Z", "--format", "json");
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        foreach (var field in new[] { "planner", "now", "status", "totals", "schedule", "unplanned", "launchAllowanceSeconds" })
        {
            Assert.True(root.TryGetProperty(field, out _), $"missing {field}");
        }
        foreach (var field in new[] { "expectedCostUsd", "onDemandCostUsd", "savingsPct", "lowerBoundUsd", "gapPct", "solveSeconds", "jobsPlanned", "jobsUnplanned", "deadlinesAtRisk" })
        {
            Assert.True(root.GetProperty("totals").TryGetProperty(field, out _), $"missing totals.{field}");
        }
        var spot = root.GetProperty("schedule").EnumerateArray().First(a => a.GetProperty("market").GetString() == "spot");
        foreach (var field in new[] { "jobId", "market", "instanceType", "zone", "startTime", "endTime", "pricePerHourUsd", "expectedCostUsd", "fallbackAt", "reason" })
        {
            Assert.True(spot.TryGetProperty(field, out _), $"missing schedule[].{field}");
        }
    }

    private static void AssertGolden(string name, string actual)
    {
        var path = Path.Combine(RepoPaths.Root, "tests", "Spotwise.Cli.Tests", "Golden", name);
        if (Environment.GetEnvironmentVariable("SPOTWISE_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
        }
        Assert.True(File.Exists(path), $"golden file {path} is missing; run with SPOTWISE_UPDATE_GOLDEN=1 to create it");
        Assert.Equal(File.ReadAllText(path), actual);
    }
}
