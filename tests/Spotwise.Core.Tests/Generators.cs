using System.Collections.Immutable;
using CsCheck;

namespace Spotwise.Core.Tests;

/// <summary>Random jobs and queues of jobs, and random valid plans for them over a slice of the real catalog.</summary>
public static class Generators
{
    private static readonly string[] TypeNames = [.. TestData.CatalogSlice.Entries.Select(e => e.Type.Name)];

    public static Gen<ResourceRequest> Resources { get; } = Gen.Frequency(
        (6, Gen.OneOfConst([.. ResourceClasses.Presets.Values.OrderBy(p => p.ClassName, StringComparer.Ordinal)])),
        (1, Gen.Int[0, TypeNames.Length - 1].Array[1, 3].Select(ix => ResourceRequest.ForInstanceTypes(ix.Select(i => TypeNames[i]).Distinct()))),
        (1, Gen.Select(Gen.Int[0, 6], Gen.Int[0, 3], Gen.Int[0, 2], (log2Vcpus, log2MemoryPerVcpu, gpus) => new ResourceRequest
        {
            MinVcpus = 1 << log2Vcpus,
            MinMemoryGiB = (1 << log2Vcpus) * (1 << log2MemoryPerVcpu),
            MinGpus = gpus,
        })));

    private sealed record JobSpec(
        int DurationMinutes,
        ResourceRequest Resources,
        int Priority,
        int? CheckpointMinutes,
        int? RestartMinutes,
        int? EarliestOffsetMinutes,
        int? SlackMinutes,
        int DependencyMask);

    private static readonly Gen<JobSpec> Spec = Gen.Select(
        Gen.Select(Gen.Int[15, 16 * 60], Resources, Gen.Int[Job.MinPriority, Job.MaxPriority]),
        Gen.Select(Gen.Int[5, 180].Nullable(0.5), Gen.Int[0, 30].Nullable(0.5)),
        Gen.Select(Gen.Int[-120, 12 * 60].Nullable(0.5), Gen.Int[-60, 36 * 60].Nullable(0.2)),
        Gen.Select(Gen.Int[0, 255], Gen.Int[0, 255], (a, b) => a & b),
        (a, b, c, deps) => new JobSpec(a.Item1, a.Item2, a.Item3, b.Item1, b.Item2, c.Item1, c.Item2, deps));

    /// <summary>One job without dependencies.</summary>
    public static Gen<Job> SingleJob { get; } = Spec.Select(s => ToJob(s, 0));

    /// <summary>1..8 jobs; a job may depend on earlier ones only, so the dependencies form a DAG.</summary>
    public static Gen<ImmutableArray<Job>> Queue { get; } = Spec.Array[1, 8].Select(specs => specs.Select(ToJob).ToImmutableArray());

    private static Job ToJob(JobSpec s, int index)
    {
        var earliest = s.EarliestOffsetMinutes is { } e ? TestData.Now.AddMinutes(e) : (DateTimeOffset?)null;
        var ready = earliest > TestData.Now ? earliest.Value : TestData.Now;
        return new Job
        {
            Id = $"job-{index + 1}",
            Priority = s.Priority,
            EarliestStart = earliest,
            Deadline = s.SlackMinutes is { } slack ? ready.AddMinutes(s.DurationMinutes + slack) : null,
            DurationHours = s.DurationMinutes / 60.0,
            Resources = s.Resources,
            Checkpointable = s.CheckpointMinutes is not null,
            CheckpointIntervalHours = s.CheckpointMinutes / 60.0,
            RestartOverheadHours = s.RestartMinutes is { } r ? r / 60.0 : Job.DefaultRestartOverheadHours,
            DependsOn = [.. Enumerable.Range(0, index).Where(j => (s.DependencyMask & (1 << j)) != 0).Select(j => $"job-{j + 1}")],
        };
    }

    public static Gen<PlacementChoice> Choice { get; } = Gen.Select(
        Gen.Int[0, 7],
        Gen.Frequency((1, Gen.Const(0.0)), (1, Gen.Const(1.0)), (3, Gen.Double[0, 1])),
        Gen.Int[0, 9],
        (pick, fraction, unplanned) => new PlacementChoice(pick, fraction, unplanned == 0));

    /// <summary>A queue, planned validly (for unlimited capacity) by the test planner with random choices.</summary>
    public static Gen<Scenario> Scenarios { get; } = Gen.Select(Queue, Choice.Array[8], (jobs, choices) =>
    {
        var problem = new PlanningProblem(TestData.Now, jobs, TestData.CatalogSlice, CapacityLimits.None);
        return new Scenario(problem, TestPlanner.Plan(problem, choices));
    });
}

/// <summary>A problem and a plan for it; printed compactly when a property fails.</summary>
public sealed record Scenario(PlanningProblem Problem, Plan Plan)
{
    public Job JobOf(Assignment a) => Problem.Jobs.Single(j => j.Id == a.JobId);

    public override string ToString() =>
        string.Join("\n", Problem.Jobs.Select(j => FormattableString.Invariant(
            $"{j.Id}: {j.DurationHours:0.##}h {j.Resources.Describe()} es={j.EarliestStart:HH:mm} dl={j.Deadline:dd HH:mm} cp={j.Checkpointable} deps=[{string.Join(",", j.DependsOn)}]"))
            .Concat(Plan.Schedule.Select(a => FormattableString.Invariant(
                $"  {a.JobId} {a.Market.ToWire()} {a.Offer.InstanceType.Name} {a.Start:dd HH:mm:ss}-{a.End:dd HH:mm:ss} ${a.ExpectedCostUsd} fb={a.FallbackAt:dd HH:mm}")))
            .Concat(Plan.Unplanned.Select(u => $"  {u.JobId} unplanned: {u.Reason}")));
}
