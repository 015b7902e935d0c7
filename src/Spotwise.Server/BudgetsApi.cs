using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Spotwise.Runtime.Budgeting;

namespace Spotwise.Server;

/// <summary>What the budget endpoints need, bundled for <c>[AsParameters]</c>.</summary>
public sealed class BudgetServices(Budgets budgets)
{
    public Budgets Budgets { get; } = budgets;
}

/// <summary>A team's budget as the API shows it: the limit of the period running, what has run, what is committed, what is left.</summary>
public sealed record BudgetView(
    string Team, string Period, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, double LimitUsd, double SpentUsd, double CommittedUsd, double LeftUsd)
{
    public static BudgetView From(BudgetStatus s) =>
        new(s.Team, s.Period.ToWire(), s.PeriodStart, s.PeriodEnd, s.LimitUsd, s.SpentUsd, s.CommittedUsd, s.LeftUsd);
}

/// <summary>
/// <c>/api/teams/{team}/budget</c>: the admin key (<see cref="AdminKey"/>) sets a team's dollar budget; the admin or the
/// team's own key reads it (docs/teams.md#budgets). A team key is 403 on the PUT and on another team's budget; no key is 401.
/// </summary>
public static class BudgetsApi
{
    public const string Route = "/api/teams/{team}/budget";

    public static IEndpointRouteBuilder MapBudgetsApi(this IEndpointRouteBuilder app)
    {
        app.MapPut(Route, PutAsync).RequireAuthorization(AdminKey.Policy).WithTags("Budgets")
            .WithName("SetTeamBudget").WithSummary("Set a team's dollar budget (admin key)")
            .Accepts<BudgetInput>("application/json")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden)
            // The body is read under the API's size limit, and routing refuses a body that is not JSON (Accepts).
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge).ProducesProblem(StatusCodes.Status415UnsupportedMediaType);
        app.MapGet(Route, GetAsync).RequireAuthorization(AdminKey.AdminOrTeamPolicy).WithTags("Budgets")
            .WithName("GetTeamBudget").WithSummary("A team's budget: limit, spent, committed and left in the period running")
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status404NotFound);
        return app;
    }

    public static async Task<Results<Ok<BudgetView>, ValidationProblem>> PutAsync(
        string team, HttpRequest request, [AsParameters] BudgetServices services, CancellationToken cancellationToken)
    {
        var (limit, errors) = await BudgetInput.ReadAsync(request, cancellationToken);
        if (limit is null)
        {
            return TypedResults.ValidationProblem(errors, title: "The budget has errors; nothing was changed");
        }
        await services.Budgets.SetAsync(team, limit, cancellationToken);
        return TypedResults.Ok(BudgetView.From((await services.Budgets.StatusAsync(team, cancellationToken))!));
    }

    public static async Task<Results<Ok<BudgetView>, NotFound<ProblemDetails>, ProblemHttpResult>> GetAsync(
        string team, ClaimsPrincipal user, [AsParameters] BudgetServices services, CancellationToken cancellationToken)
    {
        if (!user.MayRead(team))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Not your team",
                detail: $"this key may read its own team's budget, not team '{team}''s; the admin key reads any");
        }
        return await services.Budgets.StatusAsync(team, cancellationToken) is { } status
            ? TypedResults.Ok(BudgetView.From(status))
            : TypedResults.NotFound(new ProblemDetails
            {
                Title = "No budget",
                Status = StatusCodes.Status404NotFound,
                Detail = $"team '{team}' has no budget (Spotwise:Budgets:{team}, or PUT {Route.Replace("{team}", team, StringComparison.Ordinal)})",
            });
    }
}

/// <summary>The body of <c>PUT /api/teams/{team}/budget</c>: <c>{"period": "day|week|month", "limitUsd": 100}</c>.</summary>
public sealed record BudgetInput(string Period, double LimitUsd)
{
    /// <summary>The largest body read: a budget is a few dozen bytes.</summary>
    public const int MaxBodyBytes = 4096;

    /// <summary>Reads the body; every problem names its field and the value at fault.</summary>
    public static async Task<(BudgetLimit? Limit, Dictionary<string, string[]> Errors)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        JsonDocument doc;
        try
        {
            using var buffer = new MemoryStream();
            await request.Body.CopyToAsync(buffer, cancellationToken);
            if (buffer.Length > MaxBodyBytes)
            {
                errors["body"] = [$"{buffer.Length} bytes is too large; a budget is under {MaxBodyBytes}"];
                return (null, errors);
            }
            doc = JsonDocument.Parse(buffer.ToArray());
        }
        catch (JsonException e)
        {
            errors["body"] = [$"is not JSON: {e.Message}"];
            return (null, errors);
        }
        using (doc)
        {
            try
            {
                return Read(doc.RootElement, errors);
            }
            catch (InvalidOperationException)
            {
                // A string the parser took but cannot read (a lone surrogate escape).
                errors["body"] = ["holds a string that is not valid text"];
                return (null, errors);
            }
        }
    }

    private static (BudgetLimit?, Dictionary<string, string[]>) Read(JsonElement root, Dictionary<string, string[]> errors)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            errors["body"] = [$"is {root.ValueKind.ToString().ToLowerInvariant()}; send {{\"period\": \"week\", \"limitUsd\": 100}}"];
            return (null, errors);
        }
        foreach (var p in root.EnumerateObject().Where(p => p.Name is not ("period" or "limitUsd")))
        {
            errors[p.Name] = [$"'{p.Name}' is not a budget field; the fields are period and limitUsd"];
        }
        var period = BudgetPeriod.Month;
        if (!root.TryGetProperty("period", out var periodText))
        {
            errors["period"] = [$"is missing; use one of {string.Join(", ", BudgetPeriods.Names)}"];
        }
        else if (periodText.ValueKind != JsonValueKind.String || !BudgetPeriods.TryParse(periodText.GetString(), out period))
        {
            errors["period"] = [$"{periodText.GetRawText()} is not a period; use one of {string.Join(", ", BudgetPeriods.Names)}"];
        }
        var limit = 0.0;
        if (!root.TryGetProperty("limitUsd", out var limitValue))
        {
            errors["limitUsd"] = ["is missing; give the limit in USD"];
        }
        else if (limitValue.ValueKind != JsonValueKind.Number || !limitValue.TryGetDouble(out limit))
        {
            errors["limitUsd"] = [$"{limitValue.GetRawText()} is not a number of USD"];
        }
        else if (BudgetLimit.WhyNot(limit) is { } why)
        {
            errors["limitUsd"] = [string.Create(CultureInfo.InvariantCulture, $"{why}")];
        }
        return errors.Count == 0 ? (new BudgetLimit(period, limit), errors) : (null, errors);
    }
}
