using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Spotwise.Runtime;
using Spotwise.Runtime.Backends;

namespace Spotwise.Compute.Kubernetes;

/// <summary>
/// Kubernetes as a backend: one batch/v1 Job per attempt (<see cref="JobManifests"/>), named from the attempt's client
/// token so a retried launch finds the same Job (a 409 AlreadyExists is success when the existing Job carries our token
/// and managed-by label, and an error otherwise), watched rather than polled (<see cref="JobWatch"/>: Describe answers
/// from the watch's view), deleted with background propagation to terminate. With Kueue, Jobs are made suspended in the
/// configured LocalQueue and Kueue admits them; a suspended Job is pending.
/// </summary>
public sealed partial class KubernetesJobsCompute : ICompute, IAsyncDisposable
{
    private readonly IKubernetes _client;
    private readonly KubernetesComputeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly BackendHealth? _health;
    private readonly JobView _view;
    private readonly JobWatch _watch;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _startLock = new();
    private Task? _watching;

    /// <param name="client">The cluster's client (<see cref="KubernetesComputeRegistration.CreateClient"/>; tests: a loopback host).</param>
    /// <param name="options">Namespace, labels, image, Kueue.</param>
    /// <param name="time">The service's clock: the watch's retries wait on it, and ended Jobs are remembered by it.</param>
    /// <param name="logger">Where the watch's errors and refused launches are logged.</param>
    /// <param name="health">The service's backend health: a watch that cannot list says so there.</param>
    public KubernetesJobsCompute(IKubernetes client, KubernetesComputeOptions options, TimeProvider time, ILogger? logger = null, BackendHealth? health = null)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        _client = client;
        _options = options;
        _time = time;
        _logger = logger ?? NullLogger.Instance;
        _health = health;
        _view = new JobView(time, options.EndedMemory);
        _watch = new JobWatch(client, options, _view, time, _logger, health);
    }

    /// <summary>The resource version the watch has seen last (tests wait for the server's).</summary>
    internal string? SeenResourceVersion => _view.ResourceVersion;

    /// <summary>Raised after every change of the backend's view of the cluster.</summary>
    internal event Action? ViewChanged
    {
        add => _view.Changed += value;
        remove => _view.Changed -= value;
    }

    /// <summary>Lists made by the watch since start: one at start, one more after each 410 Gone or broken watch.</summary>
    public int Lists => _watch.Lists;

    /// <summary>Starts the watch (once) and waits for its first list, at most <see cref="KubernetesComputeOptions.SyncTimeout"/>.</summary>
    /// <exception cref="BackendUnavailableException">The cluster could not be listed in time (the watch goes on trying).</exception>
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        lock (_startLock)
        {
            _watching ??= Task.Run(() => _watch.RunAsync(_stop.Token), CancellationToken.None);
        }
        if (_view.Synced.IsCompleted)
        {
            return;
        }
        try
        {
            await _view.Synced.WaitAsync(_options.SyncTimeout, _time, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException e)
        {
            throw new BackendUnavailableException(
                $"kubernetes: the Jobs of namespace {_options.Namespace} could not be listed within {_options.SyncTimeout} (see /healthz)", e);
        }
    }

    public async Task<InstanceStatus> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        await StartAsync(cancellationToken).ConfigureAwait(false);
        var manifest = JobManifests.For(request, _options);
        var name = manifest.Metadata.Name;
        if (_view.Find(name) is { } known && known.ClientToken == request.ClientToken)
        {
            return known;
        }
        V1Job job;
        try
        {
            job = await _client.BatchV1.CreateNamespacedJobAsync(manifest, _options.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
            job = await ExistingAsync(name, request, cancellationToken).ConfigureAwait(false);
        }
        _view.Know(job);
        return _view.Find(name) ?? throw new InvalidOperationException($"Job {_options.Namespace}/{name} came back without Spotwise's annotations");
    }

    /// <summary>409 AlreadyExists: the Job under the name is this attempt's (a retried launch) or the launch is an error.</summary>
    private async Task<V1Job> ExistingAsync(string name, LaunchRequest request, CancellationToken cancellationToken)
    {
        var existing = await _client.BatchV1.ReadNamespacedJobAsync(name, _options.Namespace, cancellationToken: cancellationToken).ConfigureAwait(false);
        var managedBy = KubeKeys.Get(existing.Metadata?.Labels, KubeKeys.ManagedBy);
        var token = KubeKeys.Get(existing.Metadata?.Annotations, KubeKeys.ClientToken);
        if (managedBy == _options.ManagedBy && token == request.ClientToken)
        {
            return existing;
        }
        LogNotOurs(_options.Namespace, name, request.ClientToken, managedBy ?? "(none)", token ?? "(none)");
        throw new InvalidOperationException(
            $"Job {_options.Namespace}/{name} already exists and is not attempt {request.ClientToken}'s " +
            $"({KubeKeys.ManagedBy}={managedBy ?? "(none)"}, {KubeKeys.ClientToken}={token ?? "(none)"}); delete it or change the namespace");
    }

    public async Task<IReadOnlyList<InstanceStatus>> DescribeAsync(CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken).ConfigureAwait(false);
        return _view.Statuses();
    }

    public async Task TerminateAsync(string instanceId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(instanceId);
        await StartAsync(cancellationToken).ConfigureAwait(false);
        if (!KubeNames.IsDnsLabel(instanceId))
        {
            return; // No Job can have that name: nothing of ours runs under it (the contract: not an error).
        }
        await DeleteAsync(instanceId, cancellationToken).ConfigureAwait(false);
        _view.Terminated(instanceId);
    }

    /// <summary>
    /// Deletes a Job and, in the background, its pods (propagation <c>Background</c>: the call returns at once and the
    /// garbage collector removes the pods). An unknown Job is not an error.
    /// </summary>
    internal async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        try
        {
            await _client.BatchV1.DeleteNamespacedJobAsync(name, _options.Namespace, new V1DeleteOptions { PropagationPolicy = "Background" },
                cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // Gone already (its TTL, or a delete before ours).
        }
    }

    /// <summary>The live Jobs of this installation as the watch sees them, for the orphan sweep.</summary>
    internal IReadOnlyList<V1Job> LiveJobs() => _view.LiveJobs();

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (_watching is { } watching)
        {
            await watching.ConfigureAwait(false);
        }
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Namespace}/{Name} already exists but is not attempt {ClientToken}'s " +
        "(its managed-by label is {ManagedBy}, its client token {TheirToken}): the launch is refused; the job waits until the Job is deleted")]
    private partial void LogNotOurs(string @namespace, string name, string clientToken, string managedBy, string theirToken);
}
