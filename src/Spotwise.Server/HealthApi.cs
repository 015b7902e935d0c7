using Microsoft.AspNetCore.Http.HttpResults;
using Spotwise.Runtime.Backends;
using Spotwise.Runtime.Leadership;

namespace Spotwise.Server;

/// <summary>
/// <c>GET /healthz</c>: 200 "ok" while every backend can act; 503 with one plain-text line per problem
/// (<c>aws: missing permission ec2:RunInstances (UnauthorizedOperation: ...)</c>) while one cannot, so a probe or a person
/// sees what to fix. Open to anyone, as it always was; a problem names a permission, never a secret. Among replicas the
/// answer says this one's role (<c>ok: leader, epoch 3</c> or <c>ok: follower</c>; a follower is healthy: it serves the API).
/// </summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Healthz).WithTags("Health").WithName("GetHealth").WithSummary("Whether every backend can act")
            .WithDescription("200 `ok` (with this replica's role among replicas); 503 with one line per problem while a backend cannot act. Anonymous.")
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .Produces<string>(StatusCodes.Status503ServiceUnavailable, "text/plain");
        return app;
    }

    public static ContentHttpResult Healthz(BackendHealth health, IServiceProvider services) => health.Problems is { Count: > 0 } problems
        ? TypedResults.Text(string.Concat(problems.Select(p => p + "\n")), "text/plain; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable)
        : TypedResults.Text(Role(services.GetService<ILeadership>()) is { } role ? "ok: " + role : "ok");

    /// <summary>This replica's role among replicas; null when it is the only one.</summary>
    public static string? Role(ILeadership? leadership) => leadership is null ? null
        : leadership.Current is { } term ? $"leader, epoch {term.Epoch}" : "follower";
}
