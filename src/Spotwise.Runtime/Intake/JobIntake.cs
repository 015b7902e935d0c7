using Spotwise.Core;
using Spotwise.Core.Serialization;
using Spotwise.Runtime.Budgeting;

namespace Spotwise.Runtime.Intake;

/// <summary>
/// The one door for jobs: bytes in, validated jobs stored (or every reason they were refused). The HTTP API, the
/// dashboard's form and the plan preview come through here, and <c>plan</c> and <c>submit</c> read files with the same
/// reader (<see cref="Read"/>), so a job is judged by one set of rules wherever it is sent: strict UTF-8 JSON, known
/// fields only, every field within <see cref="JobBounds"/>, a team's own ids, and prerequisites that exist.
/// </summary>
/// <remarks>
/// Cycles cannot pass through stored jobs: a stored job's prerequisites all existed when it was stored, and a new job
/// is stored after them, so only the request's own jobs can close a cycle, and <see cref="QueueChecks"/> finds those.
/// </remarks>
public sealed class JobIntake(IJobStore store, Catalog catalog, TimeProvider time, Action? created = null, BudgetGate? budget = null)
{
    /// <summary>The most jobs one request may hold.</summary>
    public const int MaxJobsPerRequest = 1_000;

    /// <summary>The largest request body, in bytes (1,000 jobs with long commands fit).</summary>
    public const long MaxBodyBytes = 4 * 1024 * 1024;

    /// <summary>A submission: at most <see cref="MaxJobsPerRequest"/> jobs, which may depend on the team's stored jobs.</summary>
    public static JobsReadOptions Submission { get; } = new() { MaxJobs = MaxJobsPerRequest, DependenciesMayBeStored = true };

    /// <summary>A preview plans the request alone: its dependencies must be inside it.</summary>
    public static JobsReadOptions Preview { get; } = new() { MaxJobs = MaxJobsPerRequest };

    /// <summary>Reads and checks a document without storing it (a preview, a jobs file for <c>plan</c>).</summary>
    public static JobsDocument Read(ReadOnlyMemory<byte> body, DateTimeOffset now, Catalog catalog, JobsReadOptions options, string? team = null)
    {
        var doc = JobsFile.Read(body, now, catalog, options);
        if (!doc.Ok || team is null)
        {
            return doc;
        }
        var wrongTeam = TeamErrors(doc, team);
        return wrongTeam.Count == 0 ? doc : doc with { Jobs = [], Errors = wrongTeam };
    }

    /// <summary>Reads, checks and stores the team's jobs in one transaction; nothing is stored when any job is refused.</summary>
    public async Task<IntakeResult> SubmitAsync(ReadOnlyMemory<byte> body, string team, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var doc = Read(body, now, catalog, Submission, team);
        if (!doc.Ok)
        {
            return new IntakeResult(doc.IsBatch, doc.Errors, []);
        }
        var dependencyErrors = await StoredDependencyErrorsAsync(doc, team, cancellationToken);
        if (dependencyErrors.Count > 0)
        {
            return new IntakeResult(doc.IsBatch, dependencyErrors, []);
        }
        var batch = doc.Jobs.Select(j => new Submission(j.Job with { Team = team }, team, j.CanonicalBody)).ToList();
        // Like any refusal, all or nothing: a batch whose jobs together need more than the budget has left stores none.
        if (budget is not null && await budget.CheckAsync(team, [.. batch.Select(s => s.Job)], cancellationToken) is { } overBudget)
        {
            return new IntakeResult(doc.IsBatch, [new InputError($"team '{team}'", "budget", overBudget.Message) { Path = "budget" }], []) { OverBudget = overBudget };
        }
        var results = await store.SubmitAsync(batch, now, cancellationToken);
        if (results.Any(r => r.Outcome == SubmitOutcome.Created))
        {
            created?.Invoke();
        }
        return new IntakeResult(doc.IsBatch, [], results);
    }

    /// <summary>A job names its team only to say whose it is: a key bound to a team cannot submit for another.</summary>
    private static List<InputError> TeamErrors(JobsDocument doc, string team) =>
        [.. doc.Jobs.Where(j => j.Job.Team is { } t && t != team)
            .Select(j => new InputError($"job '{j.Job.Id}'", "team", $"'{j.Job.Team}' is not this key's team '{team}'") { Path = j.PathPrefix + "team" })];

    /// <summary>Prerequisites outside the request must be the team's stored jobs, and still able to succeed.</summary>
    private async Task<List<InputError>> StoredDependencyErrorsAsync(JobsDocument doc, string team, CancellationToken cancellationToken)
    {
        var inRequest = doc.Jobs.Select(j => j.Job.Id).ToHashSet(StringComparer.Ordinal);
        var found = new Dictionary<string, JobRecord?>(StringComparer.Ordinal);
        var errors = new List<InputError>();
        foreach (var read in doc.Jobs)
        {
            foreach (var dep in read.Job.DependsOn.Where(d => !inRequest.Contains(d)))
            {
                if (!found.TryGetValue(dep, out var record))
                {
                    found[dep] = record = await FindAsync(team, dep, cancellationToken);
                }
                if (DependencyProblem(dep, record) is { } why)
                {
                    errors.Add(new InputError($"job '{read.Job.Id}'", "dependsOn", why) { Path = read.PathPrefix + "dependsOn" });
                }
            }
        }
        return errors;
    }

    private static string? DependencyProblem(string dep, JobRecord? record) => record switch
    {
        null => $"'{dep}' is neither in this request nor one of your team's jobs",
        { State: JobState.Failed or JobState.Cancelled } => $"'{dep}' is {record.State.ToWire()}: a job depending on it could never start",
        _ => null,
    };

    private async Task<JobRecord?> FindAsync(string team, string id, CancellationToken cancellationToken) =>
        await store.GetAsync(new JobKey(team, id), cancellationToken);
}

/// <summary>What the intake did with a request: refused it (every reason), or stored it (each job's outcome, in order).</summary>
public sealed record IntakeResult(bool IsBatch, IReadOnlyList<InputError> Errors, IReadOnlyList<SubmitResult> Results)
{
    /// <summary>Set when the request was refused because its jobs' cheapest safe plan exceeds what the team's budget has left.</summary>
    public BudgetRefusal? OverBudget { get; init; }

    public bool Ok => Errors.Count == 0;
}
