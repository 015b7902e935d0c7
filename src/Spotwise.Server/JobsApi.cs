using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Spotwise.Core;
using Spotwise.Runtime;

namespace Spotwise.Server;

/// <summary>What the jobs endpoints need, bundled for <c>[AsParameters]</c>.</summary>
public sealed class JobsServices(IJobStore store, Catalog catalog, TimeProvider time, SchedulerLoop scheduler)
{
    public IJobStore Store { get; } = store;

    public Catalog Catalog { get; } = catalog;

    public TimeProvider Time { get; } = time;

    public SchedulerLoop Scheduler { get; } = scheduler;
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

    public static IEndpointRouteBuilder MapJobsApi(this IEndpointRouteBuilder app)
    {
        var api = app.MapGroup("/api/jobs").RequireAuthorization().WithTags("Jobs");
        api.MapPost("/", SubmitAsync);
        api.MapGet("/", ListAsync);
        api.MapGet("/{id}", GetAsync);
        api.MapDelete("/{id}", CancelAsync);
        return app;
    }

    public static async Task<Results<Created<JobView>, Ok<JobView>, Ok<IReadOnlyList<SubmitItemView>>, Conflict<ProblemDetails>, ValidationProblem, ProblemHttpResult>> SubmitAsync(
        HttpRequest request, ClaimsPrincipal user, [AsParameters] JobsServices services, CancellationToken cancellationToken)
    {
        var now = services.Time.GetUtcNow();
        var input = await JobInput.ReadAsync(request, now, services.Catalog, cancellationToken);
        if (input is null)
        {
            return TooLarge();
        }
        if (!input.Ok)
        {
            return TypedResults.ValidationProblem(input.Errors, title: "The jobs have errors; nothing was stored");
        }
        var team = user.Team();
        var wrongTeam = WrongTeam(input, team);
        if (wrongTeam.Count > 0)
        {
            return TypedResults.ValidationProblem(wrongTeam, title: "The jobs have errors; nothing was stored");
        }
        var results = await StoreAsync(input, team, services, now, cancellationToken);
        if (input.IsBatch)
        {
            IReadOnlyList<SubmitItemView> items = [.. results.Select(r => new SubmitItemView(
                r.JobId, r.Outcome.ToString().ToLowerInvariant(), r.Record is { } rec && rec.Team == team ? JobView.From(rec) : null))];
            return TypedResults.Ok(items);
        }
        var result = results[0];
        return result.Outcome switch
        {
            SubmitOutcome.Created => TypedResults.Created($"/api/jobs/{Uri.EscapeDataString(result.JobId)}", JobView.From(result.Record!)),
            SubmitOutcome.Duplicate => TypedResults.Ok(JobView.From(result.Record!)),
            _ => TypedResults.Conflict(new ProblemDetails
            {
                Title = "Job id already used",
                Status = StatusCodes.Status409Conflict,
                Detail = $"job '{result.JobId}' was already submitted with a different body; submit it under a new jobId",
            }),
        };
    }

    /// <summary>A job names its team only to say whose it is; a key cannot submit for another team.</summary>
    public static Dictionary<string, string[]> WrongTeam(JobInput input, string team) =>
        input.Jobs.Select((j, i) => (j.Job, Key: input.IsBatch ? $"jobs[{i}].team" : "team"))
            .Where(x => x.Job.Team is { } t && t != team)
            .ToDictionary(x => x.Key, x => new[] { $"job '{x.Job.Id}': team '{x.Job.Team}' is not this key's team '{team}'" }, StringComparer.Ordinal);

    /// <summary>Stores checked jobs for the team and wakes the scheduler when any is new (the API and the dashboard submit here).</summary>
    public static async Task<IReadOnlyList<SubmitResult>> StoreAsync(JobInput input, string team, JobsServices services, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var batch = input.Jobs.Select(j => new Submission(j.Job with { Team = team }, team, j.CanonicalBody)).ToList();
        var results = await services.Store.SubmitAsync(batch, now, cancellationToken);
        if (results.Any(r => r.Outcome == SubmitOutcome.Created))
        {
            services.Scheduler.Signal();
        }
        return results;
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
        return TypedResults.Ok(JobView.From(record, events));
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
            var updated = await services.Store.TryUpdateAsync(record with { State = JobState.Cancelled, FinishedAt = now }, $"cancelled by team {team}", now, cancellationToken);
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

    internal static ProblemHttpResult TooLarge() => TypedResults.Problem(
        statusCode: StatusCodes.Status413PayloadTooLarge,
        title: "Request body too large",
        detail: $"the body is larger than {JobInput.MaxBodyBytes / (1024 * 1024)} MiB; send at most {JobInput.MaxBatch} jobs per request");

    private static NotFound<ProblemDetails> NotFound(string id) => TypedResults.NotFound(new ProblemDetails
    {
        Title = "No such job",
        Status = StatusCodes.Status404NotFound,
        Detail = $"no job '{id}' for this key's team",
    });
}
