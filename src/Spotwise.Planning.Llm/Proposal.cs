using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Spotwise.Core;

namespace Spotwise.Planning.Llm;

/// <summary>One entry of a model's <c>schedule[]</c>, as written: nothing in it is trusted yet.</summary>
public sealed record ProposedAssignment(string JobId, string Market, string InstanceType, string Zone, string StartTime);

/// <summary>The answer's shape is wrong: not JSON, no <c>schedule</c> array, an entry missing a field.</summary>
public sealed class MalformedProposalException(string message) : Exception(message);

/// <summary>
/// Reads a model's answer strictly (no comments, no trailing commas, no code fences, no missing or extra fields)
/// and turns it into a plan the validator can judge: prices, costs, ends and fallbacks come from the catalog and the
/// cost model, never from the model.
/// </summary>
public static class Proposal
{
    private static readonly HashSet<string> Fields = ["jobId", "market", "instanceType", "zone", "startTime"];

    public static IReadOnlyList<ProposedAssignment> Parse(string text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text, new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            throw new MalformedProposalException($"the answer is not JSON: {e.Message}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty(PlanPrompt.SchemaName, out var schedule) || schedule.ValueKind != JsonValueKind.Array)
            {
                throw new MalformedProposalException("the answer has no \"schedule\" array");
            }
            return [.. schedule.EnumerateArray().Select((e, i) => Entry(e, i))];
        }
    }

    private static ProposedAssignment Entry(JsonElement e, int index)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new MalformedProposalException($"schedule[{index}] is not an object");
        }
        var extra = e.EnumerateObject().Select(p => p.Name).FirstOrDefault(n => !Fields.Contains(n));
        if (extra is not null)
        {
            throw new MalformedProposalException($"schedule[{index}] has an unknown field \"{extra}\"");
        }
        string Field(string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String
            ? v.GetString()!
            : throw new MalformedProposalException($"schedule[{index}].{name} is missing or not a string");
        return new(Field("jobId"), Field("market"), Field("instanceType"), Field("zone"), Field("startTime"));
    }

    /// <summary>
    /// The proposal as a plan of the problem, and the entries that could not even be read as assignments (an unknown
    /// market, a start that is not a time). Jobs no option can hold are listed unplanned with the optimizer's reason, so
    /// the model is not blamed for leaving them out.
    /// </summary>
    public static (Plan Plan, List<Violation> Unreadable) ToPlan(string planner, PlanningProblem problem, IReadOnlyList<JobOptions> options,
        IEnumerable<ProposedAssignment> entries)
    {
        var jobs = problem.Jobs.ToDictionary(j => j.Id, problem.Settings.AsPlanned, StringComparer.Ordinal);
        var schedule = ImmutableArray.CreateBuilder<Assignment>();
        var unreadable = new List<Violation>();
        foreach (var p in entries)
        {
            if (!MarketNames.TryParse(p.Market, out var market))
            {
                unreadable.Add(new(ViolationKind.MalformedAssignment, p.JobId, $"market '{p.Market}' is neither spot nor on-demand"));
                continue;
            }
            if (!DateTimeOffset.TryParse(p.StartTime, CultureInfo.InvariantCulture, DateTimeStyles.None, out var start))
            {
                unreadable.Add(new(ViolationKind.MalformedAssignment, p.JobId, $"startTime '{p.StartTime}' is not an ISO 8601 time"));
                continue;
            }
            schedule.Add(Assignment(problem, jobs.GetValueOrDefault(p.JobId), p, market, start));
        }
        var unplanned = options.Where(o => !o.IsPlannable).Select(o => new UnplannedJob(o.Job.Id, o.WhyNone!)).ToImmutableArray();
        var cost = schedule.Sum(a => a.ExpectedCostUsd);
        var totals = new PlanTotals(cost, cost, 0, 0, 0, 0, schedule.Count, unplanned.Length, 0);
        var plan = new Plan(planner, problem.Now, PlanStatus.Feasible, schedule.ToImmutable(), unplanned, totals) { LaunchAllowance = problem.Settings.LaunchAllowance, FairShare = problem.FairShare };
        return (plan, unreadable);
    }

    /// <summary>
    /// The assignment the entry stands for, priced as the cost model prices it. An instance type the catalog does not
    /// know keeps its name (and no resources) so the validator names it; so does a job or a start beyond the planning
    /// model, which is not priced (its end would overflow): the validator refuses it before any arithmetic.
    /// </summary>
    private static Assignment Assignment(PlanningProblem problem, Job? job, ProposedAssignment p, Market market, DateTimeOffset start)
    {
        var entry = problem.Catalog.Find(p.InstanceType);
        // The named zone's offer; a zone the catalog does not sell the type in keeps the regional price, for the validator to name.
        var catalogOffer = entry is null ? null : problem.Catalog.OfferFor(entry, market, p.Zone) ?? problem.Catalog.OfferFor(entry, market);
        var offer = catalogOffer is null
            ? new Offer(problem.Catalog.Provider, problem.Catalog.RegionOfZone(p.Zone) ?? problem.Catalog.Region, p.Zone,
                new InstanceType(p.InstanceType, 0, 0, 0, null), market, 0, 0)
            : catalogOffer with { Zone = p.Zone };
        // A region the job's data has no transfer price to is left unpriced, for the validator to name.
        var move = job is null || catalogOffer is null ? null : DataTransfer.For(job, catalogOffer, problem.Catalog, problem.Settings);
        if (job is null || catalogOffer is null || move is null || PlanningBounds.WhyOutOfBounds(job, problem) is not null
            || !PlanningBounds.IsWithinHorizon(start, problem))
        {
            return new Assignment(p.JobId, offer, start, start, 0, null, "proposed by the model");
        }
        // Judged as it runs in the offer's region: moving the data there first lengthens the run and adds its price.
        var run = move.Value.Onto(job);
        var fallbackPrice = problem.Catalog.CheapestOnDemandPricePerHourUsd(job.Resources) ?? catalogOffer.PricePerHourUsd;
        var cost = PlanBuilder.Round(move.Value.ExpectedCostUsd(job, catalogOffer, fallbackPrice));
        return new Assignment(job.Id, offer, start, start.AddHours(run.DurationHours), cost,
            market == Market.Spot ? CostModel.FallbackAt(run) : null, "proposed by the model");
    }
}
