using System.Text;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;
using Spotwise.Intake.RabbitMq;

namespace Spotwise.Cli;

/// <summary>
/// <c>spotwise submit JOBS --via amqp://...</c>: publishes the file's jobs to the service's queue instead of posting them,
/// in the same batches and the same JSON as <c>POST /api/jobs</c>, each message persistent, mandatory (a queue must take it)
/// and signed by the broker's validated <c>user_id</c> (the URL's user: the team). Each batch is reported as the broker
/// answered it: confirmed (queued durably; the service stores it as it takes it, and a refused one lands in the
/// dead-letter queue with the reasons), returned (no such queue) or nacked. Exit 0 when the broker confirmed every
/// batch, 1 when it refused some, 2 for bad input, 3 when the broker cannot be reached.
/// </summary>
public static class AmqpSubmit
{
    /// <summary>The broker could not be reached (or went away before it answered every batch).</summary>
    public const int Unreachable = 3;

    public static async Task<int> RunAsync(IReadOnlyList<string> jobs, string via, string queue, TextWriter stdout, TextWriter stderr, CancellationToken ct)
    {
        if (RabbitMqOptions.Problem(via) is { } bad)
        {
            stderr.WriteLine($"error: --via: {bad}");
            return ExitCodes.BadInput;
        }
        var uri = new Uri(via);
        if (Connections.UserOf(uri) is not { Length: > 0 } user)
        {
            stderr.WriteLine($"error: --via: '{RabbitMqOptions.Redacted(via)}' names no user; the AMQP user is your team (amqp://team:password@host:5672/)");
            return ExitCodes.BadInput;
        }
        if (string.IsNullOrWhiteSpace(queue))
        {
            stderr.WriteLine("error: --queue: empty; name the queue the service takes jobs from (default spotwise.jobs)");
            return ExitCodes.BadInput;
        }
        var batches = SubmitCommand.Batches(jobs).ToList();
        IConnection connection;
        try
        {
            connection = await Connections.Factory(uri, "spotwise-submit").CreateConnectionAsync(ct);
        }
        catch (BrokerUnreachableException e)
        {
            stderr.WriteLine($"error: --via: cannot reach RabbitMQ at {RabbitMqOptions.Redacted(via)}: {Reason(e)}");
            return Unreachable;
        }
        await using (connection)
        {
            await using var channel = await connection.CreateChannelAsync(
                new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true), ct);
            var answers = await Task.WhenAll(batches.Select(batch => PublishAsync(channel, queue, user, batch, ct)));
            return Report(batches, answers, queue, stdout, stderr);
        }
    }

    /// <summary>What the broker said of one batch: null when it confirmed it, else why not.</summary>
    private static async Task<string?> PublishAsync(IChannel channel, string queue, string user, List<string> batch, CancellationToken ct)
    {
        var properties = new BasicProperties
        {
            Persistent = true,
            ContentType = "application/json",
            UserId = user,
            MessageId = Guid.NewGuid().ToString("N"),
        };
        var body = Encoding.UTF8.GetBytes("[" + string.Join(",", batch) + "]");
        try
        {
            await channel.BasicPublishAsync("", queue, mandatory: true, properties, body, ct);
            return null;
        }
        catch (PublishException e) when (e.IsReturn)
        {
            return $"returned: no queue '{queue}' takes it (a service started with --amqp declares it)";
        }
        catch (PublishException)
        {
            return "nacked by the broker";
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException)
        {
            return $"not confirmed: the broker closed the channel ({e.Message})";
        }
    }

    private static int Report(List<List<string>> batches, string?[] answers, string queue, TextWriter stdout, TextWriter stderr)
    {
        var offset = 0;
        var confirmedJobs = 0;
        var refused = 0;
        for (var i = 0; i < batches.Count; i++)
        {
            var range = $"jobs[{offset}..{offset + batches[i].Count - 1}]";
            if (answers[i] is { } why)
            {
                refused++;
                stderr.WriteLine($"error: {range}: {why}");
            }
            else
            {
                confirmedJobs += batches[i].Count;
                stdout.WriteLine($"{range} confirmed: {batches[i].Count} jobs queued in {queue}");
            }
            offset += batches[i].Count;
        }
        stdout.WriteLine($"{confirmedJobs} of {offset} jobs confirmed by the broker in {batches.Count - refused} of {batches.Count} messages; "
            + $"the service stores them as it takes them (one it refuses goes to {queue}.dead with the reasons)");
        return refused == 0 ? ExitCodes.Ok : ExitCodes.Partial;
    }

    private static string Reason(Exception e) => e.InnerException is { } inner ? Reason(inner) : e.Message;
}
