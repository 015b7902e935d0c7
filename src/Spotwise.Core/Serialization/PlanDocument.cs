using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Spotwise.Core.Serialization;

/// <summary>
/// The plan as a JSON document: what <c>spotwise plan --format json</c> prints and the HTTP API returns.
/// Field names are a public contract (README); add, never rename.
/// </summary>
public sealed record PlanDocument(
    string Planner,
    DateTimeOffset Now,
    string Status,
    PlanDocument.TotalsView Totals,
    IReadOnlyList<PlanDocument.AssignmentView> Schedule,
    IReadOnlyList<PlanDocument.UnplannedView> Unplanned)
{
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static PlanDocument From(Plan plan) => new(
        plan.Planner,
        plan.Now,
        plan.Status.ToString().ToLowerInvariant(),
        new TotalsView(plan.Totals.ExpectedCostUsd, plan.Totals.OnDemandCostUsd, plan.Totals.SavingsPct, plan.Totals.LowerBoundUsd,
            plan.Totals.GapPct, plan.Totals.SolveSeconds, plan.Totals.JobsPlanned, plan.Totals.JobsUnplanned, plan.Totals.DeadlinesAtRisk),
        [.. plan.Schedule.Select(a => new AssignmentView(a.JobId, a.Market.ToWire(), a.Offer.InstanceType.Name, a.Offer.Zone, a.Start, a.End,
            a.Offer.PricePerHourUsd, a.ExpectedCostUsd, a.FallbackAt, a.Reason) { Commitment = a.Commitment })],
        [.. plan.Unplanned.Select(u => new UnplannedView(u.JobId, u.Reason))])
    {
        Llm = plan.Llm is { } llm ? LlmView.From(llm) : null,
        LaunchAllowanceSeconds = plan.LaunchAllowance.TotalSeconds,
        FairShare = plan.FairShare is { } fair ? FairShareView.From(fair) : null,
    };

    /// <summary>
    /// The <c>fairShare</c> section: the teams' weights and use the plan divided contested capacity by; absent when fair
    /// share did not apply (it is off, or fewer than two teams waited).
    /// </summary>
    public FairShareView? FairShare { get; init; }

    /// <summary>The <c>llm</c> section: present only on plans a generative model took part in.</summary>
    public LlmView? Llm { get; init; }

    /// <summary>Seconds from each job's start (its launch) until its work runs; the end counts them (<see cref="Plan.LaunchAllowance"/>).</summary>
    public double LaunchAllowanceSeconds { get; init; }

    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>
    /// The document with only the jobs <paramref name="rename"/> gives a new id for, under that id, in its per-job lists
    /// (schedule, unplanned, the llm section's violations and repairs; a violation naming no job stays), and every reason
    /// and message rewritten by <paramref name="retext"/>. The service stores plans under <c>team/id</c> and shows a team
    /// its jobs, and the jobs its messages name, under their own ids. Totals stay the whole plan's: the bound and gap
    /// prove something about the plan as a whole, not about a part of it.
    /// </summary>
    public PlanDocument RenameJobs(Func<string, string?> rename, Func<string, string> retext) => this with
    {
        // Other teams are counted, not named: only the teams the renaming keeps a job of stay in the fair-share section.
        FairShare = FairShare?.Keep(team => Schedule.Any(a => rename(a.JobId) is not null && a.JobId.StartsWith(team + "/", StringComparison.Ordinal))
            || Unplanned.Any(u => rename(u.JobId) is not null && u.JobId.StartsWith(team + "/", StringComparison.Ordinal))),
        Schedule = [.. Schedule.Select(a => rename(a.JobId) is { } id ? a with { JobId = id, Reason = retext(a.Reason) } : null).OfType<AssignmentView>()],
        Unplanned = [.. Unplanned.Select(u => rename(u.JobId) is { } id ? u with { JobId = id, Reason = retext(u.Reason) } : null).OfType<UnplannedView>()],
        Llm = Llm is null ? null : Llm with
        {
            Violations = [.. Llm.Violations
                .Select(v => v.JobId is null ? v with { Message = retext(v.Message) }
                    : rename(v.JobId) is { } id ? v with { JobId = id, Message = retext(v.Message) } : null)
                .OfType<ViolationView>()],
            Repaired = [.. Llm.Repaired.Select(r => rename(r.JobId) is { } id ? r with { JobId = id, Reason = retext(r.Reason) } : null).OfType<RepairView>()],
        },
    };

    public sealed record TotalsView(
        double ExpectedCostUsd, double OnDemandCostUsd, double SavingsPct, double LowerBoundUsd, double GapPct,
        double SolveSeconds, int JobsPlanned, int JobsUnplanned, int DeadlinesAtRisk);

    public sealed record AssignmentView(
        string JobId, string Market, string InstanceType, string Zone, DateTimeOffset StartTime, DateTimeOffset EndTime,
        double PricePerHourUsd, double ExpectedCostUsd, DateTimeOffset? FallbackAt, string Reason)
    {
        /// <summary>
        /// The commitment the job uses: <c>reserved:TYPE@ZONE</c> or <c>savings-plan</c>; absent when it pays the market's
        /// price. <see cref="PricePerHourUsd"/> is then what it pays: 0 on a reserved instance (the fee is sunk), the discounted price on the plan.
        /// </summary>
        public string? Commitment { get; init; }
    }

    public sealed record UnplannedView(string JobId, string Reason);

    /// <summary>
    /// Fair share as the plan used it: the window and damping band, the weights and use summed over every team waiting,
    /// and each team's figures (its weighted share and its share of the use, 0..1, and its deficit in bands).
    /// </summary>
    public sealed record FairShareView(double WindowHours, double BandPct, double TotalWeight, double TotalUsedInstanceHours, IReadOnlyList<TeamShareView> Teams)
    {
        public static FairShareView From(FairShare fair) => new(fair.WindowHours, fair.BandPct, fair.Teams.Sum(t => t.Weight),
            Math.Round(fair.Teams.Sum(t => t.UsedInstanceHours), 4),
            [.. fair.Teams.Select(t => new TeamShareView(t.Team, t.Weight, Math.Round(t.UsedInstanceHours, 4), Math.Round(fair.ShareOf(t.Team), 4),
                Math.Round(fair.UsageOf(t.Team), 4), fair.BandOf(t.Team)))]);

        /// <summary>The section with only the teams <paramref name="keep"/> names; the totals stay every team's.</summary>
        public FairShareView Keep(Func<string, bool> keep) => this with { Teams = [.. Teams.Where(t => keep(t.Team))] };

        /// <summary>
        /// A team's figures in words, as the planner's reasons give them: <c>team ml: weight 1 of 3, share 33%, used 12.5 of
        /// 20 instance-hours (62%) in the last 24 h, 2 bands behind</c>; null when the plan has none for it.
        /// </summary>
        public string? Describe(string team) => Teams.FirstOrDefault(t => string.Equals(t.Team, team, StringComparison.Ordinal)) is not { } t ? null
            : FormattableString.Invariant(
                $"team {t.Team}: weight {t.Weight:0.##} of {TotalWeight:0.##}, share {t.Share * 100:0}%, used {t.UsedInstanceHours:0.#} of {TotalUsedInstanceHours:0.#} instance-hours ({t.Usage * 100:0}%) in the last {WindowHours:0.#} h, deficit {t.Band:+0;-0;0} band(s) of {BandPct:0.#} points");
    }

    /// <summary>One team's fair-share figures: <see cref="Share"/> and <see cref="Usage"/> 0..1, <see cref="Band"/> its deficit (share − use) in bands.</summary>
    public sealed record TeamShareView(string Team, double Weight, double UsedInstanceHours, double Share, double Usage, int Band);

    public sealed record LlmView(
        string Model, double LatencySeconds, long TokensIn, long TokensOut, int Chunks, bool RawProposalValid,
        IReadOnlyList<ViolationView> Violations, IReadOnlyList<RepairView> Repaired, int Kept, string? Fallback,
        double? CostVsOptimizerPct, string? Chosen)
    {
        public static LlmView From(LlmReport r) => new(
            r.Model, Math.Round(r.LatencySeconds, 3), r.TokensIn, r.TokensOut, r.Chunks, r.RawProposalValid,
            [.. r.Violations.Select(v => new ViolationView(JsonNamingPolicy.KebabCaseLower.ConvertName(v.Kind.ToString()), v.JobId, v.Message))],
            [.. r.Repaired.Select(x => new RepairView(x.JobId, x.Reason))], r.Kept, r.Fallback,
            r.CostVsOptimizerPct is { } pct ? Math.Round(pct, 2) : null, r.Chosen)
        {
            TimedOut = r.TimedOut ? true : null,
        };

        /// <summary>True when the cycle's limit came before the model's answer (absent otherwise): the optimizer's plan was used.</summary>
        public bool? TimedOut { get; init; }
    }

    public sealed record ViolationView(string Kind, string? JobId, string Message);

    public sealed record RepairView(string JobId, string Reason);
}
