using System.Net;
using k8s;
using k8s.Autorest;
using Microsoft.Extensions.Logging;
using Spotwise.Runtime.Backends;

namespace Spotwise.Compute.Kubernetes;

/// <summary>
/// Keeps the <see cref="JobView"/> current by the API's own protocol
/// (https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes): list this
/// installation's Jobs (label selector on <c>app.kubernetes.io/managed-by</c>), then watch from the list's resource
/// version with bookmarks, resuming from the last version seen when a watch ends. A 410 Gone (the version is too old:
/// an ERROR event or the HTTP answer) lists again. Any other error waits, doubling from
/// <see cref="KubernetesComputeOptions.WatchRetryMin"/> to <see cref="KubernetesComputeOptions.WatchRetryMax"/> on the
/// service's clock, then lists again: a dropped stream may have lost events.
/// </summary>
internal sealed partial class JobWatch(IKubernetes client, KubernetesComputeOptions options, JobView view, TimeProvider time, ILogger logger,
    BackendHealth? health)
{
    /// <summary>The subject the watch's problems are filed under in <see cref="BackendHealth"/>.</summary>
    public const string Subject = "batch/v1 jobs: list, watch";

    private string Selector => $"{KubeKeys.ManagedBy}={options.ManagedBy}";

    /// <summary>Lists made since start (a test sees a 410 answered by a new list).</summary>
    public int Lists { get; private set; }

    /// <summary>Runs until <paramref name="ct"/> is cancelled.</summary>
    public async Task RunAsync(CancellationToken ct)
    {
        var failures = 0;
        var relist = true;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (relist)
                {
                    await ListAsync(ct).ConfigureAwait(false);
                    relist = false;
                }
                var (gone, events) = await WatchOnceAsync(ct).ConfigureAwait(false);
                relist = gone;
                if (gone)
                {
                    LogGone(options.Namespace);
                }
                // A watch the server closed at once, with nothing said, is waited for as a failure: no tight loop.
                failures = gone || events > 0 ? 0 : failures + 1;
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is HttpOperationException { Response.StatusCode: HttpStatusCode.Gone })
            {
                LogGone(options.Namespace);
                relist = true;
                continue;
            }
            catch (Exception e)
            {
                failures++;
                relist = true;
                LogFailed(e, options.Namespace, failures);
                health?.Failing(KubernetesComputeRegistration.Name, Subject, $"cannot list or watch Jobs in namespace {options.Namespace}: {e.Message}",
                    time.GetUtcNow());
            }
            if (failures > 0)
            {
                try
                {
                    await Task.Delay(Backoff(failures), time, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task ListAsync(CancellationToken ct)
    {
        var list = await client.BatchV1.ListNamespacedJobAsync(options.Namespace, labelSelector: Selector, cancellationToken: ct).ConfigureAwait(false);
        view.Replace(list.Items ?? [], list.Metadata?.ResourceVersion);
        Lists++;
        health?.Cleared(KubernetesComputeRegistration.Name, Subject);
    }

    /// <summary>One watch from the view's resource version, until the server ends it: whether it ended with 410 Gone, and how many events came.</summary>
    private async Task<(bool Gone, int Events)> WatchOnceAsync(CancellationToken ct)
    {
        Exception? error = null;
        var events = 0;
        var stream = client.BatchV1.WatchListNamespacedJobAsync(options.Namespace, allowWatchBookmarks: true, labelSelector: Selector,
            resourceVersion: view.ResourceVersion, onError: e => error = e, cancellationToken: ct);
        await foreach (var (type, job) in stream.ConfigureAwait(false))
        {
            events++;
            if (type != WatchEventType.Error && job is not null)
            {
                view.Apply(type, job);
            }
        }
        return error switch
        {
            null => (false, events),
            KubernetesException { Status.Code: (int)HttpStatusCode.Gone } => (true, events),
            _ => throw new InvalidOperationException($"the watch of Jobs in namespace {options.Namespace} ended with an error: {error.Message}", error),
        };
    }

    private TimeSpan Backoff(int failures)
    {
        var wait = options.WatchRetryMin * Math.Pow(2, Math.Min(failures - 1, 20));
        return wait < options.WatchRetryMax ? wait : options.WatchRetryMax;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "The watch of Jobs in namespace {Namespace} is too old (410 Gone); listing again")]
    private partial void LogGone(string @namespace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listing or watching Jobs in namespace {Namespace} failed ({Failures} in a row); trying again after a wait")]
    private partial void LogFailed(Exception exception, string @namespace, int failures);
}
