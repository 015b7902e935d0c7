using RabbitMQ.Client;

namespace Spotwise.Intake.RabbitMq;

/// <summary>
/// Whose jobs a message holds: the team is the AMQP user that published it, read from the message's <c>user_id</c>
/// property. The broker refuses a publish whose <c>user_id</c> is not the connection's own user (RabbitMQ's validated
/// user-id), so a team cannot publish as another; each team gets its own broker user and password, and the broker's
/// permissions say who may publish at all. A message without <c>user_id</c> names nobody and is refused.
/// </summary>
public static class AmqpTeam
{
    /// <summary>The team, or why the message names none.</summary>
    public static (string? Team, string? Problem) Of(IReadOnlyBasicProperties properties) => properties.UserId switch
    {
        null or "" => (null, "the message has no user_id property: publish with user_id set to your AMQP user (the broker checks it; it names your team)"),
        var user when user.Contains('/', StringComparison.Ordinal) => (null, $"user_id '{user}' contains '/'; a team name cannot"),
        var user => (user, null),
    };
}
