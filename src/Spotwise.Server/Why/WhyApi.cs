using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Spotwise.Runtime;

namespace Spotwise.Server.Why;

/// <summary><c>GET /api/jobs/{id}/why</c>: team-scoped like the other job endpoints (another team's job is 404).</summary>
public static class WhyApi
{
    public static IEndpointRouteBuilder MapWhyApi(this IEndpointRouteBuilder app)
    {
        app.MapGroup("/api/jobs").RequireAuthorization().WithTags("Jobs")
            .MapGet("/{id}/why", GetAsync)
            .WithName("GetJobWhy")
            .WithSummary("Why a job is placed where it is, or what it is waiting for, with the figures")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Results<Ok<WhyView>, NotFound<ProblemDetails>>> GetAsync(
        string id, ClaimsPrincipal user, WhyExplainer explainer, CancellationToken cancellationToken) =>
        await explainer.ExplainAsync(new JobKey(user.Team(), id), cancellationToken) is { } why
            ? TypedResults.Ok(why)
            : TypedResults.NotFound(new ProblemDetails
            {
                Title = "No such job",
                Status = StatusCodes.Status404NotFound,
                Detail = $"no job '{id}' for this key's team",
            });
}
