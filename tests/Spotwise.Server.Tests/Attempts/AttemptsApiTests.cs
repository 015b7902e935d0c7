using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.DependencyInjection;
using Spotwise.Runtime;
using Spotwise.Runtime.Attempts;

namespace Spotwise.Server.Tests.Attempts;

/// <summary><c>POST /api/attempts/{token}/events</c> on the in-memory server: the attempt's secret, never a team key.</summary>
public sealed class AttemptsApiTests : IAsyncLifetime, IDisposable
{
    private readonly SpotwiseServerFactory _factory = new();
    private HttpClient _teamA = null!;
    private HttpClient _agent = null!;
    private string _token = null!;

    private IJobStore Store => _factory.Services.GetRequiredService<IJobStore>();

    private AttemptReports Reports => _factory.Services.GetRequiredService<AttemptReports>();

    private AttemptSecrets Secrets => _factory.Services.GetRequiredService<AttemptSecrets>();

    public async Task InitializeAsync()
    {
        _teamA = _factory.ClientFor("k1");
        _agent = _factory.CreateClient();
        Assert.Equal(HttpStatusCode.Created, (await _teamA.PostAsync("/api/jobs", Json(LaunchedJobs.Job))).StatusCode);
        _token = await LaunchedJobs.LaunchAsync(Store, new JobKey("team-a", "job-1"), _factory.Time.GetUtcNow());
    }

    public async Task DisposeAsync() => await _factory.DisposeAsync();

    public void Dispose()
    {
        _teamA?.Dispose();
        _agent?.Dispose();
        _factory.Dispose();
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private Task<HttpResponseMessage> PostAsync(string token, string? bearer, string body, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, LaunchedJobs.EventsPath(token)) { Content = new StringContent(body, Encoding.UTF8, contentType) };
        if (bearer is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        }
        return _agent.SendAsync(request);
    }

    private Task<HttpResponseMessage> ReportAsync(string body) => PostAsync(_token, Secrets.For(_token), body);

    [Fact]
    public async Task The_agents_events_with_its_attempts_secret_are_recorded_by_client_token()
    {
        var started = await ReportAsync("""{"event":"started","at":"2026-03-02T08:00:05Z","instanceId":"i-0123456789abcdef0"}""");
        _factory.Time.Advance(TimeSpan.FromSeconds(30));
        var heartbeat = await ReportAsync("""{"event":"heartbeat","progressHours":0.25}""");
        var exited = await ReportAsync("""{"event":"exited","exitCode":3,"progressHours":0.5}""");

        Assert.Equal([HttpStatusCode.NoContent, HttpStatusCode.NoContent, HttpStatusCode.NoContent], [started.StatusCode, heartbeat.StatusCode, exited.StatusCode]);
        var report = Reports.Get("team-a/job-1#1")!;
        Assert.Equal((3, 0.5, "i-0123456789abcdef0"), (report.ExitCode, report.ProgressHours, report.InstanceId));
        Assert.Equal(SpotwiseServerFactory.Start, report.StartedAt);
        Assert.Equal(SpotwiseServerFactory.Start.AddSeconds(30), report.LastHeardAt);
    }

    [Fact]
    public async Task A_wrong_secret_is_401_and_records_nothing()
    {
        var response = await PostAsync(_token, new string('0', 64), """{"event":"started"}""");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
        Assert.Null(Reports.Get(_token));
    }

    [Fact]
    public async Task No_secret_is_401()
    {
        var response = await PostAsync(_token, bearer: null, """{"event":"started"}""");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("Authorization: Bearer", (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_attempts_secret_is_401()
    {
        await LaunchedJobs.LaunchAsync(Store, new JobKey("team-a", "job-1"), _factory.Time.GetUtcNow(), attempt: 2);

        var response = await PostAsync("team-a/job-1#2", Secrets.For(_token), """{"event":"started"}""");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task A_team_key_is_refused_even_the_jobs_own_teams()
    {
        var response = await PostAsync(_token, "k1", """{"event":"exited","exitCode":0}""");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Contains("attempt's own secret", (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail, StringComparison.Ordinal);
        Assert.Null(Reports.Get(_token));
    }

    [Theory]
    [InlineData("team-a/job-9#1")]
    [InlineData("team-b/job-1#1")]
    [InlineData("team-a/job-1#2")]
    [InlineData("not-a-token")]
    public async Task An_attempt_no_job_has_launched_is_404_even_with_its_secret(string token)
    {
        var response = await PostAsync(token, Secrets.For(token), """{"event":"started"}""");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Null(Reports.Get(token));
    }

    [Fact]
    public async Task An_unknown_attempt_without_its_secret_is_401_not_404_so_nothing_is_learnt_about_which_exist()
    {
        var response = await PostAsync("team-b/job-1#1", Secrets.For(_token), """{"event":"started"}""");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("""{"event":"finished"}""", "event")]
    [InlineData("""{"at":"2026-03-02T08:00:00Z"}""", "event")]
    [InlineData("""{"event":"exited"}""", "exitCode")]
    [InlineData("""{"event":"exited","exitCode":256}""", "exitCode")]
    [InlineData("""{"event":"heartbeat","exitCode":0}""", "exitCode")]
    [InlineData("""{"event":"heartbeat","progressHours":-1}""", "progressHours")]
    [InlineData("""{"event":"heartbeat","progressHours":"1.5"}""", "progressHours")]
    [InlineData("""{"event":"started","at":"2026-03-02T08:00:00"}""", "at")]
    [InlineData("""{"event":"started","instanceId":"i-xyz"}""", "instanceId")]
    [InlineData("""{"event":"started","progresHours":1}""", "progresHours")]
    [InlineData("""{"event":"started",}""", "body")]
    [InlineData("""["started"]""", "body")]
    public async Task A_bad_body_is_400_naming_the_field(string body, string field)
    {
        var response = await ReportAsync(body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<ValidationProblemDetails>();
        Assert.Contains(field, problem!.Errors.Keys);
        Assert.Null(Reports.Get(_token));
    }

    [Fact]
    public async Task A_body_that_is_not_json_is_415()
    {
        var response = await PostAsync(_token, Secrets.For(_token), "event=started", "application/x-www-form-urlencoded");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task A_body_over_the_small_limit_is_413()
    {
        var response = await ReportAsync($$"""{"event":"started","at":"{{new string('x', (int)AttemptsApi.MaxBodyBytes)}}"}""");

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
    }

    [Fact]
    public async Task An_earlier_attempt_may_still_report_its_end()
    {
        await LaunchedJobs.LaunchAsync(Store, new JobKey("team-a", "job-1"), _factory.Time.GetUtcNow(), attempt: 2);

        var response = await ReportAsync("""{"event":"exited","exitCode":143}""");

        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal(143, Reports.Get(_token)!.ExitCode);
    }
}
