using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Spotwise.Compute.Kubernetes.Tests;

/// <summary>
/// A loopback Kubernetes API server for batch/v1 Jobs, speaking the JSON wire format the real one sends, for the real
/// KubernetesClient to talk to (as that client's own tests do with their MockKubeApiServer). It follows
/// https://kubernetes.io/docs/reference/using-api/api-concepts/ (list with labelSelector and metadata.resourceVersion;
/// watch as a chunked stream of newline-delimited {"type","object"} events, ADDED, MODIFIED, DELETED, BOOKMARK when
/// allowWatchBookmarks, ERROR with a Status of code 410 for a resource version too old; 409 AlreadyExists and 404 NotFound
/// as Status objects) and the Job reference
/// (https://kubernetes.io/docs/reference/kubernetes-api/workload-resources/job-v1/: create, read, delete with
/// propagationPolicy, status conditions Complete and Failed, podFailurePolicy). The test plays the kubelet, the job
/// controller, Karpenter and Kueue through its hooks; time is the test's clock.
/// </summary>
public sealed class FakeKubeApiServer : IAsyncDisposable
{
    private const string JobsPath = "/apis/batch/v1/namespaces/{ns}/jobs";

    private readonly WebApplication _app;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Ns, string Name), JsonObject> _jobs = [];
    private readonly List<(long Version, string Type, string Ns, JsonObject Job)> _history = [];
    private readonly List<Watcher> _watchers = [];
    private long _version = 100;
    private long _compactedThrough;

    private FakeKubeApiServer(WebApplication app, TimeProvider time)
    {
        _app = app;
        _time = time;
    }

    public Uri BaseUri { get; private set; } = null!;

    /// <summary>From a Job's start to its pod ready (node provisioning, image pull).</summary>
    public TimeSpan Boot { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a pod's command runs before it exits 0 and the Job completes; null: it runs until a hook ends it.</summary>
    public TimeSpan? Run { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Every delete's propagationPolicy, in order.</summary>
    public List<string?> DeletePropagations { get; } = [];

    /// <summary>Every list and watch request's query string, in order.</summary>
    public List<string> Reads { get; } = [];

    /// <summary>The latest resource version.</summary>
    public string ResourceVersion
    {
        get
        {
            lock (_lock)
            {
                return _version.ToString(CultureInfo.InvariantCulture);
            }
        }
    }

    public static async Task<FakeKubeApiServer> StartAsync(TimeProvider time)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeKubeApiServer(app, time);
        app.MapGet(JobsPath, server.ListOrWatchAsync);
        app.MapPost(JobsPath, server.CreateAsync);
        app.MapGet(JobsPath + "/{name}", server.Read);
        app.MapDelete(JobsPath + "/{name}", server.DeleteAsync);
        await app.StartAsync();
        server.BaseUri = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        lock (_lock)
        {
            _watchers.ForEach(w => w.Events.Writer.TryComplete());
        }
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    // ---- test hooks: the kubelet, the job controller, Karpenter, Kueue, and the API server's own moods ----

    /// <summary>A Job as the server holds it (a copy).</summary>
    public JsonObject Job(string name, string ns = "default")
    {
        lock (_lock)
        {
            return (JsonObject)_jobs[(ns, name)].DeepClone();
        }
    }

    public IReadOnlyList<string> JobNames(string ns = "default")
    {
        lock (_lock)
        {
            return [.. _jobs.Keys.Where(k => k.Ns == ns).Select(k => k.Name).Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>Puts a Job in the store as someone else made it (kubectl, another installation).</summary>
    public void Put(JsonObject job, string ns = "default")
    {
        lock (_lock)
        {
            Stamp(job, ns);
            _jobs[(ns, Name(job))] = job;
            Emit("ADDED", ns, job);
        }
    }

    /// <summary>The clock moved: pods become ready after <see cref="Boot"/> and finish after <see cref="Run"/>, as the kubelet would report.</summary>
    public void Progress()
    {
        lock (_lock)
        {
            var now = _time.GetUtcNow();
            foreach (var ((ns, _), job) in _jobs.ToList())
            {
                var status = job["status"]!.AsObject();
                if (Ended(job) || job["spec"]?["suspend"]?.GetValue<bool>() == true || status["startTime"] is null)
                {
                    continue;
                }
                var started = DateTimeOffset.Parse(status["startTime"]!.GetValue<string>(), CultureInfo.InvariantCulture);
                if (Run is { } run && now >= started + Boot + run)
                {
                    Finish(ns, job, "Complete", "CompletionsReached", "Reached expected number of succeeded pods", succeeded: true);
                }
                else if (now >= started + Boot && (status["ready"]?.GetValue<int>() ?? 0) == 0)
                {
                    status["ready"] = 1;
                    Modified(ns, job);
                }
            }
        }
    }

    /// <summary>The pod exits non-zero: with backoffLimit 0 the job controller fails the Job.</summary>
    public void FailPod(string name, string ns = "default") => Change(ns, name, job =>
        Finish(ns, job, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit", succeeded: false));

    /// <summary>
    /// Karpenter takes the spot node away: the pod gets the DisruptionTarget condition and is killed, and the job controller
    /// applies the Job's podFailurePolicy (the first rule on DisruptionTarget: FailJob fails the Job with reason
    /// PodFailurePolicy; Ignore replaces the pod; no rule counts the failure against backoffLimit).
    /// </summary>
    public void TakeSpotNodeAway(string name, string ns = "default") => Change(ns, name, job =>
    {
        var pod = $"{ns}/{name}-{Math.Abs(name.GetHashCode(StringComparison.Ordinal)) % 100000:00000}";
        var rules = job["spec"]?["podFailurePolicy"]?["rules"]?.AsArray() ?? [];
        var index = rules.Select((r, i) => (Rule: r, Index: i))
            .FirstOrDefault(r => r.Rule?["onPodConditions"]?.AsArray().Any(c => c?["type"]?.GetValue<string>() == "DisruptionTarget") == true);
        switch (index.Rule?["action"]?.GetValue<string>())
        {
            case "FailJob":
                Finish(ns, job, "Failed", "PodFailurePolicy",
                    $"Pod {pod} has condition DisruptionTarget matching FailJob rule at index {index.Index}", succeeded: false);
                break;
            case "Ignore":
                job["status"]!["ready"] = 0; // a new pod, pending on a new node
                Modified(ns, job);
                break;
            default:
                Finish(ns, job, "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit", succeeded: false);
                break;
        }
    });

    /// <summary>Kueue admits the Job: it unsuspends it, and the job controller starts it.</summary>
    public void Admit(string name, string ns = "default") => Change(ns, name, job =>
    {
        job["spec"]!["suspend"] = false;
        job["status"]!["startTime"] = Timestamp(_time.GetUtcNow());
        job["status"]!["active"] = 1;
        Modified(ns, job);
    });

    /// <summary>Every open watch ends abruptly (a load balancer's idle timeout, the server restarting).</summary>
    public void DropWatches()
    {
        lock (_lock)
        {
            foreach (var watcher in _watchers)
            {
                watcher.Abort();
            }
            _watchers.Clear();
        }
    }

    /// <summary>
    /// The server forgets the history so far (etcd compaction): every open watch gets an ERROR event with a 410 Status and
    /// ends, and a watch from an older resource version is answered the same way.
    /// </summary>
    public void Compact()
    {
        lock (_lock)
        {
            _compactedThrough = _version;
            _history.Clear();
            foreach (var watcher in _watchers)
            {
                watcher.Events.Writer.TryWrite(GoneEvent(watcher.From));
                watcher.Events.Writer.TryComplete();
            }
            _watchers.Clear();
        }
    }

    /// <summary>A BOOKMARK to every watch that asked for them: the latest resource version, no object change.</summary>
    public void Bookmark()
    {
        lock (_lock)
        {
            var line = Line("BOOKMARK", new JsonObject
            {
                ["kind"] = "Job",
                ["apiVersion"] = "batch/v1",
                ["metadata"] = new JsonObject { ["resourceVersion"] = ResourceVersion },
            });
            foreach (var watcher in _watchers.Where(w => w.Bookmarks))
            {
                watcher.Events.Writer.TryWrite(line);
            }
        }
    }

    // ---- the API ----

    private async Task ListOrWatchAsync(HttpContext context, string ns)
    {
        var query = context.Request.Query;
        var selector = Selector(query["labelSelector"].ToString());
        lock (_lock)
        {
            Reads.Add(context.Request.QueryString.Value ?? "");
        }
        if (query["watch"].ToString() is "true" or "1")
        {
            await WatchAsync(context, ns, selector, query["resourceVersion"].ToString(), query["allowWatchBookmarks"].ToString() == "true");
            return;
        }
        JsonObject list;
        lock (_lock)
        {
            list = new JsonObject
            {
                ["kind"] = "JobList",
                ["apiVersion"] = "batch/v1",
                ["metadata"] = new JsonObject { ["resourceVersion"] = ResourceVersion },
                ["items"] = new JsonArray([.. _jobs.Where(j => j.Key.Ns == ns && Matches(j.Value, selector)).Select(j => (JsonNode)j.Value.DeepClone())]),
            };
        }
        await WriteAsync(context, 200, list);
    }

    private async Task WatchAsync(HttpContext context, string ns, Dictionary<string, string> selector, string from, bool bookmarks)
    {
        var watcher = new Watcher(ns, selector, from, bookmarks, context);
        lock (_lock)
        {
            if (from.Length == 0)
            {
                foreach (var job in _jobs.Where(j => j.Key.Ns == ns).Select(j => j.Value))
                {
                    watcher.Offer("ADDED", job);
                }
            }
            else if (!long.TryParse(from, CultureInfo.InvariantCulture, out var version) || version < _compactedThrough)
            {
                watcher.Events.Writer.TryWrite(GoneEvent(from));
                watcher.Events.Writer.TryComplete();
            }
            else
            {
                foreach (var (_, type, _, job) in _history.Where(h => h.Version > version && h.Ns == ns))
                {
                    watcher.Offer(type, job);
                }
            }
            _watchers.Add(watcher);
        }
        context.Response.StatusCode = 200;
        context.Response.ContentType = "application/json";
        await context.Response.StartAsync();
        try
        {
            await foreach (var line in watcher.Events.Reader.ReadAllAsync(context.RequestAborted))
            {
                await context.Response.WriteAsync(line, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away, or the test dropped the watch.
        }
        finally
        {
            lock (_lock)
            {
                _watchers.Remove(watcher);
            }
        }
    }

    private async Task CreateAsync(HttpContext context, string ns)
    {
        var job = (await JsonNode.ParseAsync(context.Request.Body))!.AsObject();
        var name = Name(job);
        if (Invalid(job) is { } why)
        {
            await WriteAsync(context, 422, StatusObject(422, "Invalid", $"Job.batch \"{name}\" is invalid: {why}", name));
            return;
        }
        JsonObject created;
        lock (_lock)
        {
            if (_jobs.ContainsKey((ns, name)))
            {
                created = StatusObject(409, "AlreadyExists", $"jobs.batch \"{name}\" already exists", name);
            }
            else
            {
                Stamp(job, ns);
                if (job["spec"]?["suspend"]?.GetValue<bool>() != true)
                {
                    job["status"]!["startTime"] = Timestamp(_time.GetUtcNow());
                    job["status"]!["active"] = 1;
                }
                _jobs[(ns, name)] = job;
                Emit("ADDED", ns, job);
                created = (JsonObject)job.DeepClone();
            }
        }
        await WriteAsync(context, created["kind"]!.GetValue<string>() == "Status" ? 409 : 201, created);
    }

    private IResult Read(string ns, string name)
    {
        lock (_lock)
        {
            return _jobs.TryGetValue((ns, name), out var job)
                ? Results.Json(job.DeepClone(), statusCode: 200)
                : Results.Json(StatusObject(404, "NotFound", $"jobs.batch \"{name}\" not found", name), statusCode: 404);
        }
    }

    private async Task DeleteAsync(HttpContext context, string ns, string name)
    {
        string? propagation = context.Request.Query["propagationPolicy"].ToString() is { Length: > 0 } q ? q : null;
        if (context.Request.ContentLength is > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            var body = await JsonNode.ParseAsync(context.Request.Body);
            propagation ??= body?["propagationPolicy"]?.GetValue<string>();
        }
        JsonObject answer;
        int code;
        lock (_lock)
        {
            DeletePropagations.Add(propagation);
            if (_jobs.Remove((ns, name), out var job))
            {
                Emit("DELETED", ns, job);
                answer = StatusObject(200, null, null, name);
                answer["status"] = "Success";
                code = 200;
            }
            else
            {
                answer = StatusObject(404, "NotFound", $"jobs.batch \"{name}\" not found", name);
                code = 404;
            }
        }
        await WriteAsync(context, code, answer);
    }

    // ---- the store ----

    private void Change(string ns, string name, Action<JsonObject> change)
    {
        lock (_lock)
        {
            change(_jobs[(ns, name)]);
        }
    }

    private void Finish(string ns, JsonObject job, string type, string reason, string message, bool succeeded)
    {
        var now = Timestamp(_time.GetUtcNow());
        var status = job["status"]!.AsObject();
        status["startTime"] ??= now;
        status["active"] = 0;
        status["ready"] = 0;
        status[succeeded ? "succeeded" : "failed"] = 1;
        if (succeeded)
        {
            status["completionTime"] = now;
        }
        var conditions = status["conditions"]?.AsArray() ?? [];
        conditions.Add(new JsonObject
        {
            ["type"] = type,
            ["status"] = "True",
            ["reason"] = reason,
            ["message"] = message,
            ["lastProbeTime"] = now,
            ["lastTransitionTime"] = now,
        });
        status["conditions"] = conditions;
        Modified(ns, job);
    }

    private static bool Ended(JsonObject job) =>
        job["status"]?["conditions"]?.AsArray().Any(c => c?["type"]?.GetValue<string>() is "Complete" or "Failed" && c["status"]?.GetValue<string>() == "True") == true;

    private void Stamp(JsonObject job, string ns)
    {
        var metadata = job["metadata"]!.AsObject();
        metadata["namespace"] = ns;
        metadata["uid"] = Guid.NewGuid().ToString();
        metadata["creationTimestamp"] = Timestamp(_time.GetUtcNow());
        job["status"] ??= new JsonObject();
    }

    private void Modified(string ns, JsonObject job) => Emit("MODIFIED", ns, job);

    /// <summary>A change: a new resource version on the object, in the history, to every watch whose selector matches.</summary>
    private void Emit(string type, string ns, JsonObject job)
    {
        _version++;
        job["metadata"]!["resourceVersion"] = _version.ToString(CultureInfo.InvariantCulture);
        var copy = (JsonObject)job.DeepClone();
        _history.Add((_version, type, ns, copy));
        foreach (var watcher in _watchers.Where(w => w.Ns == ns))
        {
            watcher.Offer(type, copy);
        }
    }

    /// <summary>What the API server's validation refuses that the product could get wrong: names and label values.</summary>
    private static string? Invalid(JsonObject job)
    {
        var name = Name(job);
        if (name.Length is 0 or > 63 || !name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') || name[0] == '-' || name[^1] == '-')
        {
            return $"metadata.name: Invalid value: \"{name}\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
        }
        foreach (var (key, value) in job["metadata"]?["labels"]?.AsObject() ?? [])
        {
            var v = value?.GetValue<string>() ?? "";
            if (v.Length > 63 || !v.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
                || (v.Length > 0 && !(char.IsAsciiLetterOrDigit(v[0]) && char.IsAsciiLetterOrDigit(v[^1]))))
            {
                return $"metadata.labels: Invalid value: \"{v}\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (label {key})";
            }
        }
        return null;
    }

    private static string Name(JsonObject job) => job["metadata"]?["name"]?.GetValue<string>() ?? "";

    private static Dictionary<string, string> Selector(string selector) => selector.Split(',', StringSplitOptions.RemoveEmptyEntries)
        .Select(term => term.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "", StringComparer.Ordinal);

    private static bool Matches(JsonObject job, Dictionary<string, string> selector) =>
        selector.All(s => job["metadata"]?["labels"]?[s.Key]?.GetValue<string>() == s.Value);

    private static string Timestamp(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static JsonObject StatusObject(int code, string? reason, string? message, string name) => new()
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = message,
        ["reason"] = reason,
        ["details"] = new JsonObject { ["name"] = name, ["group"] = "batch", ["kind"] = "jobs" },
        ["code"] = code,
    };

    private static string GoneEvent(string from) => Line("ERROR", new JsonObject
    {
        ["kind"] = "Status",
        ["apiVersion"] = "v1",
        ["metadata"] = new JsonObject(),
        ["status"] = "Failure",
        ["message"] = $"too old resource version: {from}",
        ["reason"] = "Expired",
        ["code"] = 410,
    });

    private static string Line(string type, JsonObject @object) =>
        new JsonObject { ["type"] = type, ["object"] = @object.DeepClone() }.ToJsonString() + "\n";

    private static async Task WriteAsync(HttpContext context, int status, JsonObject body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(body.ToJsonString(), Encoding.UTF8);
    }

    /// <summary>One open watch: its filter, and the lines waiting to be written to it.</summary>
    private sealed class Watcher(string ns, Dictionary<string, string> selector, string from, bool bookmarks, HttpContext context)
    {
        public string Ns { get; } = ns;

        public string From { get; } = from;

        public bool Bookmarks { get; } = bookmarks;

        public Channel<string> Events { get; } = Channel.CreateUnbounded<string>();

        public void Offer(string type, JsonObject job)
        {
            if (Matches(job, selector))
            {
                Events.Writer.TryWrite(Line(type, job));
            }
        }

        public void Abort()
        {
            Events.Writer.TryComplete();
            context.Abort();
        }
    }
}
