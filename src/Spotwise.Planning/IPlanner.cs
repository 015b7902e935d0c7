using Spotwise.Core;

namespace Spotwise.Planning;

/// <summary>
/// A planner is a function from a problem to a plan; it never launches anything. Asynchronous because a planner may
/// ask a model over the network (<c>llm</c>, <c>hybrid</c>); the optimizers compute in place and return a completed task.
/// </summary>
public interface IPlanner
{
    string Name { get; }

    /// <summary>The plan, within <see cref="SolveOptions.TimeLimit"/> (a model's time included).</summary>
    Task<Plan> SolveAsync(PlanningProblem problem, SolveOptions options, CancellationToken cancellationToken);
}

/// <summary>How hard a planner may work.</summary>
public sealed record SolveOptions
{
    public static SolveOptions Default { get; } = new();

    /// <summary>
    /// The cycle's limit: the optimizer's time, and for <c>llm</c>/<c>hybrid</c> also how long the model may take, after
    /// which the optimizer's plan is used and the plan says so.
    /// </summary>
    public TimeSpan TimeLimit { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Solver threads; 0 means one per core.</summary>
    public int Workers { get; init; }

    /// <summary>
    /// Above this many option intervals the CP-SAT model is not built and the greedy plan is returned with its
    /// proven gap: building and presolving a larger model would not finish within the targets on a 2-core machine.
    /// </summary>
    public int MaxModelOptions { get; init; } = 250_000;

    /// <summary>
    /// A group of interacting jobs with more options than this is solved in time-ordered segments of about this
    /// size, the rest of the group fixed (fix-and-optimise); one large model would not converge in the time.
    /// </summary>
    public int SegmentOptions { get; init; } = 400;
}
