using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Budgeting;
using Spotwise.Runtime.History;
using Spotwise.Runtime.Intake;

namespace Spotwise.Server;

/// <summary>What the jobs endpoints need, bundled for <c>[AsParameters]</c>.</summary>
public sealed class JobsServices(IJobStore store, JobIntake intake, TimeProvider time, RunHistoryTracker? history = null)
{
    /// <summary>What the scheduler learned of run times: the single-job view shows the estimate the plan uses.</summary>
    public RunHistoryTracker? History { get; } = history;

    public IJobStore Store { get; } = store;

    public JobIntake Intake { get; } = intake;

    public TimeProvider Time { get; } = time;
}

/// <summary>
/// <c>/api/jobs</c>: submit (one job or a batch, idempotent by job id), list, get with events, cancel. A key sees only its
/// team's jobs, and job ids are the team's own: every handler addresses (the key's team, id), so another team's job is
/// 404, never 403, and another team's id is free to use (never 409).
/// </summary>
public static class JobsApi
{
    public const int DefaultListLimit = 1_000;
    public const int MaxListLimit = 10_000;

    /// <summary>The one body type the jobs and plan endpoints take.</summary>
    public const string JsonContent = "application/json";

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/jobs").RequireAuthorization().WithTags("Jobs");
        api.MapPost("/", SubmitAsync).WithName("SubmitJobs").WithSummary("Submit one job or a batch")
            .WithDescription("The body is one job, an array of up to 1,000 jobs, or {\"jobs\": [...]}. Idempotent by jobId: the same job "
                + "again is 200 with the stored job, a different job under a used jobId is 409. One job answers 201 with the job; a batch answers "
                + "200 with each job's outcome. Nothing is stored when any job has errors (400, each error under its field's path).")
            .TakesJobs()
            .AddOpenApiOperationTransformer((operation, context, _) =>
            {
                SubmitAnswers(operation, context.Document);
                return Task.CompletedTask;
            });
        api.MapGet("/", ListAsync).WithName("ListJobs").WithSummary("List the team's jobs")
            .WithDescription("In submission order, at most `limit` (1..10000, default 1000) after the job `after`; `state` takes a comma-separated "
                + "list. A full page carries a Link header (rel=\"next\") to the next.");
        api.MapGet("/{id}", GetAsync).WithName("GetJob").WithSummary("Read one job with its events");
        api.MapDelete("/{id}", CancelAsync).WithName("CancelJob").WithSummary("Cancel a job that is not finished")
            .WithDescription("The reconcile loop terminates its instance, if any. A finished job is 409.");
        return app;
    }

    public static async Task<Results<Created<JobView>, Ok<JobView>, Ok<IReadOnlyList<SubmitItemView>>, Conflict<ProblemDetails>, ValidationProblem, ProblemHttpResult>> SubmitAsync(
        HttpRequest request, ClaimsPrincipal user, [AsParameters] JobsServices services, CancellationToken cancellationToken)
    {
        var (body, refusal) = await JobInput.ReadAsync(request, cancellationToken);
        if (refusal is not null)
        {
            return refusal;
        }
        var team = user.Team();
        var result = await services.Intake.SubmitAsync(body, team, cancellationToken);
        if (result.OverBudget is { } overBudget)
        {
            return TypedResults.Conflict(OverBudget(overBudget));
        }
        if (!result.Ok)
        {
            return TypedResults.ValidationProblem(JobInput.Errors(result.Errors), title: "The jobs have errors; nothing was stored");
        }
        if (result.IsBatch)
        {
            IReadOnlyList<SubmitItemView> items = [.. result.Results.Select(r => new SubmitItemView(
                r.JobId, r.Outcome.ToString().ToLowerInvariant(), r.Record is { } rec && rec.Team == team ? JobView.From(rec) : null))];
            return TypedResults.Ok(items);
        }
        var one = result.Results[0];
        return one.Outcome switch
        {
            SubmitOutcome.Created => TypedResults.Created($"/api/jobs/{Uri.EscapeDataString(one.JobId)}", JobView.From(one.Record!)),
            SubmitOutcome.Duplicate => TypedResults.Ok(JobView.From(one.Record!)),
            _ => TypedResults.Conflict(new ProblemDetails
            {
                Title = "Job id already used",
                Status = StatusCodes.Status409Conflict,
                Detail = $"job '{one.JobId}' was already submitted with a different body; submit it under a new jobId",
            }),
        };
    }

    public static async Task<Results<Ok<IReadOnlyList<JobView>>, ValidationProblem>> ListAsync(
        ClaimsPrincipal user, [AsParameters] JobsServices services, CancellationToken cancellationToken,
        string? state = null, int? limit = null, string? after = null, HttpResponse? response = null)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var states = new List<JobState>();
        foreach (var text in (state ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (JobStates.TryParse(text, out var s))
            {
                states.Add(s);
            }
            else
            {
                errors["state"] = [$"'{text}' is not a job state; use one of {string.Join(", ", Enum.GetValues<JobState>().Select(x => x.ToWire()))}"];
            }
        }
        if (limit is < 1 or > MaxListLimit)
        {
            errors["limit"] = [$"{limit} is out of range; use 1..{MaxListLimit}"];
        }
        if (after is not null && await services.Store.GetAsync(new JobKey(user.Team(), after), cancellationToken) is null)
        {
            errors["after"] = [$"'{after}' is not one of your jobs; pass the last job id of the previous page"];
        }
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }
        var pageSize = limit ?? DefaultListLimit;
        var jobs = await services.Store.ListAsync(new JobQuery(user.Team(), states.Count > 0 ? states : null, pageSize, after), cancellationToken);
        if (jobs.Count == pageSize && response is not null)
        {
            // A full page may have more behind it: RFC 8288's next link, as GitHub's API pages.
            var next = QueryString.Create([
                .. state is null ? [] : new[] { KeyValuePair.Create("state", (string?)state) },
                KeyValuePair.Create("limit", (string?)pageSize.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                KeyValuePair.Create("after", (string?)jobs[^1].Id)]);
            response.Headers.Append("Link", $"</api/jobs{next}>; rel=\"next\"");
        }
        IReadOnlyList<JobView> views = [.. jobs.Select(j => JobView.From(j))];
        return TypedResults.Ok(views);
    }

    public static async Task<Results<Ok<JobView>, NotFound<ProblemDetails>>> GetAsync(
        string id, ClaimsPrincipal user, [AsParameters] JobsServices services, CancellationToken cancellationToken)
    {
        var key = new JobKey(user.Team(), id);
        var record = await services.Store.GetAsync(key, cancellationToken);
        if (record is null)
        {
            return NotFound(id);
        }
        var events = await services.Store.EventsAsync(key, cancellationToken);
        return TypedResults.Ok(JobView.From(record, events, (services.History?.Current ?? RunHistory.Empty).EstimateFor(record)));
    }

    /// <summary>Cancels a job that is not final; the reconcile loop terminates its instance, if any.</summary>
    public static async Task<Results<Ok<JobView>, NotFound<ProblemDetails>, Conflict<ProblemDetails>>> CancelAsync(
        string id, ClaimsPrincipal user, [AsParameters] JobsServices services, CancellationToken cancellationToken)
    {
        var team = user.Team();
        var key = new JobKey(team, id);
        // A loop writer may update the job between our read and write; the version check tells us, and we read again.
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var record = await services.Store.GetAsync(key, cancellationToken);
            if (record is null)
            {
                return NotFound(id);
            }
            if (record.State.IsFinal())
            {
                return TypedResults.Conflict(new ProblemDetails
                {
                    Title = "Job already finished",
                    Status = StatusCodes.Status409Conflict,
                    Detail = $"job '{id}' is already {record.State.ToWire()}; it cannot be cancelled",
                });
            }
            var now = services.Time.GetUtcNow();
            var cancel = JobTransitions.Cancel(record, team, now);
            var updated = await services.Store.TryUpdateAsync(cancel.Record, cancel.Cause, now, cancellationToken);
            if (updated is not null)
            {
                return TypedResults.Ok(JobView.From(updated));
            }
        }
        return TypedResults.Conflict(new ProblemDetails
        {
            Title = "Job is changing",
            Status = StatusCodes.Status409Conflict,
            Detail = $"job '{id}' kept changing while it was cancelled; try again",
        });
    }

    /// <summary>
    /// 409, not 402: 402 Payment Required is reserved by RFC 9110 with no defined use, and the refusal is a conflict with
    /// the state of the team's budget, which a later period or a larger limit resolves (docs/teams.md#budgets).
    /// </summary>
    public static ProblemDetails OverBudget(BudgetRefusal refusal)
    {
        var b = refusal.Budget;
        return new ProblemDetails
        {
            Title = "Over budget",
            Status = StatusCodes.Status409Conflict,
            Detail = refusal.Message + "; nothing was stored",
            Extensions =
            {
                ["team"] = b.Team,
                ["period"] = b.Period.ToWire(),
                ["limitUsd"] = b.LimitUsd,
                ["spentUsd"] = b.SpentUsd,
                ["committedUsd"] = b.CommittedUsd,
                ["leftUsd"] = b.LeftUsd,
                ["neededUsd"] = refusal.NeededUsd,
                ["jobs"] = refusal.Jobs.Select(j => new { jobId = j.JobId, neededUsd = j.CheapestUsd }).ToList(),
            },
        };
    }

    /// <summary>
    /// A 200 from <see cref="SubmitAsync"/> is the stored job for one job sent again, or each job's outcome for a batch; the
    /// generator keeps one of the two <c>Ok</c> types, so the document is told both.
    /// </summary>
    private static void SubmitAnswers(OpenApiOperation operation, OpenApiDocument? document)
    {
        if (operation.Responses?.GetValueOrDefault("200")?.Content is { } content && content.TryGetValue(JsonContent, out var ok))
        {
            ok.Schema = new OpenApiSchema
            {
                OneOf =
                [
                    new OpenApiSchemaReference(nameof(JobView), document),
                    new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchemaReference(nameof(SubmitItemView), document) },
                ],
            };
        }
    }

    private static NotFound<ProblemDetails> NotFound(string id) => TypedResults.NotFound(new ProblemDetails
    {
        Title = "No such job",
        Status = StatusCodes.Status404NotFound,
        Detail = $"no job '{id}' for this key's team",
    });
}
