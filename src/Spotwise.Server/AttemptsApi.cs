using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Spotwise.Runtime;
using Spotwise.Runtime.Attempts;

namespace Spotwise.Server;

/// <summary>What the attempts endpoint needs, bundled for <c>[AsParameters]</c>.</summary>
public sealed class AttemptsServices(IJobStore store, AttemptReports reports, AttemptSecrets secrets, [FromServices] ApiKeyRing keys, TimeProvider time,
    ILogger<AttemptReports> logger)
{
    public IJobStore Store { get; } = store;

    public AttemptReports Reports { get; } = reports;

    public AttemptSecrets Secrets { get; } = secrets;

    public ApiKeyRing Keys { get; } = keys;

    public TimeProvider Time { get; } = time;

    public ILogger<AttemptReports> Logger { get; } = logger;
}

/// <summary>
/// <c>POST /api/attempts/{token}/events</c>: what the agent on an attempt's instance reports (started, heartbeat, notice,
/// exited), recorded in <see cref="AttemptReports"/> for the backend to read. Outside the API-key scheme: the caller is a
/// machine holding one attempt's secret (<c>Authorization: Bearer &lt;secret&gt;</c>, <see cref="AttemptSecrets"/>), and a
/// team key is refused here. The secret is checked before anything else, so a caller without it learns nothing, not even
/// whether the attempt exists.
/// </summary>
public static class AttemptsApi
{
    /// <summary>An event is under 300 bytes.</summary>
    public const long MaxBodyBytes = 4 * 1024;

    public static IEndpointRouteBuilder MapAttemptsApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/attempts/{token}/events", RecordEventAsync)
            .WithTags("Attempts")
            .AllowAnonymous()
            .WithMetadata(new RequestSizeLimitAttribute(MaxBodyBytes), new SecuredBy(OpenApiDocumentation.AttemptScheme))
            .WithName("RecordAttemptEvent").WithSummary("Report an event of an attempt (the instance's agent)")
            .WithDescription("started, heartbeat, notice or exited, with the attempt's secret as the bearer token. Not for team keys (403).")
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        return app;
    }

    public static async Task<Results<NoContent, ValidationProblem, NotFound<ProblemDetails>, ProblemHttpResult>> RecordEventAsync(
        string token, HttpRequest request, [AsParameters] AttemptsServices services, CancellationToken cancellationToken)
    {
        var clientToken = ClientTokenOf(token);
        if (Refusal(request, clientToken, services) is { } refused)
        {
            return refused;
        }
        if (!JobInput.IsJson(request.ContentType))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Events are sent as JSON",
                detail: $"Content-Type is '{request.ContentType}'; send application/json");
        }
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer, cancellationToken);
        var now = services.Time.GetUtcNow();
        var (e, errors) = AttemptEventInput.Read(buffer.ToArray(), now);
        if (e is null)
        {
            return TypedResults.ValidationProblem(errors, title: "The event has errors; nothing was recorded");
        }
        if (!await IsKnownAsync(clientToken, services.Store, cancellationToken))
        {
            return TypedResults.NotFound(new ProblemDetails
            {
                Title = "No such attempt",
                Status = StatusCodes.Status404NotFound,
                Detail = $"no launched attempt has the token '{clientToken}'",
            });
        }
        var report = services.Reports.Record(clientToken, e);
        AttemptLog.Reported(services.Logger, clientToken, e.Kind, e.ExitCode, report.ProgressHours);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// The token as the reconciler made it (<c>team/id#attempt</c>). The agent percent-encodes it; the server decodes every
    /// escape of the path but <c>%2F</c>, which it leaves as is so that an encoded '/' cannot split the route.
    /// </summary>
    public static string ClientTokenOf(string routeValue) => routeValue.Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);

    /// <summary>401 without the attempt's secret, 403 for a team key (which never opens this endpoint); null when the secret is right.</summary>
    private static ProblemHttpResult? Refusal(HttpRequest request, string clientToken, AttemptsServices services)
    {
        var presented = request.Headers.Authorization.Count == 1 ? ApiKeyAuthenticationHandler.BearerKey(request.Headers.Authorization.ToString()) : null;
        if (presented is not null && services.Secrets.Verify(clientToken, presented))
        {
            return null;
        }
        if (presented is not null && services.Keys.TeamOf(presented) is not null)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Team keys cannot report for an attempt",
                detail: "this endpoint takes the attempt's own secret, which its instance's user data carries; a team key is for the jobs API");
        }
        request.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
        return TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Not this attempt's secret",
            detail: presented is null
                ? "send the attempt's secret as Authorization: Bearer <secret>"
                : "the secret is not this attempt's");
    }

    /// <summary>An attempt the job has launched: its job is stored, and the attempt is its current one or an earlier one.</summary>
    private static async Task<bool> IsKnownAsync(string clientToken, IJobStore store, CancellationToken cancellationToken) =>
        ClientTokens.TryParse(clientToken, out var key, out var attempt)
        && await store.GetAsync(key, cancellationToken) is { } job
        && attempt <= job.Attempt;
}

internal static partial class AttemptLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "Attempt {ClientToken} reported {Kind} (exit code {ExitCode}, progress {ProgressHours} h)")]
    public static partial void Reported(ILogger logger, string clientToken, AttemptEventKind kind, int? exitCode, double? progressHours);
}
