using System.Text;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using Spotwise.Runtime;
using Spotwise.Server;

namespace Spotwise.Intake.RabbitMq.Tests;

/// <summary>The service as <c>spotwise serve --amqp</c> composes it: the queue feeds the one intake, and the scheduler's moves are published.</summary>
[Collection(OneBrokerAtATime.Name)]
public sealed class ServeWithAmqpTests
{
    [ServiceFact("SPOTWISE_AMQP")]
    public async Task A_service_with_amqp_stores_a_queued_job_plans_it_and_publishes_both_moves()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"spotwise-serve-amqp-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        var queue = $"spotwise.jobs.serve-{Guid.NewGuid():N}";
        var jobId = $"served-{Guid.NewGuid():N}";
        await using var app = SpotwiseApp.Build([
            "--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning",
            $"--Spotwise:Db={Path.Combine(folder, "jobs.db")}", "--Spotwise:ApiKeys=k1=team-a", "--Spotwise:Planner=greedy",
            $"--Spotwise:Amqp={Broker.Uri}", $"--Spotwise:AmqpQueue={queue}"]);
        await app.StartAsync();
        try
        {
            await app.Services.GetRequiredService<JobQueueConsumer>().Consuming.WaitAsync(TimeSpan.FromSeconds(60));
            await using var connection = await Connections.Factory(Broker.Uri, "spotwise-tests").CreateConnectionAsync();
            await using var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true));
            var follower = (await channel.QueueDeclareAsync("", durable: false, exclusive: true, autoDelete: true)).QueueName;
            await channel.QueueBindAsync(follower, RabbitMqOptions.DefaultEventsExchange, "job.*");

            await channel.BasicPublishAsync("", queue, mandatory: true,
                new BasicProperties { Persistent = true, UserId = Broker.Team, ContentType = "application/json" }, Encoding.UTF8.GetBytes(Jobs.One(jobId)));

            var moves = new List<string>();
            await Broker.WaitUntilAsync(async () =>
            {
                if (await channel.BasicGetAsync(follower, autoAck: true) is { } message
                    && JobStateEvent.FromJson(message.Body.Span) is { } change && change.JobId == jobId)
                {
                    moves.Add(message.RoutingKey);
                }
                return moves.Count >= 2;
            }, "the job's submission and plan are published");
            Assert.Equal(["job.queued", "job.planned"], moves);
            var stored = await app.Services.GetRequiredService<IJobStore>().GetAsync(new JobKey(Broker.Team, jobId), CancellationToken.None);
            Assert.NotNull(stored);
            await channel.QueueDeleteAsync(queue);
            await channel.QueueDeleteAsync(queue + ".dead");
            await channel.ExchangeDeleteAsync(queue + ".dead");
        }
        finally
        {
            await app.StopAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [InlineData("--amqp", "http://mq:5672/", "error: --amqp: 'http://mq:5672/' is not an AMQP URL")]
    [InlineData("--amqp-queue", " ", "error: --amqp-queue: empty")]
    public async Task Serve_with_a_bad_broker_setting_exits_2_naming_the_flag(string flag, string value, string expected)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();

        var code = await Task.Run(() => Spotwise.Cli.CliApp.RunAsync(["serve", flag, value], stdout, stderr, TimeProvider.System));

        Assert.Equal(Spotwise.Cli.ExitCodes.BadInput, code);
        Assert.Contains(expected, stderr.ToString(), StringComparison.Ordinal);
    }
}
