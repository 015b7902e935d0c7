using Generated = Spotwise.ApiClient;

namespace Spotwise.Server.Tests;

/// <summary>
/// The API through a client generated from its own OpenAPI document (NSwag at build time from docs/openapi.json, which
/// <see cref="OpenApiTests"/> keeps the served one), over real HTTP on loopback with a team's key as the bearer token,
/// as a CI pipeline would call it. The generated types share names with the server's (<c>JobSpec</c>, <c>JobView</c>),
/// so they are written <c>Generated.X</c>.
/// </summary>
public sealed class GeneratedClientTests
{
    [Fact]
    public async Task A_generated_client_submits_a_job_with_a_bearer_key_and_reads_it_back()
    {
        await using var server = LiveServer.Start();
        using var http = server.ClientFor("k1");
        var client = new Generated.SpotwiseClient(http);

        var submitted = await client.SubmitJobsAsync(new Generated.JobSpec
        {
            JobId = "nightly-train",
            EstimatedDurationHours = 2,
            Deadline = "+12h",
            Priority = 7,
            ResourceRequirements = new Generated.ResourceRequirementsSpec { Type = "cpu_small" },
        });
        var read = await client.GetJobAsync("nightly-train");
        var listed = await client.ListJobsAsync(null, null, null);

        Assert.Equal("nightly-train", submitted.JobId);
        Assert.Equal("team-a", read.Team);
        Assert.Equal(7, read.Priority);
        Assert.Equal(2, read.EstimatedDurationHours);
        Assert.Contains(read.Events, e => e.To == "queued");
        Assert.Contains(listed, j => j.JobId == "nightly-train");
    }

    [Fact]
    public async Task The_generated_client_sees_the_documented_refusals_as_problem_details()
    {
        await using var server = LiveServer.Start();
        using var http = server.ClientFor("k2");
        using var anonymous = server.ClientFor(null);
        var client = new Generated.SpotwiseClient(http);

        var missing = await Assert.ThrowsAsync<Generated.ApiException<Generated.ProblemDetails>>(() => client.GetJobAsync("no-such-job"));
        var invalid = await Assert.ThrowsAsync<Generated.ApiException<Generated.HttpValidationProblemDetails>>(() =>
            client.SubmitJobsAsync(new Generated.JobSpec { JobId = "bad", EstimatedDurationHours = -1, RequiredResourceType = "cpu_small" }));
        var unauthorised = await Assert.ThrowsAsync<Generated.ApiException<Generated.ProblemDetails>>(() => new Generated.SpotwiseClient(anonymous).GetMoneyAsync());

        Assert.Equal(404, missing.StatusCode);
        Assert.Contains("no-such-job", missing.Result.Detail, StringComparison.Ordinal);
        Assert.Equal(400, invalid.StatusCode);
        Assert.Contains("estimatedDurationHours", invalid.Result.Errors.Keys);
        Assert.Equal(401, unauthorised.StatusCode);
    }
}
