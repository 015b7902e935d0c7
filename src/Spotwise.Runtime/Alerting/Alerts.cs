using System.Collections.Immutable;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Core;

namespace Spotwise.Runtime.Alerting;

/// <summary>
/// Decides when something is worth an alert, and raises it once: a deadline at risk once per job per risk episode, the
/// planner's fallback from the model and the optimizer's timeout once per episode, a job's repeated interruptions once
/// when they reach <see cref="AlertRules.RepeatedInterruptions"/>, a budget's threshold once per team, period and
/// threshold. What it remembers is bounded by the latest plan and the teams; it lives in memory, so a restarted service
/// (or a new leader) may say once more what is still true. Raised alerts go to the <see cref="IAlertSink"/>, which never
/// waits. Thread-safe; one instance per service.
/// </summary>
public sealed partial class Alerts(IAlertSink sink, AlertRules rules, TimeProvider time, ILogger<Alerts>? logger = null)
{
    private readonly ILogger<Alerts> _logger = logger ?? NullLogger<Alerts>.Instance;
    private readonly Lock _gate = new();
    private HashSet<string> _atRisk = new(StringComparer.Ordinal);
    private bool _fellBack;
    private bool _timedOut;
    private readonly Dictionary<string, (string Period, double Highest)> _budgets = new(StringComparer.Ordinal);

    public AlertRules Rules => rules;

    /// <summary>
    /// A planning cycle stored <paramref name="plan"/> for <paramref name="problem"/> (jobs named <c>team/id</c>): raises
    /// for each job newly at risk (planned to end with less slack than <see cref="Plan.AtRiskSlackShare"/> of its run, or
    /// left unplanned with a deadline), and for a fallback from the model or an optimizer timeout that was not so in
    /// the plan before. A job at risk in two plans in a row is one episode; it ends when a plan has it safe or no longer
    /// holds it (launched, finished, cancelled).
    /// </summary>
    public IReadOnlyList<Alert> PlanStored(Plan plan, PlanningProblem problem)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(problem);
        var now = time.GetUtcNow();
        var jobs = problem.Jobs.ToDictionary(j => j.Id, StringComparer.Ordinal);
        var atRisk = new Dictionary<string, Alert>(StringComparer.Ordinal);
        foreach (var a in plan.Schedule)
        {
            if (jobs.TryGetValue(a.JobId, out var job) && PlanBuilder.IsAtRisk(problem.Settings.AsPlanned(job), a.End))
            {
                atRisk[a.JobId] = PlannedAtRisk(job, a, now);
            }
        }
        foreach (var u in plan.Unplanned)
        {
            if (jobs.TryGetValue(u.JobId, out var job) && job.Deadline is not null)
            {
                atRisk[u.JobId] = UnplannedAtRisk(job, u, now);
            }
        }
        var raised = new List<Alert>();
        lock (_gate)
        {
            raised.AddRange(atRisk.Where(kv => !_atRisk.Contains(kv.Key)).Select(kv => kv.Value));
            _atRisk = [.. atRisk.Keys];
            if (Episode(ref _fellBack, plan.Llm?.Fallback is not null))
            {
                raised.Add(FellBack(plan, now));
            }
            if (Episode(ref _timedOut, plan.Status == PlanStatus.Timeout))
            {
                raised.Add(TimedOut(plan, now));
            }
        }
        return Raise(raised);
    }

    /// <summary>
    /// <paramref name="job"/> was interrupted, its <paramref name="interruptions"/>-th time: raises when that reaches
    /// <see cref="AlertRules.RepeatedInterruptions"/> (counts only grow, so once per job).
    /// </summary>
    public IReadOnlyList<Alert> JobInterrupted(JobKey job, int interruptions, string where)
    {
        if (interruptions != rules.RepeatedInterruptions)
        {
            return [];
        }
        var message = Invariant($"job '{job.Id}' of team '{job.Team}' was interrupted {interruptions} times (the last on {where}); each restart costs its changeover and, without checkpoints, its work");
        return Raise([new Alert(AlertKinds.RepeatedInterruptions, AlertSeverities.Warning, job.Team, job.Id, message, time.GetUtcNow())
        {
            Figures = Figures(("interruptions", interruptions), ("threshold", rules.RepeatedInterruptions), ("where", where)),
        }]);
    }

    /// <summary>
    /// A team's spend in its budget period <paramref name="period"/> (an id of the period: <c>week 2026-03-02</c>) is
    /// <paramref name="spentUsd"/> of <paramref name="limitUsd"/>: raises the highest threshold of
    /// <see cref="AlertRules.BudgetThresholds"/> crossed and not yet raised for this team and period (a jump from 50% to
    /// 110% raises 100% alone; 80% is then not raised late). A new period starts afresh.
    /// </summary>
    public IReadOnlyList<Alert> BudgetThreshold(string team, string period, double spentUsd, double limitUsd)
    {
        ArgumentNullException.ThrowIfNull(team);
        ArgumentNullException.ThrowIfNull(period);
        if (!(limitUsd > 0))
        {
            return [];
        }
        var share = spentUsd / limitUsd;
        var crossed = rules.BudgetThresholds.Where(t => share >= t).DefaultIfEmpty(0).Max();
        lock (_gate)
        {
            var highest = _budgets.TryGetValue(team, out var known) && known.Period == period ? known.Highest : 0;
            if (crossed <= highest)
            {
                return [];
            }
            _budgets[team] = (period, crossed);
        }
        var message = Invariant($"team '{team}' has spent ${spentUsd:0.00} of its ${limitUsd:0.00} budget for {period} ({share * 100:0}%, past {crossed * 100:0}%)");
        return Raise([new Alert(AlertKinds.BudgetThreshold, crossed >= 1 ? AlertSeverities.Critical : AlertSeverities.Warning, team, null, message,
            time.GetUtcNow())
        {
            Figures = Figures(("period", period), ("spentUsd", Math.Round(spentUsd, 4)), ("limitUsd", limitUsd), ("threshold", crossed)),
        }]);
    }

    private static Alert PlannedAtRisk(Job job, Assignment a, DateTimeOffset now)
    {
        var key = KeyOf(job.Id);
        var slack = (job.Deadline!.Value - a.End).TotalHours;
        var message = Invariant($"job '{key.Id}' of team '{key.Team}' is at risk: planned to end at {a.End:u}, {slack:0.##} h before its deadline {job.Deadline:u} (less than {Plan.AtRiskSlackShare * 100:0}% of its {job.DurationHours:0.##} h)");
        return new Alert(AlertKinds.DeadlineAtRisk, AlertSeverities.Warning, key.Team, key.Id, message, now)
        {
            Figures = Figures(("deadline", job.Deadline!.Value), ("plannedEnd", a.End), ("slackHours", Math.Round(slack, 3)),
                ("market", a.Market.ToWire()), ("instanceType", a.Offer.InstanceType.Name)),
        };
    }

    private static Alert UnplannedAtRisk(Job job, UnplannedJob u, DateTimeOffset now)
    {
        var key = KeyOf(job.Id);
        var reason = JobKey.ForTeam(u.Reason, key.Team);
        var message = Invariant($"job '{key.Id}' of team '{key.Team}' could not be planned before its deadline {job.Deadline:u}: {reason}");
        return new Alert(AlertKinds.DeadlineAtRisk, AlertSeverities.Critical, key.Team, key.Id, message, now)
        {
            Figures = Figures(("deadline", job.Deadline!.Value), ("reason", reason)),
        };
    }

    private static Alert FellBack(Plan plan, DateTimeOffset now)
    {
        var llm = plan.Llm!;
        var message = $"the {plan.Planner} planner fell back from the model {llm.Model} to the optimizer's plan: {llm.Fallback}";
        return new Alert(AlertKinds.PlannerFallback, AlertSeverities.Warning, null, null, message, now)
        {
            Figures = Figures(("planner", plan.Planner), ("model", llm.Model), ("reason", llm.Fallback!), ("timedOut", llm.TimedOut)),
        };
    }

    private static Alert TimedOut(Plan plan, DateTimeOffset now)
    {
        var message = Invariant($"the {plan.Planner} planner ran out of time ({plan.Totals.SolveSeconds:0.##} s) before it found a plan of its own; the starting (greedy) plan is used");
        return new Alert(AlertKinds.OptimizerTimeout, AlertSeverities.Warning, null, null, message, now)
        {
            Figures = Figures(("planner", plan.Planner), ("solveSeconds", plan.Totals.SolveSeconds), ("jobsPlanned", plan.Totals.JobsPlanned)),
        };
    }

    /// <summary>True when a condition starts: it was false in the last plan and is true now.</summary>
    private static bool Episode(ref bool was, bool now)
    {
        var starts = now && !was;
        was = now;
        return starts;
    }

    private List<Alert> Raise(List<Alert> alerts)
    {
        foreach (var alert in alerts)
        {
            LogRaised(alert.Kind, alert.Team ?? "", alert.JobId ?? "", alert.Message);
            sink.Publish(alert);
        }
        return alerts;
    }

    /// <summary>The job a planning id names (<c>team/id</c>); an id without a team (a plan made outside the service) is its own.</summary>
    private static JobKey KeyOf(string planningId) => JobKey.TryParse(planningId, out var key) ? key : new JobKey("", planningId);

    private static ImmutableSortedDictionary<string, object> Figures(params (string Name, object Value)[] figures) =>
        figures.ToImmutableSortedDictionary(f => f.Name, f => f.Value, StringComparer.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Alert {Kind} (team {Team}, job {JobId}): {Message}")]
    private partial void LogRaised(string kind, string team, string jobId, string message);
}
