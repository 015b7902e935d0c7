using System.Threading.Channels;
using Microsoft.Extensions.Time.Testing;
using Spotwise.Runtime;

namespace Spotwise.Compute.Kubernetes.Tests;

/// <summary>
/// A test's cluster: the loopback API server and the backend on the real KubernetesClient pointed at it, on one fake
/// clock that reports the timers made on it (so a test knows when the watch waits to retry).
/// </summary>
internal sealed class KubeCluster : IAsyncDisposable
{
    private KubeCluster(TimerWatchingClock clock, FakeKubeApiServer server, KubernetesJobsCompute backend)
    {
        Clock = clock;
        Server = server;
        Backend = backend;
    }

    public TimerWatchingClock Clock { get; }

    public FakeKubeApiServer Server { get; }

    public KubernetesJobsCompute Backend { get; }

    public static async Task<KubeCluster> StartAsync(DateTimeOffset start, Func<KubernetesComputeOptions, KubernetesComputeOptions>? configure = null)
    {
        var clock = new TimerWatchingClock(start);
        var server = await FakeKubeApiServer.StartAsync(clock);
        var options = new KubernetesComputeOptions { Host = server.BaseUri, Namespace = "default" };
        options = configure?.Invoke(options) ?? options;
        var backend = new KubernetesJobsCompute(KubernetesComputeRegistration.CreateClient(options), options, clock);
        return new KubeCluster(clock, server, backend);
    }

    /// <summary>Options like the cluster's (for a second backend on the same server).</summary>
    public KubernetesComputeOptions Options(string managedBy) => new() { Host = Server.BaseUri, Namespace = "default", ManagedBy = managedBy };

    /// <summary>The clock moves, the kubelet reports, and the backend's watch has seen all of it.</summary>
    public async Task PassAsync(TimeSpan span)
    {
        Clock.Advance(span);
        Server.Progress();
        await CaughtUpAsync();
    }

    /// <summary>
    /// Waits until the backend's watch has seen the server's latest resource version. A bookmark carries it there even when
    /// the last changes were to Jobs the watch's selector leaves out (another installation's).
    /// </summary>
    public Task CaughtUpAsync()
    {
        Server.Bookmark();
        var target = Server.ResourceVersion;
        return UntilAsync(() => Backend.SeenResourceVersion == target);
    }

    /// <summary>Waits (on the backend's own change events, never a sleep) until <paramref name="condition"/> holds; fails after 30 s.</summary>
    public async Task UntilAsync(Func<bool> condition)
    {
        using var changed = new SemaphoreSlim(0);
        void OnChange() => changed.Release();
        Backend.ViewChanged += OnChange;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!condition())
            {
                await changed.WaitAsync(timeout.Token);
            }
        }
        finally
        {
            Backend.ViewChanged -= OnChange;
        }
    }

    public async Task<InstanceStatus> StatusAsync(string name) =>
        Assert.Single(await Backend.DescribeAsync(CancellationToken.None), s => s.InstanceId == name);

    public async ValueTask DisposeAsync()
    {
        await Backend.DisposeAsync();
        await Server.DisposeAsync();
    }
}

/// <summary>A fake clock that reports each timer made on it, so a test knows when the code under test waits on it.</summary>
internal sealed class TimerWatchingClock(DateTimeOffset start) : FakeTimeProvider(start)
{
    private readonly Channel<TimeSpan> _made = Channel.CreateUnbounded<TimeSpan>();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        var timer = base.CreateTimer(callback, state, dueTime, period);
        _made.Writer.TryWrite(dueTime);
        return timer;
    }

    /// <summary>The due time of the next timer made (or one made since <see cref="ForgetTimers"/>).</summary>
    public async Task<TimeSpan> NextTimerAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        return await _made.Reader.ReadAsync(timeout.Token);
    }

    public void ForgetTimers()
    {
        while (_made.Reader.TryRead(out _))
        {
        }
    }
}
