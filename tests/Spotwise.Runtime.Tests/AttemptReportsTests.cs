using Microsoft.Extensions.Time.Testing;
using Spotwise.Runtime.Attempts;

namespace Spotwise.Runtime.Tests;

public sealed class AttemptReportsTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));

    private AttemptEvent At(AttemptEventKind kind, double? progress = null, int? exitCode = null) =>
        new(kind, _time.GetUtcNow(), ProgressHours: progress, ExitCode: exitCode);

    [Fact]
    public void A_report_folds_the_agents_events_keeping_the_first_exit_and_the_most_progress()
    {
        var reports = new AttemptReports(_time);
        reports.Record("t/j#1", At(AttemptEventKind.Started));
        _time.Advance(TimeSpan.FromSeconds(30));
        reports.Record("t/j#1", At(AttemptEventKind.Heartbeat, progress: 1.5));
        reports.Record("t/j#1", At(AttemptEventKind.Heartbeat, progress: 1.0));
        reports.Record("t/j#1", At(AttemptEventKind.Exited, exitCode: 3));
        _time.Advance(TimeSpan.FromSeconds(2));
        var report = reports.Record("t/j#1", At(AttemptEventKind.Exited, exitCode: 0));

        Assert.Equal((1.5, 3), (report.ProgressHours, report.ExitCode));
        Assert.Equal(_time.GetUtcNow().AddSeconds(-2), report.ExitedAt);
        Assert.Equal(_time.GetUtcNow(), report.LastHeardAt);
        Assert.Null(reports.Get("t/j#2"));
    }

    [Fact]
    public void Reports_unheard_of_for_the_retention_are_dropped()
    {
        var reports = new AttemptReports(_time);
        reports.Record("t/old#1", At(AttemptEventKind.Started));
        _time.Advance(AttemptReports.Retention + TimeSpan.FromMinutes(1));

        reports.Record("t/new#1", At(AttemptEventKind.Started));

        Assert.Null(reports.Get("t/old#1"));
        Assert.Equal(1, reports.Count);
    }

    [Theory]
    [InlineData("team-a/job-1#1", "team-a", "job-1", 1)]
    [InlineData("ml/a#b#12", "ml", "a#b", 12)]
    public void A_client_token_reads_back_into_its_job_and_attempt(string token, string team, string id, int attempt)
    {
        Assert.True(ClientTokens.TryParse(token, out var key, out var n));
        Assert.Equal((new JobKey(team, id), attempt), (key, n));
        Assert.Equal(token, ClientTokens.For(key, n));
    }

    [Theory]
    [InlineData("team-a/job-1")]
    [InlineData("team-a/job-1#0")]
    [InlineData("team-a/job-1#-1")]
    [InlineData("job-1#1")]
    [InlineData("#1")]
    [InlineData("")]
    public void Anything_else_is_not_a_client_token(string text) => Assert.False(ClientTokens.TryParse(text, out _, out _));
}
