using System.Globalization;
using Spotwise.Core;

namespace Spotwise.Planning.Tests;

/// <summary>Catalogs, jobs and problems the planner tests build on, and the checks every plan must pass.</summary>
public static class Fixtures
{
    public static readonly DateTimeOffset Now = new(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);

    public const string CatalogHeader =
        "instance_type,vcpus,memory_gib,gpus,gpu_model,on_demand_usd_per_hour,spot_savings_pct,spot_usd_per_hour_typical,interruption_band,interruption_freq_per_month";

    /// <summary>data/catalog/aws-us-east-1.csv, the catalog the product ships.</summary>
    public static Catalog RealCatalog => ShippedData.Catalog;

    /// <summary>A catalog of the given CSV rows (no header).</summary>
    public static Catalog TinyCatalog(params string[] rows)
    {
        using var reader = new StringReader(CatalogHeader + "\n" + string.Join("\n", rows));
        return CatalogCsv.Parse(reader, "test catalog");
    }

    /// <summary>A catalog row: 2 vCPUs per instance unless told, interruption band 0 unless told.</summary>
    public static string Row(string type, double onDemand, double spot, int vcpus = 2, int band = 0) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{type},{vcpus},8.0,0,,{onDemand:0.######},{Math.Round((1 - spot / onDemand) * 100)},{spot:0.######},{band},x");

    /// <summary>A job on explicit instance types, due <paramref name="deadlineHours"/> from now (none when null).</summary>
    public static Job Job(
        string id,
        double hours,
        double? deadlineHours,
        int priority = Spotwise.Core.Job.DefaultPriority,
        string[]? types = null,
        double earliestHours = 0,
        bool checkpointable = false,
        params string[] dependsOn) => new()
        {
            Id = id,
            DurationHours = hours,
            Deadline = deadlineHours is { } d ? Now.AddHours(d) : null,
            EarliestStart = earliestHours > 0 ? Now.AddHours(earliestHours) : null,
            Priority = priority,
            Resources = ResourceRequest.ForInstanceTypes(types ?? ["c5.large"]),
            Checkpointable = checkpointable,
            DependsOn = [.. dependsOn],
        };

    public static PlanningProblem Problem(IEnumerable<Job> jobs, Catalog catalog, CapacityLimits limits, int gridMinutes = 60) =>
        new(Now, [.. jobs], catalog, limits, PlanningSettings.Default with { GridMinutes = gridMinutes });

    /// <summary>One solver thread so test classes running side by side on two cores do not starve each other.</summary>
    public static SolveOptions Solve(double seconds = 5) => new() { TimeLimit = TimeSpan.FromSeconds(seconds), Workers = 1 };

    public static Plan PlanWith(IPlanner planner, PlanningProblem problem, SolveOptions? options = null)
    {
        var plan = Completed(planner.SolveAsync(problem, options ?? Solve(), CancellationToken.None));
        AssertValid(plan, problem);
        return plan;
    }

    /// <summary>
    /// The optimizers compute in place: their task has completed when <c>SolveAsync</c> returns (asserted, so reading
    /// it never blocks), which lets tests that need a thread of their own (a small stack) call them through IPlanner.
    /// </summary>
    public static Plan Completed(Task<Plan> solving)
    {
        Assert.True(solving.IsCompleted, "an optimizer's SolveAsync returned before its plan was ready");
        return solving.GetAwaiter().GetResult();
    }

    /// <summary>The validator finds nothing wrong, and every job is either scheduled or unplanned with a reason.</summary>
    public static void AssertValid(Plan plan, PlanningProblem problem)
    {
        var violations = PlanValidator.Validate(plan, problem);
        Assert.True(violations.Count == 0, $"the {plan.Planner} plan breaks the rules:\n{string.Join("\n", violations)}");
        Assert.All(plan.Unplanned, u => Assert.False(string.IsNullOrWhiteSpace(u.Reason), $"{u.JobId} is unplanned without a reason"));
        Assert.Equal(problem.Jobs.Length, plan.Schedule.Length + plan.Unplanned.Length);
        Assert.Equal(plan.Schedule.Length, plan.Totals.JobsPlanned);
        Assert.Equal(plan.Unplanned.Length, plan.Totals.JobsUnplanned);
    }

    public static Assignment Scheduled(Plan plan, string jobId) =>
        Assert.Single(plan.Schedule, a => a.JobId == jobId);

    public static UnplannedJob UnplannedOf(Plan plan, string jobId) =>
        Assert.Single(plan.Unplanned, u => u.JobId == jobId);

    /// <summary>The planned priority weight the optimizer maximises first: 2^(priority-1) per planned job.</summary>
    public static long PlannedWeight(Plan plan, PlanningProblem problem)
    {
        var byId = problem.Jobs.ToDictionary(j => j.Id, StringComparer.Ordinal);
        return plan.Schedule.Sum(a => 1L << (byId[a.JobId].Priority - 1));
    }
}
