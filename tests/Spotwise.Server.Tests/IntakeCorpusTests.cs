using System.Net;
using System.Text;
using Spotwise.Server.Tests.Intake;

namespace Spotwise.Server.Tests;

/// <summary>
/// Every case issue 10 names, as regression tests over real HTTP on loopback, through <c>/api/jobs</c> and
/// <c>/api/plan/preview</c> (one intake answers both): the expected status and, for a 400, the field the error names.
/// </summary>
public sealed class IntakeCorpusTests(IntakeServer fixture) : IClassFixture<IntakeServer>
{
    /// <summary>One case of the issue and what the intake must answer.</summary>
    /// <param name="Body">The body, its ids under the <see cref="BodyDraft.IdPrefix"/> placeholder.</param>
    /// <param name="Status">What <c>/api/jobs</c> answers (the preview answers 200 where this is 201).</param>
    /// <param name="Keys">For a 400: the error key the answer must hold; alternatives separated by <c>|</c>.</param>
    /// <param name="Contains">For a 400: a text one of the messages under that key must hold.</param>
    /// <param name="ContentType">The Content-Type sent; null sends none.</param>
    /// <param name="Splice">Raw bytes sent where <see cref="BodyDraft.SpliceMarker"/> stands (invalid UTF-8).</param>
    public sealed record Case(string Body, int Status, string? Keys = null, string? Contains = null, string? ContentType = "application/json", byte[]? Splice = null);

    private const string Resources = "\"estimatedDurationHours\":1.5,\"resourceRequirements\":{\"type\":\"cpu_small\"}";

    /// <summary>A valid job with id <paramref name="id"/> and the members in <paramref name="more"/> (replacing none of its own).</summary>
    private static string Job(string id = "x", string more = "") => $"{{\"jobId\":\"@P@-{id}\",{Resources}{(more.Length > 0 ? "," + more : "")}}}";

    public static readonly Dictionary<string, Case> Cases = new(StringComparer.Ordinal)
    {
        ["a valid job"] = new(Job(), 201),
        ["a valid job with a charset"] = new(Job(), 201, ContentType: "application/json; charset=utf-8"),
        ["a 128-character job id"] = new($"{{\"jobId\":\"@P@-{new string('a', 128 - BodyDraft.PrefixWidth - 1)}\",{Resources}}}", 201),
        ["self-dependency"] = new(Job("p", "\"dependsOn\":[\"@P@-p\"]"), 400, "dependsOn", "@P@-p"),
        ["two-job cycle"] = new($"[{Job("a", "\"dependsOn\":[\"@P@-b\"]")},{Job("b", "\"dependsOn\":[\"@P@-a\"]")}]", 400, "jobs[0].dependsOn|jobs[1].dependsOn"),
        ["three-job cycle in a jobs file"] = new($"{{\"jobs\":[{Job("a", "\"dependsOn\":[\"@P@-c\"]")},{Job("b", "\"dependsOn\":[\"@P@-a\"]")},{Job("c", "\"dependsOn\":[\"@P@-b\"]")}]}}", 400, "jobs[0].dependsOn|jobs[1].dependsOn|jobs[2].dependsOn"),
        ["an unknown prerequisite"] = new(Job("u", "\"dependsOn\":[\"@P@-nobody\"]"), 400, "dependsOn", "@P@-nobody"),
        ["duration 1e15"] = new("{\"jobId\":\"@P@-d\",\"estimatedDurationHours\":1e15,\"resourceRequirements\":{\"type\":\"cpu_small\"}}", 400, "estimatedDurationHours", "1e15"),
        ["duration 1e308"] = new("{\"jobId\":\"@P@-d\",\"estimatedDurationHours\":1e308,\"resourceRequirements\":{\"type\":\"cpu_small\"}}", 400, "estimatedDurationHours", "1e308"),
        ["duration 8760.5"] = new("{\"jobId\":\"@P@-d\",\"estimatedDurationHours\":8760.5,\"resourceRequirements\":{\"type\":\"cpu_small\"}}", 400, "estimatedDurationHours", "8760.5"),
        ["restartOverheadMinutes 1e308"] = new(Job(more: "\"restartOverheadMinutes\":1e308"), 400, "restartOverheadMinutes", "1e308"),
        ["checkpointIntervalMinutes 10081"] = new(Job(more: "\"checkpointable\":true,\"checkpointIntervalMinutes\":10081"), 400, "checkpointIntervalMinutes", "10081"),
        ["inputDataSizeGB 1e7"] = new(Job(more: "\"inputDataSizeGB\":1e7"), 400, "inputDataSizeGB", "1e7"),
        ["priority 5.5"] = new(Job(more: "\"priority\":5.5"), 400, "priority", "5.5"),
        ["priority 11"] = new(Job(more: "\"priority\":11"), 400, "priority", "11"),
        ["a deadline in year 9999"] = new(Job(more: "\"deadline\":\"9999-12-31T23:59:59Z\""), 400, "deadline", "9999"),
        ["an earliestStart past 366 days"] = new(Job(more: "\"earliestStart\":\"+367d\""), 400, "earliestStart", "+367d"),
        ["a deadline already past"] = new(Job(more: "\"deadline\":\"-1h\""), 400, "deadline", "-1h"),
        ["a deadline in 2020"] = new(Job(more: "\"deadline\":\"2020-01-01T00:00:00Z\""), 400, "deadline", "2020-01-01"),
        ["a deadline shorter than the duration"] = new(Job(more: "\"deadline\":\"+80m\""), 400, "deadline", "+80m"),
        ["a deadline shorter than the duration after earliestStart"] = new(Job(more: "\"earliestStart\":\"+10h\",\"deadline\":\"+11h\""), 400, "deadline", "+11h"),
        ["relative time +4000000d"] = new(Job(more: "\"deadline\":\"+4000000d\""), 400, "deadline", "+4000000d"),
        ["relative time +99999999999999999999h"] = new(Job(more: "\"earliestStart\":\"+99999999999999999999h\""), 400, "earliestStart", "+99999999999999999999h"),
        ["relative time with Arabic-Indic digits +١h"] = new(Job(more: "\"deadline\":\"+١h\""), 400, "deadline", "+١h"),
        ["lone surrogate in jobId"] = new($"{{\"jobId\":\"@P@-\\ud800\",{Resources}}}", 400, "jobId"),
        ["lone surrogate in command"] = new(Job(more: "\"command\":\"echo \\ud800\""), 400, "command"),
        ["lone low surrogate in a batch's team"] = new($"[{Job("a")},{Job("b", "\"team\":\"team-a\\udc00\"")}]", 400, "jobs[1].team"),
        ["invalid UTF-8 in jobId"] = new($"{{\"jobId\":\"@P@-{BodyDraft.SpliceMarker}\",{Resources}}}", 400, "jobId", Splice: [0xFF]),
        ["overlong UTF-8 in command"] = new(Job(more: $"\"command\":\"echo {BodyDraft.SpliceMarker}\""), 400, "command", Splice: [0xC0, 0xAF]),
        ["misspelled dealine"] = new(Job(more: "\"dealine\":\"+6h\""), 400, "dealine", "deadline"),
        ["snake_case job_id"] = new($"{{\"job_id\":\"@P@-s\",{Resources}}}", 400, "job_id", "jobId"),
        ["an unknown field in resourceRequirements"] = new("{\"jobId\":\"@P@-r\",\"estimatedDurationHours\":1,\"resourceRequirements\":{\"type\":\"cpu_small\",\"colour\":\"red\"}}", 400, "resourceRequirements.colour"),
        ["a trailing comma in the array"] = new($"[{Job()},]", 400, "body"),
        ["a trailing comma in the object"] = new(Job()[..^1] + ",}", 400, "body"),
        ["a block comment"] = new("/* c */" + Job(), 400, "body"),
        ["a line comment"] = new(Job()[..^1] + "// c\n}", 400, "body"),
        ["a duplicate key"] = new($"{{\"jobId\":\"@P@-a\",\"jobId\":\"@P@-b\",{Resources}}}", 400, "jobId|body"),
        ["a duplicate key spelled with an escape"] = new(Job(more: "\"priority\":3,\"\\u0070riority\":9"), 400, "priority|body"),
        ["a 100 KB job id"] = new($"{{\"jobId\":\"@P@-{new string('a', 100_000)}\",{Resources}}}", 400, "jobId"),
        ["a 129-character job id"] = new($"{{\"jobId\":\"@P@-{new string('a', 129 - BodyDraft.PrefixWidth - 1)}\",{Resources}}}", 400, "jobId"),
        ["NUL in a job id"] = new($"{{\"jobId\":\"@P@-a\\u0000b\",{Resources}}}", 400, "jobId"),
        ["a control character in a job id"] = new($"{{\"jobId\":\"@P@-a\\u0001b\",{Resources}}}", 400, "jobId"),
        ["a newline in a job id"] = new($"{{\"jobId\":\"@P@-a\\nb\",{Resources}}}", 400, "jobId"),
        ["a space in a team"] = new(Job(more: "\"team\":\"team a\""), 400, "team"),
        ["another key's team"] = new(Job(more: "\"team\":\"team-b\""), 400, "team", "team-b"),
        ["a resource request no type satisfies"] = new("{\"jobId\":\"@P@-r\",\"estimatedDurationHours\":1,\"resourceRequirements\":{\"vcpus\":100000}}", 400, "resourceRequirements"),
        ["a 65,537-character command"] = new(Job(more: $"\"command\":\"{new string('x', 65_537)}\""), 400, "command"),
        ["a field path in a jobs file"] = new($"{{\"jobs\":[{Job("a")},{Job("b", "\"priority\":11")}]}}", 400, "jobs[1].priority", "11"),
        ["an empty array"] = new("[]", 400, "body"),
        ["malformed JSON"] = new("{\"jobId\":", 400, "body"),
        ["1,001 jobs"] = new("[" + string.Join(",", Enumerable.Range(0, 1_001).Select(i => Job(i.ToString(System.Globalization.CultureInfo.InvariantCulture)))) + "]", 400, "body"),
        ["a body over 4 MiB"] = new(Job(more: $"\"command\":\"{new string('x', 4 * 1024 * 1024)}\""), 413),
        ["text/plain"] = new(Job(), 415, ContentType: "text/plain"),
        ["a form"] = new(Job(), 415, ContentType: "application/x-www-form-urlencoded"),
        ["no content type"] = new(Job(), 415, ContentType: null),
    };

    public static TheoryData<string> Names => [.. Cases.Keys];

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Each_case_of_the_issue_is_answered_on_the_jobs_api_as_the_contract_says(string name) => await CheckAsync("/api/jobs", Cases[name], Cases[name].Status);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Each_case_of_the_issue_is_answered_on_the_plan_preview_as_on_the_jobs_api(string name) =>
        await CheckAsync("/api/plan/preview", Cases[name], Cases[name].Status == 201 ? 200 : Cases[name].Status);

    [Fact]
    public async Task Team_b_may_reuse_an_id_of_team_a_and_gets_201_not_409()
    {
        var body = Encoding.UTF8.GetBytes(Job("shared").Replace(BodyDraft.IdPrefix, fixture.NextPrefix(), StringComparison.Ordinal));

        var a = await IntakeOracle.PostAsync(fixture.Client, "/api/jobs", "k1", body, "application/json");
        var b = await IntakeOracle.PostAsync(fixture.Client, "/api/jobs", "k2", body, "application/json");

        Assert.Equal(HttpStatusCode.Created, a.Status);
        Assert.Equal(HttpStatusCode.Created, b.Status);
        Assert.Equal("team-b", b.Json.GetProperty("team").GetString());
    }

    [Fact]
    public async Task A_job_may_depend_on_a_stored_job_of_its_own_team()
    {
        var prefix = fixture.NextPrefix();
        var first = await PostAsync("k1", prefix, Job("first"));
        var second = await PostAsync("k1", prefix, Job("second", "\"dependsOn\":[\"@P@-first\"]"));

        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.Equal(HttpStatusCode.Created, second.Status);
    }

    [Fact]
    public async Task A_job_may_not_depend_on_another_teams_stored_job()
    {
        var prefix = fixture.NextPrefix();
        var theirs = await PostAsync("k1", prefix, Job("theirs"));
        var mine = await PostAsync("k2", prefix, Job("mine", "\"dependsOn\":[\"@P@-theirs\"]"));

        Assert.Equal(HttpStatusCode.Created, theirs.Status);
        Assert.Equal(HttpStatusCode.BadRequest, mine.Status);
        IntakeOracle.CheckNames(IntakeOracle.CheckValidationProblem(mine), ["dependsOn"], null);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("nope")]
    public async Task A_missing_or_unknown_key_is_a_401(string? key)
    {
        var answer = await IntakeOracle.PostAsync(fixture.Client, "/api/jobs", key, Encoding.UTF8.GetBytes(Job()), "application/json");

        Assert.Equal(HttpStatusCode.Unauthorized, answer.Status);
    }

    private async Task<Answer> PostAsync(string key, string prefix, string body) =>
        await IntakeOracle.PostAsync(fixture.Client, "/api/jobs", key, Encoding.UTF8.GetBytes(body.Replace(BodyDraft.IdPrefix, prefix, StringComparison.Ordinal)), "application/json");

    private async Task CheckAsync(string path, Case c, int status)
    {
        var prefix = fixture.NextPrefix();
        var text = c.Body.Replace(BodyDraft.IdPrefix, prefix, StringComparison.Ordinal);
        var bytes = Encoding.UTF8.GetBytes(text);
        if (c.Splice is { } splice)
        {
            var at = bytes.AsSpan().IndexOf(Encoding.UTF8.GetBytes(BodyDraft.SpliceMarker));
            bytes = [.. bytes[..at], .. splice, .. bytes[(at + BodyDraft.SpliceMarker.Length)..]];
        }

        var answer = await IntakeOracle.PostAsync(fixture.Client, path, "k1", bytes, c.ContentType);

        Assert.True(answer.Code == status, $"{path} answered {answer.Code}, not {status}: {IntakeOracle.Clip(answer.Text)}");
        if (status == 400)
        {
            var errors = IntakeOracle.CheckValidationProblem(answer);
            IntakeOracle.CheckNames(errors, c.Keys!.Split('|'), c.Contains?.Replace(BodyDraft.IdPrefix, prefix, StringComparison.Ordinal));
        }
    }
}
