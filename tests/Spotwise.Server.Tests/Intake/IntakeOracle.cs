using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit.Sdk;

namespace Spotwise.Server.Tests.Intake;

/// <summary>What the server answered to one body: the status, the media type and the text.</summary>
public sealed record Answer(HttpStatusCode Status, string? MediaType, string Text)
{
    public int Code => (int)Status;

    public JsonElement Json => JsonDocument.Parse(Text).RootElement;
}

/// <summary>
/// Judges answers by the wire contract: never a 5xx; a 400 is a ValidationProblem whose every key names a field;
/// refusals name what the body got wrong; whatever is accepted holds every bound and reads back as it was sent.
/// </summary>
public static partial class IntakeOracle
{
    public static readonly DateTimeOffset Now = SpotwiseServerFactory.Start;

    /// <summary><c>body</c>, <c>jobs[i]</c> with or without a field path, or a field path (snake_case names as the client wrote them).</summary>
    [GeneratedRegex(@"^(body|jobs\[\d+\](\.[A-Za-z_][A-Za-z0-9_]*)*|[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*)$")]
    public static partial Regex ErrorKey();

    [GeneratedRegex(@"^[A-Za-z0-9._:-]{1,128}$")]
    public static partial Regex Name();

    public static async Task<Answer> PostAsync(HttpClient client, string path, string? key, byte[] body, string? contentType, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        // A client sending a large body asks first (RFC 9110 §10.1.1): a refused one is then never sent, and the 413
        // arrives instead of a broken pipe.
        request.Headers.ExpectContinue = body.Length > 1024 * 1024;
        if (contentType is not null)
        {
            request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        }
        if (key is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        }
        using var response = await client.SendAsync(request, cancellationToken);
        return new Answer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    public static async Task<Answer> GetAsync(HttpClient client, string path, string key, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        using var response = await client.SendAsync(request, cancellationToken);
        return new Answer(response.StatusCode, response.Content.Headers.ContentType?.MediaType, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    /// <summary>Sends one drafted body to <c>/api/jobs</c> under <paramref name="prefix"/> and judges the answer.</summary>
    public static async Task SubmitAndJudgeAsync(HttpClient client, BodyDraft body, string prefix)
    {
        var answer = await PostAsync(client, "/api/jobs", body.Key, body.Render(prefix), body.ContentType);
        var views = Judge(body, answer);
        foreach (var view in views)
        {
            CheckBounds(view, body.Team);
        }
        if (body.Verdict == Verdict.Accepted)
        {
            CheckAsSent(body, prefix, views);
            // Accepted means stored: the first job reads back, as its team sees it, within bounds.
            var id = BodyDraft.Resolve(body.Jobs[0].Expected, prefix).Id;
            var stored = await GetAsync(client, $"/api/jobs/{Uri.EscapeDataString(id)}", body.Key);
            Expect(stored.Status == HttpStatusCode.OK, $"GET /api/jobs/{id} after it was accepted answered {stored.Code}: {Clip(stored.Text)}");
            CheckBounds(stored.Json, body.Team);
        }
    }

    /// <summary>Checks the status and shape of an answer against the body's verdict; returns the job views of a 2xx.</summary>
    public static IReadOnlyList<JsonElement> Judge(BodyDraft body, Answer answer)
    {
        Expect(answer.Code < 500, $"{answer.Code} (a server error): {Clip(answer.Text)}");
        if (answer.Code == 400)
        {
            var errors = CheckValidationProblem(answer);
            Expect(body.Verdict != Verdict.Accepted, $"a valid body was refused: {Describe(errors)}");
            if (body.Verdict == Verdict.Refused)
            {
                CheckNames(errors, body.ExpectedKeys, body.MessageContains);
            }
            return [];
        }
        Expect(body.Verdict != Verdict.Refused, $"answered {answer.Code}, not 400 naming {string.Join(" or ", body.ExpectedKeys.Select(k => k.Length == 0 ? "any field" : k))}: {Clip(answer.Text)}");
        Expect(answer.Code is 200 or 201, $"answered {answer.Code}: {Clip(answer.Text)}");
        if (body.Verdict == Verdict.Accepted)
        {
            Expect(answer.Code == body.ExpectedStatus, $"answered {answer.Code}, not {body.ExpectedStatus}: {Clip(answer.Text)}");
        }
        var json = answer.Json;
        if (json.ValueKind == JsonValueKind.Object)
        {
            return [json];
        }
        var views = new List<JsonElement>();
        foreach (var item in json.EnumerateArray())
        {
            var outcome = item.GetProperty("outcome").GetString();
            Expect(outcome == "created", $"a new job answered outcome {outcome}: {Clip(item.GetRawText())}");
            views.Add(item.GetProperty("job"));
        }
        Expect(views.Count == body.Jobs.Count, $"{body.Jobs.Count} jobs sent, {views.Count} answered");
        return views;
    }

    /// <summary>A ValidationProblem: problem+json, status 400, a title, and errors keyed by field paths with non-empty messages.</summary>
    public static IReadOnlyDictionary<string, string[]> CheckValidationProblem(Answer answer)
    {
        Expect(answer.MediaType == "application/problem+json", $"a 400 as {answer.MediaType}, not application/problem+json: {Clip(answer.Text)}");
        var json = answer.Json;
        Expect(json.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Number && status.GetInt32() == 400, $"the problem's status is not 400: {Clip(answer.Text)}");
        Expect(json.TryGetProperty("title", out var title) && title.ValueKind == JsonValueKind.String, $"the problem has no title: {Clip(answer.Text)}");
        Expect(json.TryGetProperty("errors", out var errors) && errors.ValueKind == JsonValueKind.Object, $"the problem has no errors: {Clip(answer.Text)}");
        var result = new Dictionary<string, string[]>(StringComparer.Ordinal);
        foreach (var error in errors.EnumerateObject())
        {
            Expect(ErrorKey().IsMatch(error.Name), $"error key {JsonText.Quote(error.Name)} does not name a field: {Clip(answer.Text)}");
            Expect(error.Value.ValueKind == JsonValueKind.Array && error.Value.GetArrayLength() > 0, $"error {error.Name} has no messages");
            var messages = error.Value.EnumerateArray().Select(m => m.ValueKind == JsonValueKind.String ? m.GetString()! : "").ToArray();
            Expect(messages.All(m => m.Trim().Length > 0), $"error {error.Name} has an empty message");
            result[error.Name] = messages;
        }
        Expect(result.Count > 0, $"a 400 with no errors: {Clip(answer.Text)}");
        return result;
    }

    /// <summary>At least one error sits under one of the expected paths (and, when asked, one of those says <paramref name="contains"/>).</summary>
    public static void CheckNames(IReadOnlyDictionary<string, string[]> errors, IReadOnlyCollection<string> expected, string? contains)
    {
        var named = errors.Where(e => expected.Count == 0 || expected.Any(x => Covers(x, e.Key))).ToList();
        Expect(named.Count > 0, $"refused, but naming {Describe(errors)}; expected {string.Join(" or ", expected)}");
        if (contains is not null)
        {
            Expect(named.SelectMany(e => e.Value).Any(m => m.Contains(contains, StringComparison.Ordinal)),
                $"no message under {string.Join(", ", named.Select(e => e.Key))} mentions {JsonText.Quote(contains)}: {Describe(errors)}");
        }
    }

    /// <summary>A path covers itself and what is under it; the empty path covers everything.</summary>
    public static bool Covers(string expected, string key) =>
        expected.Length == 0 || key == expected || key.StartsWith(expected + ".", StringComparison.Ordinal) || key.StartsWith(expected + "[", StringComparison.Ordinal);

    /// <summary>Every bound of the contract that a job view shows.</summary>
    public static void CheckBounds(JsonElement view, string team)
    {
        var id = view.GetProperty("jobId").GetString() ?? "";
        Expect(Name().IsMatch(id), $"accepted job id {Show(id)} is not 1..128 of [A-Za-z0-9._:-]");
        Expect(view.GetProperty("team").GetString() == team, $"job {id} is stored for team {view.GetProperty("team")}, not the key's {team}");
        var hours = view.GetProperty("estimatedDurationHours").GetDouble();
        Expect(hours > 0 && hours <= 8760, $"job {id} was accepted with estimatedDurationHours {hours.ToString("R", CultureInfo.InvariantCulture)}");
        var priority = view.GetProperty("priority").GetInt32();
        Expect(priority is >= 1 and <= 10, $"job {id} was accepted with priority {priority}");
        var earliest = Time(view, "earliestStart");
        var deadline = Time(view, "deadline");
        var horizon = Now.AddDays(366);
        Expect(earliest is null || earliest <= horizon, $"job {id} was accepted with earliestStart {earliest:O}, past {horizon:O}");
        Expect(deadline is null || deadline <= horizon, $"job {id} was accepted with deadline {deadline:O}, past {horizon:O}");
        Expect(deadline is null || deadline > Now, $"job {id} was accepted with a deadline {deadline:O} not after now {Now:O}");
        if (deadline is { } d)
        {
            var ready = earliest > Now ? earliest.Value : Now;
            Expect(d - ready >= TimeSpan.FromHours(hours) - TimeSpan.FromSeconds(1), $"job {id} was accepted with {(d - ready).TotalHours:0.###} h between its start and deadline, under its {hours} h");
        }
        foreach (var (field, min, max, exclusiveMin) in OptionalBounds)
        {
            if (view.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.Number)
            {
                var x = v.GetDouble();
                Expect((exclusiveMin ? x > min : x >= min) && x <= max, $"job {id} was accepted with {field} {v.GetRawText()}");
            }
        }
        if (view.TryGetProperty("command", out var command) && command.ValueKind == JsonValueKind.String)
        {
            Expect(command.GetString()!.Length <= 64 * 1024, $"job {id} was accepted with a {command.GetString()!.Length}-character command");
        }
    }

    /// <summary>Bounds of fields the view may show (today's JobView does not; a richer one will be held to them).</summary>
    private static readonly (string Field, double Min, double Max, bool ExclusiveMin)[] OptionalBounds =
    [
        ("restartOverheadMinutes", 0, 1440, false), ("checkpointIntervalMinutes", 0, 10080, true), ("inputDataSizeGB", 0, 1e6, false),
    ];

    /// <summary>Accepted jobs read back with the id, duration, priority and times they were sent with.</summary>
    public static void CheckAsSent(BodyDraft body, string prefix, IReadOnlyList<JsonElement> views)
    {
        var byId = views.ToDictionary(v => v.GetProperty("jobId").GetString()!, StringComparer.Ordinal);
        foreach (var job in body.Jobs.Select(j => BodyDraft.Resolve(j.Expected, prefix)))
        {
            Expect(byId.TryGetValue(job.Id, out var view), $"job {job.Id} is not in the answer");
            Expect(view.GetProperty("estimatedDurationHours").GetDouble() == job.DurationHours, $"job {job.Id}: estimatedDurationHours {view.GetProperty("estimatedDurationHours")} read back, {job.DurationHours} sent");
            Expect(job.Priority is null || view.GetProperty("priority").GetInt32() == job.Priority, $"job {job.Id}: priority {view.GetProperty("priority")} read back, {job.Priority} sent");
            Expect(Time(view, "earliestStart") == At(job.EarliestMinutes), $"job {job.Id}: earliestStart {view.GetProperty("earliestStart")} read back, {At(job.EarliestMinutes):O} sent");
            Expect(Time(view, "deadline") == At(job.DeadlineMinutes), $"job {job.Id}: deadline {view.GetProperty("deadline")} read back, {At(job.DeadlineMinutes):O} sent");
        }
    }

    private static DateTimeOffset? At(int? minutes) => minutes is { } m ? Now.AddMinutes(m) : null;

    private static DateTimeOffset? Time(JsonElement view, string field) =>
        view.TryGetProperty(field, out var v) && v.ValueKind == JsonValueKind.String ? v.GetDateTimeOffset() : null;

    public static void Expect(bool condition, string message)
    {
        if (!condition)
        {
            throw new XunitException(message);
        }
    }

    public static string Describe(IReadOnlyDictionary<string, string[]> errors) =>
        string.Join("; ", errors.Select(e => $"{e.Key}: {Clip(string.Join(" | ", e.Value))}"));

    public static string Clip(string text) => text.Length > 400 ? text[..400] + "..." : text;

    private static string Show(string value) => value.Length > 40 ? $"({value.Length} chars) {JsonText.Quote(value[..40])}..." : JsonText.Quote(value);
}
