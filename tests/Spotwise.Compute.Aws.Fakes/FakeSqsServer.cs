using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Spotwise.Compute.Aws.Fakes;

/// <summary>
/// A loopback SQS endpoint speaking the SQS JSON protocol that AWSSDK.SQS 4 uses (AWS JSON 1.0: <c>POST /</c> with
/// <c>X-Amz-Target: AmazonSQS.&lt;Action&gt;</c> and <c>Content-Type: application/x-amz-json-1.0</c>, errors as
/// <c>{"__type": "com.amazonaws.sqs#Code", "message"}</c>), for the real <c>AmazonSQSClient</c> to talk to. Shapes follow
/// the SQS API reference (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html,
/// API_DeleteMessage.html, API_SendMessage.html, sqs-json-faqs.html). Supported: ReceiveMessage with
/// <c>WaitTimeSeconds</c> (the long poll waits on an event: a message sent, one becoming visible again, or the wait
/// ending on the test's clock) and <c>VisibilityTimeout</c> (the queue's 30 s by default), DeleteMessage by receipt
/// handle, SendMessage. <c>MD5OfBody</c> is the body's MD5, which the SDK checks.
/// </summary>
public sealed class FakeSqsServer : IAsyncDisposable
{
    public const string AccountId = "123456789012";

    /// <summary>SQS's default visibility timeout.</summary>
    public static readonly TimeSpan DefaultVisibilityTimeout = TimeSpan.FromSeconds(30);

    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, List<FakeSqsMessage>> _queues = new(StringComparer.Ordinal);
    private readonly HashSet<string> _deletedHandles = new(StringComparer.Ordinal);
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _sequence;
    private int _receives;
    private int _waiting;

    private FakeSqsServer(WebApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
    }

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>ReceiveMessage calls so far, answered or refused.</summary>
    public int Receives => Volatile.Read(ref _receives);

    /// <summary>Long polls waiting now.</summary>
    public int Waiting => Volatile.Read(ref _waiting);

    public static async Task<FakeSqsServer> StartAsync(TimeProvider time)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeSqsServer(app, time);
        app.MapPost("/", (Delegate)server.HandleAsync);
        await app.StartAsync();
        server.BaseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    /// <summary>Creates a queue; its URL, as SQS forms them (endpoint/account/name).</summary>
    public string CreateQueue(string name)
    {
        var url = new Uri(BaseUri, $"{AccountId}/{name}").ToString();
        lock (_lock)
        {
            _queues.TryAdd(url, []);
        }
        return url;
    }

    /// <summary>Sends <paramref name="body"/> to the queue, as SendMessage (or an EventBridge target) does.</summary>
    public string Send(string queueUrl, string body)
    {
        lock (_lock)
        {
            var id = Guid.NewGuid().ToString();
            Queue(queueUrl).Add(new FakeSqsMessage(id, body, _time.GetUtcNow()));
            Changed();
            return id;
        }
    }

    /// <summary>Messages in the queue, visible or in flight (received, not yet deleted).</summary>
    public int Count(string queueUrl)
    {
        lock (_lock)
        {
            return Queue(queueUrl).Count;
        }
    }

    /// <summary>Completes when the queue holds no message, visible or in flight: everything sent was deleted.</summary>
    public async Task WhenEmptyAsync(string queueUrl, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (Queue(queueUrl).Count == 0)
                {
                    return;
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Completes when <paramref name="condition"/> holds, asked again at every change (a receive, a send, a delete).</summary>
    public async Task WhenAsync(Func<FakeSqsServer, bool> condition, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(condition);
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (condition(this))
                {
                    return;
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task<IResult> HandleAsync(HttpContext context)
    {
        var target = context.Request.Headers["X-Amz-Target"].ToString();
        if (!target.StartsWith("AmazonSQS.", StringComparison.Ordinal) || context.Request.ContentType?.StartsWith("application/x-amz-json-1.0", StringComparison.Ordinal) != true)
        {
            return Error(400, "InvalidAction", $"not an SQS JSON 1.0 request (X-Amz-Target '{target}', Content-Type '{context.Request.ContentType}')");
        }
        var request = await JsonNode.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted) as JsonObject ?? [];
        try
        {
            return target["AmazonSQS.".Length..] switch
            {
                "ReceiveMessage" => Json(await ReceiveAsync(request, context.RequestAborted)),
                "DeleteMessage" => Json(Delete(request)),
                "SendMessage" => Json(SendMessage(request)),
                var action => Error(400, "InvalidAction", $"The action {action} is not valid for this endpoint."),
            };
        }
        catch (SqsError e)
        {
            return Error(400, e.Code, e.Message);
        }
    }

    private async Task<JsonObject> ReceiveAsync(JsonObject request, CancellationToken aborted)
    {
        Interlocked.Increment(ref _receives);
        var queueUrl = QueueUrl(request);
        var max = Number(request, "MaxNumberOfMessages", 1, 1, 10);
        var wait = TimeSpan.FromSeconds(Number(request, "WaitTimeSeconds", 0, 0, 20));
        var visibility = TimeSpan.FromSeconds(Number(request, "VisibilityTimeout", (int)DefaultVisibilityTimeout.TotalSeconds, 0, 43200));
        using var waitEnds = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        var deadline = Task.Delay(wait, _time, waitEnds.Token);
        try
        {
            while (true)
            {
                Task changed;
                Task reappears;
                lock (_lock)
                {
                    var taken = Take(Queue(queueUrl), max, visibility);
                    if (taken.Count > 0 || deadline.IsCompleted)
                    {
                        Changed();
                        return new JsonObject { ["Messages"] = new JsonArray([.. taken]) };
                    }
                    changed = _changed.Task;
                    reappears = NextVisible(Queue(queueUrl)) is { } at ? Task.Delay(at - _time.GetUtcNow(), _time, waitEnds.Token) : Task.Delay(Timeout.InfiniteTimeSpan, _time, waitEnds.Token);
                    Interlocked.Increment(ref _waiting);
                    Changed();
                }
                try
                {
                    await Task.WhenAny(changed, deadline, reappears);
                }
                finally
                {
                    Interlocked.Decrement(ref _waiting);
                }
                aborted.ThrowIfCancellationRequested();
            }
        }
        finally
        {
            await waitEnds.CancelAsync();
        }
    }

    private List<JsonObject> Take(List<FakeSqsMessage> queue, int max, TimeSpan visibility)
    {
        var now = _time.GetUtcNow();
        var taken = new List<JsonObject>();
        foreach (var m in queue.Where(m => m.VisibleAt <= now).Take(max))
        {
            m.VisibleAt = now + visibility;
            m.ReceiptHandle = $"rh-{Interlocked.Increment(ref _sequence)}-{m.MessageId}";
            m.ReceiveCount++;
            taken.Add(new JsonObject
            {
                ["MessageId"] = m.MessageId,
                ["ReceiptHandle"] = m.ReceiptHandle,
                ["MD5OfBody"] = Md5(m.Body),
                ["Body"] = m.Body,
                ["Attributes"] = new JsonObject
                {
                    ["ApproximateReceiveCount"] = m.ReceiveCount.ToString(CultureInfo.InvariantCulture),
                    ["SentTimestamp"] = m.SentAt.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture),
                },
            });
        }
        return taken;
    }

    private static DateTimeOffset? NextVisible(List<FakeSqsMessage> queue) =>
        queue.Count == 0 ? null : queue.Min(m => m.VisibleAt);

    private JsonObject Delete(JsonObject request)
    {
        var queueUrl = QueueUrl(request);
        var handle = request["ReceiptHandle"]?.GetValue<string>() ?? throw new SqsError("MissingParameter", "The request must contain the parameter ReceiptHandle.");
        lock (_lock)
        {
            var queue = Queue(queueUrl);
            var message = queue.SingleOrDefault(m => m.ReceiptHandle == handle);
            if (message is not null)
            {
                queue.Remove(message);
                _deletedHandles.Add(handle);
                Changed();
            }
            else if (!_deletedHandles.Contains(handle))
            {
                throw new SqsError("ReceiptHandleIsInvalid", $"The input receipt handle \"{handle}\" is not a valid receipt handle.");
            }
        }
        return [];
    }

    private JsonObject SendMessage(JsonObject request)
    {
        var body = request["MessageBody"]?.GetValue<string>() ?? throw new SqsError("MissingParameter", "The request must contain the parameter MessageBody.");
        var id = Send(QueueUrl(request), body);
        return new JsonObject { ["MessageId"] = id, ["MD5OfMessageBody"] = Md5(body) };
    }

    private string QueueUrl(JsonObject request)
    {
        var url = request["QueueUrl"]?.GetValue<string>() ?? throw new SqsError("MissingParameter", "The request must contain the parameter QueueUrl.");
        lock (_lock)
        {
            return _queues.ContainsKey(url) ? url : throw new SqsError("QueueDoesNotExist", "The specified queue does not exist.");
        }
    }

    private List<FakeSqsMessage> Queue(string queueUrl) =>
        _queues.TryGetValue(queueUrl, out var queue) ? queue : throw new SqsError("QueueDoesNotExist", "The specified queue does not exist.");

    private static int Number(JsonObject request, string name, int fallback, int min, int max)
    {
        var value = request[name] is { } node ? node.GetValue<int>() : fallback;
        return value >= min && value <= max
            ? value
            : throw new SqsError("InvalidParameterValue", $"Value {value} for parameter {name} is invalid. Reason: Must be between {min} and {max}.");
    }

    // Wakes every waiting long poll (and every WhenAsync): something changed.
    private void Changed() => Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

#pragma warning disable CA5351 // MD5 is the SQS wire format's checksum of the body, not a security measure.
    private static string Md5(string body) => Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(body)));
#pragma warning restore CA5351

    private static IResult Json(JsonObject body) =>
        Results.Text(body.ToJsonString(), "application/x-amz-json-1.0", Encoding.UTF8, 200);

    /// <summary>The JSON protocol's error (sqs-json-faqs.html): the code after '#' in __type, and the query-compatible header.</summary>
    private static SqsErrorResult Error(int status, string code, string message) => new(status, code,
        new JsonObject { ["__type"] = $"com.amazonaws.sqs#{code}", ["message"] = message }.ToJsonString());

    private sealed class SqsErrorResult(int status, string code, string body) : IResult
    {
        public async Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.StatusCode = status;
            httpContext.Response.ContentType = "application/x-amz-json-1.0";
            httpContext.Response.Headers["x-amzn-query-error"] = $"AWS.SimpleQueueService.{code};Sender";
            await httpContext.Response.WriteAsync(body);
        }
    }

    private sealed class SqsError(string code, string message) : Exception(message)
    {
        public string Code { get; } = code;
    }

    private sealed class FakeSqsMessage(string messageId, string body, DateTimeOffset sentAt)
    {
        public string MessageId { get; } = messageId;
        public string Body { get; } = body;
        public DateTimeOffset SentAt { get; } = sentAt;
        public DateTimeOffset VisibleAt { get; set; } = sentAt;
        public string? ReceiptHandle { get; set; }
        public int ReceiveCount { get; set; }
    }
}
