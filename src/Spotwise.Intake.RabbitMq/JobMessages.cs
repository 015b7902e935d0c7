using RabbitMQ.Client;
using Spotwise.Core.Serialization;
using Spotwise.Runtime;
using Spotwise.Runtime.Intake;

namespace Spotwise.Intake.RabbitMq;

/// <summary>What became of one message: stored (every job created or a duplicate), or kept for people in the dead-letter queue.</summary>
public abstract record MessageVerdict
{
    /// <summary>Every job is stored (created now, or a duplicate of a redelivery): acknowledge.</summary>
    public sealed record Stored(IReadOnlyList<SubmitResult> Results) : MessageVerdict;

    /// <summary>Nothing was stored: the message is dead-lettered with these errors.</summary>
    public sealed record Refused(IReadOnlyList<string> Errors) : MessageVerdict;

    /// <summary>
    /// The other jobs are stored, but these ids were used before with another body (HTTP's 409): the message is
    /// dead-lettered with them, so the team sees what was not taken.
    /// </summary>
    public sealed record Conflicted(IReadOnlyList<SubmitResult> Results, IReadOnlyList<string> Errors) : MessageVerdict;
}

/// <summary>
/// A message's body through the one intake, exactly as <c>POST /api/jobs</c> takes it (one job or a batch, the same
/// JSON, bounds and rules: <see cref="JobIntake"/>), for the team that published it (<see cref="AmqpTeam"/>).
/// </summary>
public sealed class JobMessages(JobIntake intake)
{
    public async Task<MessageVerdict> JudgeAsync(ReadOnlyMemory<byte> body, IReadOnlyBasicProperties properties, CancellationToken cancellationToken)
    {
        var (team, noTeam) = AmqpTeam.Of(properties);
        if (team is null)
        {
            return new MessageVerdict.Refused([noTeam!]);
        }
        if (properties.ContentType is { Length: > 0 } type && !type.StartsWith("application/json", StringComparison.OrdinalIgnoreCase))
        {
            return new MessageVerdict.Refused([$"content_type is '{type}'; jobs are sent as application/json (UTF-8)"]);
        }
        if (body.Length > JobIntake.MaxBodyBytes)
        {
            return new MessageVerdict.Refused([$"the body is {body.Length} bytes, larger than {JobIntake.MaxBodyBytes}; send at most {JobIntake.MaxJobsPerRequest} jobs per message"]);
        }
        var result = await intake.SubmitAsync(body, team, cancellationToken);
        if (!result.Ok)
        {
            return new MessageVerdict.Refused([.. result.Errors.Select(Describe)]);
        }
        var conflicts = result.Results.Where(r => r.Outcome == SubmitOutcome.Conflict).ToList();
        return conflicts.Count == 0
            ? new MessageVerdict.Stored(result.Results)
            : new MessageVerdict.Conflicted(result.Results,
                [.. conflicts.Select(c => $"job '{c.JobId}': already submitted with a different body; submit it under a new jobId")]);
    }

    /// <summary>An error as the HTTP answer keys it: the field's path first (<c>jobs[3].deadline</c>).</summary>
    private static string Describe(InputError error) =>
        error.Path.Length > 0 ? $"{error.Path}: {error}" : $"{JobsFile.WholeDocument}: {error}";
}
