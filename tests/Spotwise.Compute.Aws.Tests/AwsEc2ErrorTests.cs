using System.Threading.Channels;
using Amazon.EC2;
using Amazon.Runtime;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Core;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;
using InstanceState = Spotwise.Runtime.InstanceState;
using RetryPolicy = Spotwise.Core.RetryPolicy;

namespace Spotwise.Compute.Aws.Tests;

/// <summary>
/// EC2's errors by class, through the real AWS SDK client against the loopback EC2: throttling retried on the service's
/// clock, capacity and quota refused at once, a mismatched client token logged as a bug, permissions and credentials
/// reported to the backend's health.
/// </summary>
public sealed class AwsEc2ErrorTests : IAsyncLifetime
{
    private static readonly Dictionary<string, string> Subnets = new(StringComparer.Ordinal) { ["us-east-1a"] = "subnet-aaaa" };
    private static readonly RetryPolicy Retry = new(4, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
    private static CancellationToken Ct => CancellationToken.None;

    private readonly TimerWatchingTimeProvider _time = new(new DateTimeOffset(2026, 12, 1, 12, 0, 0, TimeSpan.Zero));
    private readonly BackendHealth _health = new();
    private readonly CollectingLogger _log = new();
    private readonly List<AmazonEC2Client> _clients = [];
    private FakeEc2Server _server = null!;
    private AwsEc2Compute _backend = null!;

    public async Task InitializeAsync()
    {
        _server = await FakeEc2Server.StartAsync(_time, Subnets.ToDictionary(p => p.Value, p => p.Key, StringComparer.Ordinal));
        var options = Options();
        _backend = new AwsEc2Compute(() => Client(options), options, _time, _log, _health, random: new Random(7));
    }

    public async Task DisposeAsync()
    {
        _clients.ForEach(c => c.Dispose());
        await _server.DisposeAsync();
    }

    private AwsComputeOptions Options() => new()
    {
        ServiceUrl = _server.BaseUri,
        Region = "us-east-1",
        LaunchTemplateId = "lt-0abc",
        SubnetsByZone = Subnets,
        Credentials = new BasicAWSCredentials("AKIDEXAMPLE", "secret"),
        Retry = Retry,
    };

    private AmazonEC2Client Client(AwsComputeOptions options)
    {
        var client = (AmazonEC2Client)AwsComputeRegistration.CreateClient(options);
        _clients.Add(client);
        return client;
    }

    private static LaunchRequest Request(string jobId, Market market = Market.OnDemand, string type = "g5.xlarge") =>
        new(ClientTokens.For(new JobKey("ml", jobId), 1), "ml", jobId, 1, market, type, "us-east-1a", 1, false, 0, null);

    private int Calls(string action) => _server.Actions.Count(a => a == action);

    /// <summary>Runs <paramref name="call"/>, moving the clock past each wait it starts on it, as a service's clock would pass.</summary>
    private async Task<T> WithClockAsync<T>(Func<Task<T>> call)
    {
        var task = call();
        while (!task.IsCompleted)
        {
            // Wake on whichever comes first: the call ends, or it starts waiting on the clock.
            var waiting = _time.NextTimerAsync();
            if (await Task.WhenAny(task, waiting) == waiting)
            {
                _time.Advance(await waiting);
            }
        }
        return await task;
    }

    [Fact]
    public async Task A_throttled_launch_is_retried_with_backoff_on_the_services_clock_and_launches_once()
    {
        _server.Throttle("RunInstances", calls: 2);
        var start = _time.GetUtcNow();

        var launched = await WithClockAsync(() => _backend.LaunchAsync(Request("job-1"), Ct));

        Assert.Equal(InstanceState.Pending, launched.State);
        Assert.Equal(3, Calls("RunInstances"));
        Assert.Equal(1, _server.InstanceCount);
        // Equal jitter: the n-th wait lies between half and all of base × 2^(n-1).
        Assert.Collection(_time.Waits,
            first => Assert.InRange(first, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(1)),
            second => Assert.InRange(second, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2)));
        Assert.Equal(_time.Waits.Aggregate(TimeSpan.Zero, (a, b) => a + b), _time.GetUtcNow() - start);
    }

    [Fact]
    public async Task Throttling_past_the_retry_cap_reaches_the_caller_after_the_last_attempt()
    {
        _server.Throttle("DescribeInstances", calls: 10);

        var error = await Assert.ThrowsAsync<AmazonEC2Exception>(() => WithClockAsync(() => _backend.DescribeAsync(Ct)));

        Assert.Equal("RequestLimitExceeded", error.ErrorCode);
        Assert.Equal(Retry.MaxAttempts, Calls("DescribeInstances"));
        Assert.Equal(Retry.MaxAttempts - 1, _time.Waits.Count);
        Assert.True(_health.IsHealthy, "throttling is not a health problem");
    }

    [Fact]
    public async Task A_throttled_terminate_is_retried_too()
    {
        var launched = await _backend.LaunchAsync(Request("job-1"), Ct);
        _server.Throttle("TerminateInstances", calls: 1);

        await WithClockAsync(async () =>
        {
            await _backend.TerminateAsync(launched.InstanceId, Ct);
            return true;
        });

        Assert.Equal(2, Calls("TerminateInstances"));
        Assert.Equal(InstanceState.Terminated, Assert.Single(await _backend.DescribeAsync(Ct)).State);
    }

    [Fact]
    public async Task A_capacity_error_is_sent_once_and_never_retried()
    {
        _server.RefuseCapacity("us-east-1a", "p3.2xlarge");

        var refused = await _backend.LaunchAsync(Request("job-1", Market.Spot, "p3.2xlarge"), Ct);

        Assert.Equal(1, Calls("RunInstances"));
        Assert.Empty(_time.Waits);
        Assert.Equal(new LaunchRefusal(RefusalKind.Capacity, "InsufficientInstanceCapacity"), refused.Refusal);
    }

    [Theory]
    [InlineData("VcpuLimitExceeded")]
    [InlineData("MaxSpotInstanceCountExceeded")]
    [InlineData("InstanceLimitExceeded")]
    public async Task A_quota_error_comes_back_at_once_as_a_refused_launch_naming_the_quota(string code)
    {
        _server.RefuseQuota("g5.xlarge", code);

        var refused = await _backend.LaunchAsync(Request("job-1"), Ct);

        Assert.Equal((InstanceState.Interrupted, (DateTimeOffset?)null), (refused.State, refused.RunningSince));
        Assert.Equal(new LaunchRefusal(RefusalKind.Quota, code), refused.Refusal);
        Assert.StartsWith($"quota reached: {code}", refused.Error, StringComparison.Ordinal);
        Assert.Equal(1, Calls("RunInstances"));
        Assert.Equal(refused.InstanceId, Assert.Single(await _backend.DescribeAsync(Ct)).InstanceId);
    }

    [Fact]
    public async Task A_missing_permission_makes_the_backend_unhealthy_naming_it_and_clears_when_the_call_next_succeeds()
    {
        _server.Deny("RunInstances");

        var error = await Assert.ThrowsAsync<BackendUnavailableException>(() => _backend.LaunchAsync(Request("job-1"), Ct));

        var problem = Assert.Single(_health.Problems);
        Assert.Equal(("aws", "ec2:RunInstances"), (problem.Backend, problem.Subject));
        Assert.StartsWith("aws: missing permission ec2:RunInstances (UnauthorizedOperation: You are not authorized to perform this operation.",
            problem.ToString(), StringComparison.Ordinal);
        Assert.Equal(problem.ToString(), error.Message);
        Assert.Equal(1, Calls("RunInstances"));
        Assert.Equal(0, _server.InstanceCount);
        // Describe is allowed: its success says nothing of RunInstances.
        await _backend.DescribeAsync(Ct);
        Assert.Single(_health.Problems);

        _server.Allow("RunInstances");
        await _backend.LaunchAsync(Request("job-1"), Ct);

        Assert.True(_health.IsHealthy);
        Assert.Equal(1, _server.InstanceCount);
    }

    [Fact]
    public async Task A_quota_refusal_after_a_missing_permission_says_the_permission_is_there_now()
    {
        _server.Deny("RunInstances");
        await Assert.ThrowsAsync<BackendUnavailableException>(() => _backend.LaunchAsync(Request("job-1"), Ct));
        _server.Allow("RunInstances");
        _server.RefuseQuota("g5.xlarge");

        var refused = await _backend.LaunchAsync(Request("job-1"), Ct);

        Assert.Equal(RefusalKind.Quota, refused.Refusal?.Kind);
        Assert.True(_health.IsHealthy);
    }

    [Fact]
    public async Task No_credentials_make_the_backend_unhealthy_and_the_client_is_made_again_on_the_next_call()
    {
        var options = Options();
        var attempts = 0;
        var backend = new AwsEc2Compute(() => ++attempts == 1
                ? throw new AmazonClientException("Failed to resolve AWS credentials. The credential providers used to search for credentials returned the following errors:\nException 1 of 1: none")
                : Client(options),
            options, _time, _log, _health);

        var error = await Assert.ThrowsAsync<BackendUnavailableException>(() => backend.DescribeAsync(Ct));

        Assert.Equal(BackendProblem.Credentials, Assert.Single(_health.Problems).Subject);
        Assert.Contains("no AWS credentials found", error.Message, StringComparison.Ordinal);
        Assert.Empty(await backend.DescribeAsync(Ct));
        Assert.Equal(2, attempts);
        Assert.True(_health.IsHealthy);
    }

    [Fact]
    public async Task A_reused_client_token_is_logged_as_a_bug_with_both_requests_and_counted()
    {
        var request = Request("job-1");
        var first = await _backend.LaunchAsync(request, Ct);

        var error = await Assert.ThrowsAsync<AmazonEC2Exception>(() => _backend.LaunchAsync(request with { InstanceType = "p3.2xlarge" }, Ct));

        Assert.Equal("IdempotentParameterMismatch", error.ErrorCode);
        Assert.Equal(1, _backend.Mismatches);
        var line = Assert.Single(_log.Entries, e => e.Level == LogLevel.Critical).Message;
        Assert.Contains("ml/job-1#1", line, StringComparison.Ordinal);
        Assert.Contains("This request: p3.2xlarge in subnet subnet-aaaa", line, StringComparison.Ordinal);
        Assert.Contains($"EC2 holds: {first.InstanceId}: g5.xlarge", line, StringComparison.Ordinal);
        Assert.True(_health.IsHealthy, "a bug of ours, not the backend's health");
    }

    [Fact]
    public void The_sdks_own_retries_are_off()
    {
        var config = AwsComputeRegistration.Config(Options());

        Assert.Equal(0, config.MaxErrorRetry);
    }

    /// <summary>A fake clock that reports each timer made on it (the backend's waits), so a test moves time exactly past each.</summary>
    private sealed class TimerWatchingTimeProvider(DateTimeOffset start) : FakeTimeProvider(start)
    {
        private readonly Channel<TimeSpan> _made = Channel.CreateUnbounded<TimeSpan>();
        private readonly List<TimeSpan> _waits = [];

        public IReadOnlyList<TimeSpan> Waits
        {
            get
            {
                lock (_waits)
                {
                    return [.. _waits];
                }
            }
        }

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            lock (_waits)
            {
                _waits.Add(dueTime);
            }
            _made.Writer.TryWrite(dueTime);
            return timer;
        }

        /// <summary>The wait of the next timer made.</summary>
        public Task<TimeSpan> NextTimerAsync() => _made.Reader.ReadAsync().AsTask();
    }
}

/// <summary>Keeps every log entry: level and formatted message.</summary>
internal sealed class CollectingLogger : ILogger
{
    private readonly List<(LogLevel Level, string Message)> _entries = [];

    public IReadOnlyList<(LogLevel Level, string Message)> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        lock (_entries)
        {
            _entries.Add((logLevel, formatter(state, exception)));
        }
    }
}
