using Spotwise.Core;

namespace Spotwise.Bench.Workloads;

/// <summary>Figures about a generated queue, for the command's summary and docs/workloads.md.</summary>
public sealed record WorkloadStats(
    int Jobs,
    int GpuJobs,
    int MultiGpuJobs,
    int Checkpointable,
    TimeSpan EarliestStartSpan,
    double DurationP50Hours,
    double DurationP90Hours,
    int AtMinDuration,
    int AtMaxDuration,
    IReadOnlyList<double> SlackHoursQuantiles,
    IReadOnlyList<double> SlackShareQuantiles,
    IReadOnlyDictionary<int, int> ByPriority,
    int Unsatisfiable,
    IReadOnlyList<KeyValuePair<string, int>> CheapestFits)
{
    /// <summary>The quantiles reported for slack: p10, p50, p90.</summary>
    public static readonly double[] Quantiles = [0.1, 0.5, 0.9];

    public static WorkloadStats Of(IReadOnlyList<Job> jobs, Catalog catalog)
    {
        var durations = jobs.Select(j => j.DurationHours).Order().ToList();
        var starts = jobs.Select(j => j.EarliestStart!.Value).ToList();
        // Slack: how much later than its earliest start a job may start and still meet its deadline.
        var slack = jobs.Select(j => (j.Deadline!.Value - j.EarliestStart!.Value).TotalHours - j.DurationHours).ToList();
        var share = jobs.Select((j, i) => slack[i] / j.DurationHours).Order().ToList();
        return new WorkloadStats(
            jobs.Count,
            jobs.Count(j => j.Resources.MinGpus > 0),
            jobs.Count(j => j.Resources.MinGpus > 1),
            jobs.Count(j => j.Checkpointable),
            starts.Max() - starts.Min(),
            Quantile(durations, 0.5),
            Quantile(durations, 0.9),
            jobs.Count(j => Math.Abs(j.DurationHours - AlibabaWorkload.MinDuration.TotalHours) < 1e-9),
            jobs.Count(j => Math.Abs(j.DurationHours - AlibabaWorkload.MaxDuration.TotalHours) < 1e-9),
            [.. Quantiles.Select(q => Quantile([.. slack.Order()], q))],
            [.. Quantiles.Select(q => Quantile(share, q))],
            jobs.GroupBy(j => j.Priority).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count()),
            CountUnsatisfiable(jobs, catalog),
            CountCheapestFits(jobs, catalog));
    }

    /// <summary>How many jobs each instance type is the cheapest on-demand fit for, most first: where the queue lands.</summary>
    public static IReadOnlyList<KeyValuePair<string, int>> CountCheapestFits(IReadOnlyList<Job> jobs, Catalog catalog) =>
        [.. jobs.GroupBy(j => j.Resources.Describe(), StringComparer.Ordinal)
            .Select(g => (Type: CheapestFit(g.First().Resources, catalog), Jobs: g.Count()))
            .GroupBy(x => x.Type ?? "(none)", StringComparer.Ordinal)
            .Select(g => KeyValuePair.Create(g.Key, g.Sum(x => x.Jobs)))
            .OrderByDescending(p => p.Value).ThenBy(p => p.Key, StringComparer.Ordinal)];

    private static string? CheapestFit(ResourceRequest request, Catalog catalog) =>
        catalog.Entries.Where(e => request.IsSatisfiedBy(e.Type)).MinBy(e => e.OnDemandPricePerHourUsd)?.Type.Name;

    /// <summary>Jobs whose request no instance type of the catalog meets: a planner must report them, not place them.</summary>
    public static int CountUnsatisfiable(IReadOnlyList<Job> jobs, Catalog catalog) =>
        jobs.GroupBy(j => j.Resources.Describe(), StringComparer.Ordinal) // a queue repeats few distinct requests
            .Where(g => !catalog.Entries.Any(e => g.First().Resources.IsSatisfiedBy(e.Type)))
            .Sum(g => g.Count());

    /// <summary>Nearest-rank quantile of sorted values.</summary>
    public static double Quantile(IReadOnlyList<double> sorted, double q) =>
        sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];
}
