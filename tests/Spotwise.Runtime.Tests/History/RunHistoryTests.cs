using Spotwise.Core;
using Spotwise.Runtime.History;

namespace Spotwise.Runtime.Tests.History;

/// <summary>The estimator: what finished jobs teach about estimates, per team and resource, with its prior and minimum sample.</summary>
public sealed class RunHistoryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 24, 12, 0, 0, TimeSpan.Zero);
    private static int _next;

    /// <summary>A job of <paramref name="team"/> estimated at <paramref name="estimateHours"/> that succeeded on its first attempt after <paramref name="ranHours"/>.</summary>
    internal static JobRecord Finished(string team, double estimateHours, double ranHours, string resourceClass = "cpu_small", int attempt = 1,
        JobState state = JobState.Succeeded, int age = 0)
    {
        var started = T0.AddHours(-100 + age);
        return new JobRecord
        {
            Job = new Job { Id = $"done-{Interlocked.Increment(ref _next)}", DurationHours = estimateHours, Resources = ResourceClasses.Presets[resourceClass] },
            Team = team,
            SubmittedAt = started,
            State = state,
            Attempt = attempt,
            StartedAt = started,
            FinishedAt = started.AddHours(ranHours),
        };
    }

    private static RunHistory History(params IEnumerable<JobRecord> records) => RunHistory.From(records, RunHistoryOptions.Default);

    private static Job Next(double hours, string resourceClass = "cpu_small") =>
        new() { Id = "next", DurationHours = hours, Resources = ResourceClasses.Presets[resourceClass] };

    [Fact]
    public void Without_history_the_estimate_is_used_as_submitted()
    {
        var estimate = RunHistory.Empty.EstimateFor("ml", Next(3), 3);

        Assert.Equal(new RuntimeEstimate(3, 1, 3, 0), estimate);
    }

    [Fact]
    public void Below_the_minimum_sample_the_estimate_stays_as_submitted()
    {
        var history = History(Enumerable.Range(0, 4).Select(_ => Finished("ml", 1, 2)));

        var estimate = history.EstimateFor("ml", Next(3), 3);

        Assert.Equal(new RuntimeEstimate(3, 1, 3, 4), estimate);
    }

    [Fact]
    public void At_the_minimum_sample_the_ratio_is_shrunk_toward_the_prior()
    {
        var history = History(Enumerable.Range(0, 5).Select(_ => Finished("ml", 1, 2)));

        var estimate = history.EstimateFor("ml", Next(3), 3);

        // 2^(5/7): five jobs at 2x against a prior of two jobs at 1x, in log space.
        Assert.Equal(1.64, estimate.Ratio);
        Assert.Equal(3 * 1.64, estimate.UsedHours, 9);
        Assert.Equal(5, estimate.Samples);
    }

    [Fact]
    public void More_samples_pull_the_ratio_closer_to_what_the_jobs_ran()
    {
        var five = History(Enumerable.Range(0, 5).Select(_ => Finished("ml", 1, 2))).EstimateFor("ml", Next(1), 1).Ratio;
        var twenty = History(Enumerable.Range(0, 20).Select(_ => Finished("ml", 1, 2))).EstimateFor("ml", Next(1), 1).Ratio;

        Assert.True(five < twenty && twenty < 2, $"5 samples {five}, 20 samples {twenty}");
        Assert.Equal(1.88, twenty);
    }

    [Fact]
    public void Jobs_that_ran_shorter_than_estimated_shorten_the_plan()
    {
        var history = History(Enumerable.Range(0, 10).Select(_ => Finished("ml", 4, 2)));

        Assert.Equal(Math.Round(Math.Pow(0.5, 10.0 / 12), 2), history.EstimateFor("ml", Next(4), 4).Ratio);
    }

    [Fact]
    public void Each_team_and_resource_learns_on_its_own()
    {
        var history = History([
            .. Enumerable.Range(0, 6).Select(_ => Finished("ml", 1, 3)),
            .. Enumerable.Range(0, 6).Select(_ => Finished("ml", 1, 1, resourceClass: "gpu_medium")),
        ]);

        Assert.True(history.EstimateFor("ml", Next(1), 1).Ratio > 2);
        Assert.Equal(1, history.EstimateFor("ml", Next(1, "gpu_medium"), 1).Ratio);
        Assert.Equal(new RuntimeEstimate(1, 1, 1, 0), history.EstimateFor("analytics", Next(1), 1));
    }

    [Fact]
    public void Retried_failed_and_unfinished_jobs_are_not_samples()
    {
        var history = History([
            .. Enumerable.Range(0, 5).Select(_ => Finished("ml", 1, 5, attempt: 2)),
            .. Enumerable.Range(0, 5).Select(_ => Finished("ml", 1, 5, state: JobState.Failed)),
            .. Enumerable.Range(0, 5).Select(_ => Finished("ml", 1, 5) with { FinishedAt = null }),
        ]);

        Assert.Equal(0, history.EstimateFor("ml", Next(1), 1).Samples);
    }

    [Fact]
    public void A_runaway_job_counts_as_at_most_ten_times_its_estimate()
    {
        var bounded = History([.. Enumerable.Range(0, 4).Select(_ => Finished("ml", 1, 1)), Finished("ml", 1, 1000)]);
        var tenfold = History([.. Enumerable.Range(0, 4).Select(_ => Finished("ml", 1, 1)), Finished("ml", 1, 10)]);

        Assert.Equal(tenfold.EstimateFor("ml", Next(1), 1).Ratio, bounded.EstimateFor("ml", Next(1), 1).Ratio);
    }

    [Fact]
    public void Only_the_latest_jobs_count()
    {
        var options = RunHistoryOptions.Default with { MaxSamples = 10 };
        var history = RunHistory.From([
            .. Enumerable.Range(0, 30).Select(i => Finished("ml", 1, 3, age: i)),
            .. Enumerable.Range(0, 10).Select(i => Finished("ml", 1, 1, age: 50 + i)),
        ], options);

        var estimate = history.EstimateFor("ml", Next(1), 1);

        Assert.Equal((1.0, 10), (estimate.Ratio, estimate.Samples));
    }

    [Fact]
    public void Settings_out_of_range_are_named_with_their_values()
    {
        var problems = (RunHistoryOptions.Default with { PriorRatio = 0, MinimumSamples = 0, PriorWeight = -1 }).Problems().ToList();

        Assert.Contains(problems, p => p.StartsWith("PriorRatio is 0", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("PriorWeight is -1", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("MinimumSamples is 0", StringComparison.Ordinal));
        Assert.Empty(RunHistoryOptions.Default.Problems());
    }
}
