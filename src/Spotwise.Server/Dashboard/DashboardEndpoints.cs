using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Security.Claims;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Spotwise.Server.Components;
using Spotwise.Server.Components.Pages;

namespace Spotwise.Server.Dashboard;

/// <summary>
/// The dashboard's non-page endpoints: sign in and out, the submit and cancel forms (which go through the jobs API's
/// own code), and <c>/dashboard/events</c>, the server-sent events that tell open pages to refresh.
/// </summary>
public static class DashboardEndpoints
{
    /// <summary>Pages refresh at least this often in real time, so the "now" line moves (with <c>--speed</c>, fast).</summary>
    public static readonly TimeSpan Heartbeat = TimeSpan.FromSeconds(2);

    public static IEndpointRouteBuilder MapDashboard(this IEndpointRouteBuilder app)
    {
        app.MapGet(DashboardCookieHandler.LoginPath, () => new RazorComponentResult<LoginPage>()).ExcludeFromDescription();
        app.MapPost(DashboardCookieHandler.LoginPath, LoginAsync).RequireRateLimiting(RateLimits.LoginPerAddress).ExcludeFromDescription();
        app.MapPost("/logout", (HttpResponse response) =>
        {
            DashboardCookieHandler.SignOut(response);
            return TypedResults.Redirect(DashboardCookieHandler.LoginPath);
        }).ExcludeFromDescription();
        var pages = app.MapGroup("/dashboard").RequireAuthorization(DashboardCookieHandler.Policy).ExcludeFromDescription();
        // The forms act for the key as the API does, so they count against the key's own window.
        pages.MapPost("/submit", SubmitAsync).RequireRateLimiting(RateLimits.PerKey);
        pages.MapPost("/jobs/{id}/cancel", CancelAsync).RequireRateLimiting(RateLimits.PerKey);
        pages.MapGet("/events", (ChangeSignal signal, IHostApplicationLifetime lifetime, CancellationToken ct) =>
            TypedResults.ServerSentEvents(EventsAsync(signal, lifetime.ApplicationStopping, ct)));
        return app;
    }

    private static async Task<IResult> LoginAsync(HttpRequest request, [Microsoft.AspNetCore.Mvc.FromServices] ApiKeyRing keys)
    {
        if (await FormAsync(request, request.HttpContext.RequestAborted) is not { } form)
        {
            return new RazorComponentResult<LoginPage>(new { Error = NotAForm }) { StatusCode = StatusCodes.Status400BadRequest };
        }
        var key = form["apiKey"].ToString().Trim();
        if (key.Length == 0 || keys.TeamOf(key) is null)
        {
            return new RazorComponentResult<LoginPage>(new { Error = key.Length == 0 ? "apiKey: enter an API key" : "apiKey: this API key is not known to the server" })
            {
                StatusCode = StatusCodes.Status401Unauthorized,
            };
        }
        DashboardCookieHandler.SignIn(request.HttpContext.Response, key, request.IsHttps);
        return TypedResults.Redirect("/");
    }

    private const string NotAForm = "form: the request is not this page's form (a url-encoded or multipart form of a few short fields)";

    /// <summary>The posted form; null when the body is not a form or breaks the form limits (too many or too long fields).</summary>
    private static async Task<IFormCollection?> FormAsync(HttpRequest request, CancellationToken ct)
    {
        if (!request.HasFormContentType)
        {
            return null;
        }
        try
        {
            return await request.ReadFormAsync(ct);
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }

    /// <summary>The submit form, read into the API's JSON and checked and stored by the API's own code.</summary>
    private static async Task<IResult> SubmitAsync(HttpRequest request, ClaimsPrincipal user, [AsParameters] JobsServices services, CancellationToken ct)
    {
        if (await FormAsync(request, ct) is not { } form)
        {
            return new RazorComponentResult<SubmitPage>(new { Errors = new Dictionary<string, string[]> { ["form"] = [NotAForm] }, Values = new Dictionary<string, string>() })
            {
                StatusCode = StatusCodes.Status400BadRequest,
            };
        }
        var values = SubmitForm.Fields.ToDictionary(f => f, f => form[f].ToString(), StringComparer.Ordinal);
        var result = await services.Intake.SubmitAsync(Encoding.UTF8.GetBytes(SubmitForm.ToJson(values)), user.Team(), ct);
        IDictionary<string, string[]> errors = JobInput.Errors(result.Errors);
        if (result.Ok)
        {
            var stored = result.Results[0];
            if (stored.Outcome != Runtime.SubmitOutcome.Conflict)
            {
                return TypedResults.Redirect("/?submitted=" + Uri.EscapeDataString(stored.JobId));
            }
            errors = new Dictionary<string, string[]> { ["jobId"] = [$"job '{stored.JobId}' was already submitted with a different body; submit it under a new jobId"] };
        }
        return new RazorComponentResult<SubmitPage>(new { Errors = errors, Values = values }) { StatusCode = StatusCodes.Status400BadRequest };
    }

    /// <summary>Cancels through the API's own handler; its refusal (already final) is shown on the job's page.</summary>
    private static async Task<IResult> CancelAsync(string id, ClaimsPrincipal user, [AsParameters] JobsServices services, CancellationToken ct)
    {
        var page = "/jobs/" + Uri.EscapeDataString(id);
        return (await JobsApi.CancelAsync(id, user, services, ct)).Result switch
        {
            Ok<JobView> => TypedResults.Redirect(page),
            Conflict<Microsoft.AspNetCore.Mvc.ProblemDetails> c => TypedResults.Redirect(page + "?message=" + Uri.EscapeDataString(c.Value?.Detail ?? "refused")),
            _ => TypedResults.NotFound(),
        };
    }

    /// <summary>
    /// One event per change of the store (bursts folded), and a heartbeat; the data is the change count. The stream
    /// ends when the browser leaves or the server stops (an open page must not hold up a shutdown).
    /// </summary>
    private static async IAsyncEnumerable<SseItem<string>> EventsAsync(ChangeSignal signal, CancellationToken stopping, [EnumeratorCancellation] CancellationToken aborted)
    {
        using var both = CancellationTokenSource.CreateLinkedTokenSource(stopping, aborted);
        var ct = both.Token;
        yield return new SseItem<string>(Version(signal), "hello");
        while (!ct.IsCancellationRequested)
        {
            var change = signal.NextAsync(ct);
            await Task.WhenAny(change, Task.Delay(Heartbeat, TimeProvider.System, ct));
            if (ct.IsCancellationRequested)
            {
                yield break;
            }
            yield return new SseItem<string>(Version(signal), change.IsCompletedSuccessfully ? "change" : "tick");
            // A planning cycle writes many jobs: one refresh for the burst is enough.
            await Task.Delay(TimeSpan.FromMilliseconds(200), TimeProvider.System, ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private static string Version(ChangeSignal signal) => signal.Version.ToString(CultureInfo.InvariantCulture);
}

/// <summary>The submit form's fields, named as in the API's job JSON, and how they become that JSON.</summary>
public static class SubmitForm
{
    public static IReadOnlyList<string> Fields { get; } =
        ["jobId", "priority", "estimatedDurationHours", "earliestStart", "deadline", "resourceType", "checkpointable"];

    /// <summary>Empty fields are left out (the API then says what is required); numbers that do not parse stay text, so
    /// the API's message names the field and the value.</summary>
    public static string ToJson(IReadOnlyDictionary<string, string> values)
    {
        var job = new JsonObject();
        foreach (var field in new[] { "jobId", "earliestStart", "deadline" })
        {
            if (Value(values, field) is { } text)
            {
                job[field] = text;
            }
        }
        foreach (var field in new[] { "priority", "estimatedDurationHours" })
        {
            if (Value(values, field) is { } text)
            {
                job[field] = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? JsonValue.Create(n) : JsonValue.Create(text);
            }
        }
        if (Value(values, "resourceType") is { } type)
        {
            job["resourceRequirements"] = new JsonObject { ["type"] = type };
        }
        if (Value(values, "checkpointable") is not null)
        {
            job["checkpointable"] = true;
        }
        return job.ToJsonString();
    }

    private static string? Value(IReadOnlyDictionary<string, string> values, string field) =>
        values.GetValueOrDefault(field)?.Trim() is { Length: > 0 } text ? text : null;
}
