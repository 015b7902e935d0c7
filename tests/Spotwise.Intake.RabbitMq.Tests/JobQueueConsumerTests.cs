using RabbitMQ.Client.Exceptions;
using Spotwise.Runtime;

namespace Spotwise.Intake.RabbitMq.Tests;

/// <summary>The consumer against the real broker scripts/rabbitmq-up.sh starts (one test at a time: one of them restarts it).</summary>
[Collection(OneBrokerAtATime.Name)]
public sealed class JobQueueConsumerTests
{
    [ServiceFact("SPOTWISE_AMQP")]
    public async Task A_published_job_becomes_a_stored_job_of_the_publishing_users_team()
    {
        await using var rig = await Rig.StartAsync();

        await rig.PublishAsync(Jobs.One("etl-1", priority: 7));

        await Broker.WaitUntilAsync(async () => await rig.StoredCountAsync() == 1, "the job is stored");
        var job = await rig.Sqlite.GetAsync(new JobKey(Broker.Team, "etl-1"), CancellationToken.None);
        Assert.NotNull(job);
        Assert.Equal(JobState.Queued, job.State);
        Assert.Equal(7, job.Job.Priority);
        await Broker.WaitUntilAsync(async () => await rig.ReadyAsync(rig.Options.Queue) == 0, "the queue is empty");
    }

    [ServiceFact("SPOTWISE_AMQP")]
    public async Task A_batch_message_stores_every_job_in_it_in_one_go()
    {
        await using var rig = await Rig.StartAsync();

        await rig.PublishAsync(Jobs.Batch("b-1", "b-2", "b-3"));

        await Broker.WaitUntilAsync(async () => await rig.StoredCountAsync() == 3, "the batch is stored");
        Assert.Equal((1L, 0L), rig.Consumer.Counts);
    }

    [ServiceFact("SPOTWISE_AMQP")]
    public async Task A_poison_message_goes_to_the_dead_letter_queue_with_its_errors_and_the_next_message_is_still_stored()
    {
        await using var rig = await Rig.StartAsync();

        await rig.PublishAsync("[" + Jobs.One("good-in-bad") + ",{\"jobId\":\"bad\",\"priority\":11,\"estimatedDurationHours\":1,\"resourceRequirements\":{\"type\":\"cpu_small\"}}]");
        await rig.PublishAsync("{not json");
        await rig.PublishAsync(Jobs.One("after"));

        await Broker.WaitUntilAsync(async () => await rig.StoredCountAsync() == 1 && rig.Consumer.Counts.DeadLettered == 2, "the good message is stored");
        Assert.NotNull(await rig.Sqlite.GetAsync(new JobKey(Broker.Team, "after"), CancellationToken.None));
        // Nothing of a refused batch is stored.
        Assert.Null(await rig.Sqlite.GetAsync(new JobKey(Broker.Team, "good-in-bad"), CancellationToken.None));

        // The consumer handles up to its prefetch at once, so the two dead letters may arrive in either order.
        var first = await rig.Channel.BasicGetAsync(rig.Options.DeadLetterQueue, autoAck: true);
        var second = await rig.Channel.BasicGetAsync(rig.Options.DeadLetterQueue, autoAck: true);
        Assert.NotNull(first);
        Assert.NotNull(second);
        var firstIsBatch = System.Text.Encoding.UTF8.GetString(first.Body.Span).StartsWith('[');
        var (batch, notJson) = firstIsBatch ? (first, second) : (second, first);
        var batchErrors = Errors(batch.BasicProperties.Headers);
        Assert.Contains(batchErrors, e => e.StartsWith("jobs[1].priority:", StringComparison.Ordinal));
        Assert.Equal("refused", DeadLetters.Text(batch.BasicProperties.Headers![DeadLetters.OutcomeHeader]));
        Assert.Equal(Broker.Team, DeadLetters.Text(batch.BasicProperties.Headers[DeadLetters.UserHeader]));
        Assert.Contains("\"jobId\":\"bad\"", System.Text.Encoding.UTF8.GetString(batch.Body.Span), StringComparison.Ordinal);
        Assert.NotEmpty(Errors(notJson.BasicProperties.Headers));
        Assert.Equal(0u, await rig.ReadyAsync(rig.Options.Queue));
    }

    [ServiceFact("SPOTWISE_AMQP")]
    public async Task A_message_that_names_no_user_is_dead_lettered_and_a_message_cannot_claim_another_teams_user()
    {
        await using var rig = await Rig.StartAsync();

        await rig.PublishAsync(Jobs.One("anonymous"), userId: null);
        // The broker checks user_id against the connection's user: claiming another team's is refused at the door.
        var claim = await Assert.ThrowsAnyAsync<Exception>(() => rig.PublishAsync(Jobs.One("claimed"), userId: "another-team"));
        Assert.True(claim is OperationInterruptedException or AlreadyClosedException or PublishException, claim.ToString());

        await Broker.WaitUntilAsync(() => Task.FromResult(rig.Consumer.Counts.DeadLettered == 1), "the anonymous message is dead-lettered");
        Assert.Equal(0, await rig.StoredCountAsync());
    }

    [ServiceFact("SPOTWISE_AMQP")]
    public async Task A_broker_restart_with_messages_in_flight_loses_nothing_and_stores_nothing_twice()
    {
        const int count = 40;
        await using var rig = await Rig.StartAsync();
        rig.Gate.Close();
        for (var i = 0; i < count; i++)
        {
            await rig.PublishAsync(Jobs.One($"r-{i}"));
        }
        // Messages are in flight: handed to the consumer, held before the store, not acknowledged.
        await Broker.WaitUntilAsync(() => Task.FromResult(rig.Gate.Waiting > 0), "the consumer holds messages");

        await Broker.RunScriptAsync("rabbitmq-down.sh");
        rig.Gate.Open(); // the held messages are committed now, but their acknowledgements cannot reach the broker
        await Broker.RunScriptAsync("rabbitmq-up.sh");

        await Broker.WaitUntilAsync(async () => await rig.StoredCountAsync() == count, $"all {count} jobs are stored", seconds: 300);
        // The client reconnected the consumer and the broker redelivered what was never acknowledged: duplicates, stored once.
        await Broker.WaitUntilAsync(() => Task.FromResult(rig.Gate.Duplicates > 0), "the unacknowledged messages are redelivered", seconds: 300);
        await Broker.WaitUntilAsync(async () => await QueueIsEmptyAsync(rig), "the queue is drained", seconds: 300);
        for (var i = 0; i < count; i++)
        {
            var events = await rig.Sqlite.EventsAsync(new JobKey(Broker.Team, $"r-{i}"), CancellationToken.None);
            Assert.Single(events);
        }
        Assert.Equal(0L, rig.Consumer.Counts.DeadLettered);
    }

    /// <summary>The test's own connection recovers from the restart too; until it has, the queue cannot be looked at.</summary>
    private static async Task<bool> QueueIsEmptyAsync(Rig rig)
    {
        try
        {
            return await rig.ReadyAsync(rig.Options.Queue) == 0;
        }
        catch (Exception e) when (e is AlreadyClosedException or OperationInterruptedException)
        {
            return false;
        }
    }

    private static List<string> Errors(IDictionary<string, object?>? headers)
    {
        Assert.NotNull(headers);
        var errors = Assert.IsType<List<object>>(headers[DeadLetters.ErrorsHeader], exactMatch: false);
        Assert.Equal(errors.Count, Convert.ToInt32(headers[DeadLetters.ErrorCountHeader], System.Globalization.CultureInfo.InvariantCulture));
        return [.. errors.Select(e => DeadLetters.Text(e)!)];
    }
}

/// <summary>The broker's tests run one at a time: one restarts it.</summary>
[CollectionDefinition(Name)]
public sealed class OneBrokerAtATime
{
    public const string Name = "broker";
}
