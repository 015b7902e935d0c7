using Spotwise.Runtime;

namespace Spotwise.Intake.RabbitMq.Tests;

[Collection(OneBrokerAtATime.Name)]
public sealed class JobEventPublisherTests
{
    [ServiceFact("SPOTWISE_AMQP")]
    public async Task Each_state_change_is_published_once_as_job_state_and_a_write_that_moves_nothing_is_not()
    {
        await using var rig = await Rig.StartAsync(events: true);
        var follower = await FollowAsync(rig, "job.#");

        await rig.PublishAsync(Jobs.One("watched"));
        await Broker.WaitUntilAsync(async () => await rig.StoredCountAsync() == 1, "the job is stored");
        var key = new JobKey(Broker.Team, "watched");
        var job = (await rig.Store.GetAsync(key, CancellationToken.None))!;
        var noted = await rig.Store.TryUpdateAsync(JobTransitions.Note(job, "just a note").Record, "just a note", rig.Time.GetUtcNow(), CancellationToken.None);
        var cancel = JobTransitions.Cancel(noted!, Broker.Team, rig.Time.GetUtcNow());
        Assert.NotNull(await rig.Store.TryUpdateAsync(cancel.Record, cancel.Cause, rig.Time.GetUtcNow(), CancellationToken.None));

        var events = await ReceiveAsync(rig, follower, 2);
        Assert.Equal(["job.queued", "job.cancelled"], events.Select(e => e.RoutingKey));
        var (queued, cancelled) = (events[0].Event, events[1].Event);
        Assert.Equal((Broker.Team, "watched", "queued", 1L, (string?)null), (queued.Team, queued.JobId, queued.State, queued.Sequence, queued.From));
        Assert.Equal(("cancelled", 2L, "queued", $"cancelled by team {Broker.Team}"), (cancelled.State, cancelled.Sequence, cancelled.From, cancelled.Cause));
        Assert.Equal(Rig.Now, cancelled.At);
        // The note moved nothing: no third event, even once everything written has been looked at.
        await Broker.WaitUntilAsync(() => Task.FromResult(rig.Events!.Published == 2), "the publisher is done");
        Assert.Null(await rig.Channel.BasicGetAsync(follower, autoAck: true));
    }

    [ServiceFact("SPOTWISE_AMQP")]
    public async Task A_follower_binds_the_states_it_wants_by_routing_key()
    {
        await using var rig = await Rig.StartAsync(events: true);
        var cancellations = await FollowAsync(rig, "job.cancelled");

        await rig.PublishAsync(Jobs.Batch("k-1", "k-2"));
        await Broker.WaitUntilAsync(async () => await rig.StoredCountAsync() == 2, "the jobs are stored");
        var job = (await rig.Store.GetAsync(new JobKey(Broker.Team, "k-2"), CancellationToken.None))!;
        var cancel = JobTransitions.Cancel(job, Broker.Team, rig.Time.GetUtcNow());
        await rig.Store.TryUpdateAsync(cancel.Record, cancel.Cause, rig.Time.GetUtcNow(), CancellationToken.None);

        var events = await ReceiveAsync(rig, cancellations, 1);
        Assert.Equal("k-2", events[0].Event.JobId);
        await Broker.WaitUntilAsync(() => Task.FromResult(rig.Events!.Published == 3), "the publisher is done");
        Assert.Null(await rig.Channel.BasicGetAsync(cancellations, autoAck: true));
    }

    private static async Task<string> FollowAsync(Rig rig, string routingKey)
    {
        var queue = await rig.Channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true);
        await rig.Channel.QueueBindAsync(queue.QueueName, rig.Options.EventsExchange, routingKey);
        return queue.QueueName;
    }

    private static async Task<List<(string RoutingKey, JobStateEvent Event)>> ReceiveAsync(Rig rig, string queue, int count)
    {
        var received = new List<(string, JobStateEvent)>();
        await Broker.WaitUntilAsync(async () =>
        {
            if (await rig.Channel.BasicGetAsync(queue, autoAck: true) is { } message)
            {
                received.Add((message.RoutingKey, JobStateEvent.FromJson(message.Body.Span)!));
            }
            return received.Count >= count;
        }, $"{count} events arrive");
        return received;
    }
}
