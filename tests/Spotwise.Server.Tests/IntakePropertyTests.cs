using System.Net;
using System.Text.Json;
using CsCheck;
using Spotwise.Server.Tests.Intake;
using Xunit.Abstractions;

namespace Spotwise.Server.Tests;

/// <summary>
/// The intake under generated bodies over real HTTP on loopback: valid jobs from a grammar of every field and form, and
/// mutations of them (<see cref="Mutations"/>). Each iteration sends <see cref="BodiesPerIteration"/> bodies; the suite sends
/// over 20,000. Whatever comes: never a 5xx, every 400 a ValidationProblem naming fields, refusals name what is wrong,
/// what is accepted holds every bound, and the server is healthy afterwards.
/// </summary>
/// <remarks>
/// A failure prints the seed; set <c>SPOTWISE_INTAKE_SEED</c> to it to run the same bodies again (CsCheck's own
/// <c>CsCheck_Seed</c> does too, but for every CsCheck test of the run). The failure names the mutation and shows the
/// text sent; a shrunk batch prints every body of it, with <c>0000000</c> standing for the per-request id prefix.
/// </remarks>
public sealed class IntakePropertyTests(IntakeServer fixture, ITestOutputHelper output) : IClassFixture<IntakeServer>
{
    public const int BodiesPerIteration = 5;

    private static readonly string? Seed = Environment.GetEnvironmentVariable("SPOTWISE_INTAKE_SEED") is { Length: > 0 } s ? s : null;

    [Fact]
    public Task Valid_jobs_are_accepted_and_read_back_as_sent_within_every_bound() => SampleAsync(ValidJobs.Body, iterations: 600);

    [Fact]
    public Task Malformed_json_and_bad_encodings_are_refused_naming_the_body_or_the_field() => SampleAsync(Mutations.Malformed, iterations: 800);

    [Fact]
    public Task Mistyped_out_of_bound_and_missing_values_are_refused_naming_the_field() => SampleAsync(Mutations.Values, iterations: 800);

    [Fact]
    public Task Unknown_misspelled_and_snake_case_fields_are_refused_naming_the_field() => SampleAsync(Mutations.Names, iterations: 600);

    [Fact]
    public Task Bad_times_deadlines_dependencies_and_teams_are_refused_naming_the_field() => SampleAsync(Mutations.Relations, iterations: 700);

    [Fact]
    public Task Bodies_the_contract_leaves_open_get_no_5xx_and_what_is_stored_holds_every_bound() => SampleAsync(Mutations.Open, iterations: 200);

    [Fact]
    public async Task A_mix_of_everything_leaves_the_server_healthy_with_every_stored_job_within_bounds()
    {
        await SampleAsync(Mutations.Any, iterations: 400);

        foreach (var (key, team) in ValidJobs.Keys)
        {
            var stored = await ListAsync(key);
            Assert.NotEmpty(stored);
            foreach (var job in stored)
            {
                IntakeOracle.CheckBounds(job, team);
            }
        }
    }

    private async Task SampleAsync(Gen<BodyDraft> bodies, int iterations)
    {
        await bodies.Array[BodiesPerIteration].SampleAsync(
            async batch =>
            {
                foreach (var body in batch)
                {
                    await JudgeAsync(body);
                }
            },
            writeLine: output.WriteLine,
            seed: Seed,
            iter: iterations,
            print: batch => string.Join("\n", batch.Select(b => b.ToString())));
        var health = await fixture.Client.GetAsync(new Uri("/healthz", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal("ok", await health.Content.ReadAsStringAsync());
    }

    /// <summary>Sends the body under a new id prefix; a failure names the body's mutation and shows the text sent.</summary>
    private async Task JudgeAsync(BodyDraft body)
    {
        var prefix = fixture.NextPrefix();
        try
        {
            await IntakeOracle.SubmitAndJudgeAsync(fixture.Client, body, prefix);
        }
        catch (Exception e) when (e is not TaskCanceledException)
        {
            throw new Xunit.Sdk.XunitException($"{body.Description}: {e.Message}\n  sent: {IntakeOracle.Clip(body.RenderText(prefix))}", e);
        }
    }

    /// <summary>Every job of the key's team, page by page (RFC 8288 next links).</summary>
    private async Task<List<JsonElement>> ListAsync(string key)
    {
        var jobs = new List<JsonElement>();
        var next = "/api/jobs?limit=10000";
        while (next is not null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, next);
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
            using var response = await fixture.Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var page = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            jobs.AddRange(page.RootElement.EnumerateArray().Select(j => j.Clone()));
            next = response.Headers.TryGetValues("Link", out var links) ? links.Select(NextLink).FirstOrDefault(l => l is not null) : null;
        }
        return jobs;
    }

    private static string? NextLink(string header) =>
        header.Contains("rel=\"next\"", StringComparison.Ordinal) ? header[(header.IndexOf('<', StringComparison.Ordinal) + 1)..header.IndexOf('>', StringComparison.Ordinal)] : null;
}
