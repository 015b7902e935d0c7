using System.Collections.Immutable;
using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Planning;
using Spotwise.Runtime;
using Spotwise.Runtime.Intake;

namespace Spotwise.Server;

/// <summary>What the plan endpoints need, bundled for <c>[AsParameters]</c>.</summary>
public sealed class PlanServices(IJobStore store, IPlanner planner, SchedulerOptions scheduling, Catalog catalog, TimeProvider time)
{
    public IJobStore Store { get; } = store;

    public IPlanner Planner { get; } = planner;

    public SchedulerOptions Scheduling { get; } = scheduling;

    public Catalog Catalog { get; } = catalog;

    public TimeProvider Time { get; } = time;
}

/// <summary><c>/api/plan</c>: the latest stored plan, and a preview that plans a posted queue without storing anything.</summary>
public static class PlanApi
{
    public static IEndpointRouteBuilder MapPlanApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/plan").RequireAuthorization().WithTags("Plan");
        api.MapGet("/", LatestAsync).WithName("GetLatestPlan").WithSummary("Read the latest plan (the team's jobs in it)")
            .WithDescription("The whole plan's totals with only the key's team's assignments and unplanned jobs. 404 before the first plan.");
        api.MapPost("/preview", PreviewAsync).WithName("PreviewPlan").WithSummary("Plan posted jobs without storing them")
            .WithDescription("Plans the posted jobs (the body as for SubmitJobs) with the configured planner and limits, as if the queue held only them.")
            .TakesJobs();
        return app;
    }

    public static async Task<Results<Ok<PlanDocument>, NotFound>> LatestAsync(
        ClaimsPrincipal user, [AsParameters] PlanServices services, CancellationToken cancellationToken) =>
        await TeamPlanAsync(services.Store, user.Team(), cancellationToken) is { } plan ? TypedResults.Ok(plan) : TypedResults.NotFound();

    /// <summary>
    /// The latest plan as a team may see it: its own jobs only (one plan covers every team's queue; job ids and
    /// reasons are the teams' own business), under their own ids, with the whole plan's totals. The stored plan names
    /// jobs by key, <c>team/id</c> (<see cref="Scheduler.PlanningId"/>), so the team's entries are those of its keys.
    /// </summary>
    public static async Task<PlanDocument?> TeamPlanAsync(IJobStore store, string team, CancellationToken cancellationToken) =>
        await store.LatestPlanAsync(cancellationToken) is { } plan
            ? plan.RenameJobs(id => JobKey.TryParse(id, out var key) && key.Team == team ? key.Id : null, text => JobKey.ForTeam(text, team))
            : null;

    /// <summary>Plans the posted jobs with the configured planner and limits, as if the queue held only them.</summary>
    public static async Task<Results<Ok<PlanDocument>, ValidationProblem, ProblemHttpResult>> PreviewAsync(
        HttpRequest request, ClaimsPrincipal user, [AsParameters] PlanServices services, CancellationToken cancellationToken)
    {
        var (body, refusal) = await JobInput.ReadAsync(request, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }
        var now = services.Time.GetUtcNow();
        var doc = JobIntake.Read(body, now, services.Catalog, JobIntake.Preview, user.Team());
        if (!doc.Ok)
        {
            return TypedResults.ValidationProblem(JobInput.Errors(doc.Errors), title: "The jobs have errors; nothing was planned");
        }
        ImmutableArray<Job> jobs = [.. doc.Jobs.Select(j => j.Job)];
        var problem = new PlanningProblem(now, jobs, services.Catalog, services.Scheduling.Limits, services.Scheduling.Settings);
        // Off the request's thread: the optimizers compute in place before their task completes.
        var plan = await Task.Run(() => services.Planner.SolveAsync(problem, services.Scheduling.Solve, cancellationToken), cancellationToken);
        return TypedResults.Ok(PlanDocument.From(plan));
    }
}
