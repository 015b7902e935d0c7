using Microsoft.Extensions.Time.Testing;
using Spotwise.Cli;
using Spotwise.Runtime;

namespace Spotwise.Intake.RabbitMq.Tests;

/// <summary><c>spotwise submit --via amqp://...</c>, run in-process against the real broker.</summary>
[Collection(OneBrokerAtATime.Name)]
public sealed class SubmitViaAmqpTests
{
    [ServiceFact("SPOTWISE_AMQP")]
    public async Task Submit_via_amqp_reports_each_batch_the_broker_confirmed_and_the_service_stores_them()
    {
        await using var rig = await Rig.StartAsync();
        var file = JobsFile(1_500);

        var (code, output, errors) = await RunAsync("submit", file, "--via", Broker.Uri.ToString(), "--queue", rig.Options.Queue);

        Assert.True(code == 0, errors);
        Assert.Contains($"jobs[0..999] confirmed: 1000 jobs queued in {rig.Options.Queue}", output, StringComparison.Ordinal);
        Assert.Contains("jobs[1000..1499] confirmed: 500 jobs", output, StringComparison.Ordinal);
        Assert.Contains("1500 of 1500 jobs confirmed by the broker in 2 of 2 messages", output, StringComparison.Ordinal);
        await Broker.WaitUntilAsync(async () => await rig.StoredCountAsync() == 1_500, "the service stores every job");
        Assert.Equal(JobState.Queued, (await rig.Sqlite.GetAsync(new JobKey(Broker.Team, "cli-1499"), CancellationToken.None))!.State);
    }

    [ServiceFact("SPOTWISE_AMQP")]
    public async Task Submit_via_amqp_to_a_queue_nobody_declared_exits_1_and_says_the_broker_returned_it()
    {
        var (code, output, errors) = await RunAsync("submit", JobsFile(3), "--via", Broker.Uri.ToString(), "--queue", $"nobody-{Guid.NewGuid():N}");

        Assert.Equal(ExitCodes.Partial, code);
        Assert.Contains("jobs[0..2]: returned: no queue", errors, StringComparison.Ordinal);
        Assert.Contains("0 of 3 jobs confirmed", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_via_a_broker_that_is_not_there_exits_3_naming_it_without_the_password()
    {
        var (code, _, errors) = await RunAsync("submit", JobsFile(1), "--via", "amqp://team:secret@127.0.0.1:1/");

        Assert.Equal(AmqpSubmit.Unreachable, code);
        Assert.Contains("error: --via: cannot reach RabbitMQ at amqp://team:***@127.0.0.1:1/", errors, StringComparison.Ordinal);
        Assert.DoesNotContain("secret", errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://127.0.0.1:5672/", "error: --via: 'http://127.0.0.1:5672/' is not an AMQP URL")]
    [InlineData("amqp://127.0.0.1:5672/", "error: --via: 'amqp://127.0.0.1:5672/' names no user")]
    public async Task Submit_via_a_bad_url_exits_2_naming_the_flag(string via, string expected)
    {
        var (code, _, errors) = await RunAsync("submit", JobsFile(1), "--via", via);

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.Contains(expected, errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Submit_via_amqp_with_a_bad_jobs_file_exits_2_before_reaching_any_broker()
    {
        var (code, _, errors) = await RunAsync("submit", WriteTemp("[{\"jobId\": \"a\",}]"), "--via", "amqp://team:secret@127.0.0.1:1/");

        Assert.Equal(ExitCodes.BadInput, code);
        Assert.StartsWith("error: jobs file:", errors, StringComparison.Ordinal);
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Task.Run(() => CliApp.RunAsync(args, stdout, stderr, new FakeTimeProvider(Rig.Now)));
        return (code, stdout.ToString(), stderr.ToString());
    }

    private static string JobsFile(int count) => WriteTemp("[" + string.Join(",", Enumerable.Range(0, count).Select(i => Jobs.One($"cli-{i}"))) + "]");

    private static string WriteTemp(string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"spotwise-amqp-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, content);
        return path;
    }
}
