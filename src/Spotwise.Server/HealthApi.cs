using Microsoft.AspNetCore.Http.HttpResults;
using Spotwise.Runtime.Backends;

namespace Spotwise.Server;

/// <summary>
/// <c>GET /healthz</c>: 200 "ok" while every backend can act; 503 with one plain-text line per problem
/// (<c>aws: missing permission ec2:RunInstances (UnauthorizedOperation: ...)</c>) while one cannot, so a probe or a person
/// sees what to fix. Open to anyone, as it always was; a problem names a permission, never a secret.
/// </summary>
public static class HealthApi
{
    public static IEndpointRouteBuilder MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", Healthz);
        return app;
    }

    public static ContentHttpResult Healthz(BackendHealth health) => health.Problems is { Count: > 0 } problems
        ? TypedResults.Text(string.Concat(problems.Select(p => p + "\n")), "text/plain; charset=utf-8", statusCode: StatusCodes.Status503ServiceUnavailable)
        : TypedResults.Text("ok");
}
