using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Spotwise.Runtime.Backends;

/// <summary>
/// The service's one <see cref="ICompute"/> over several backends: a launch goes to the backend serving the provider its
/// offer names, <see cref="DescribeAsync"/> merges every backend's instances, and a terminate goes to the backend that owns
/// the instance. Ownership is remembered from launches and every describe, so after a restart (an empty memory) the first
/// terminate of an unknown id asks every backend once. Instance ids must be unique across backends (each backend's ids
/// carry its own prefix: <c>sim-</c>, <c>local-</c>); an id two backends report is refused rather than guessed.
/// </summary>
public sealed class ComputeRouter : ICompute
{
    private readonly IReadOnlyDictionary<string, ICompute> _byProvider;
    private readonly ICompute _default;
    private readonly IReadOnlyList<ICompute> _backends;
    private readonly ConcurrentDictionary<string, ICompute> _owners = new(StringComparer.Ordinal);

    /// <param name="routes">Provider → backend, the first being the default for launches that name no provider.</param>
    public ComputeRouter(IReadOnlyList<KeyValuePair<string, ICompute>> routes)
    {
        if (routes.Count == 0)
        {
            throw new ArgumentException("a router needs at least one route", nameof(routes));
        }
        var duplicate = routes.GroupBy(r => r.Key, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"provider '{duplicate.Key}' is routed {duplicate.Count()} times; one backend per provider", nameof(routes));
        }
        _byProvider = routes.ToDictionary(r => r.Key, r => r.Value, StringComparer.Ordinal);
        _default = routes[0].Value;
        _backends = [.. routes.Select(r => r.Value).Distinct()];
    }

    /// <summary>The router over the registered routes (<see cref="ComputeBackends.AddComputeRoute"/>), each backend made once.</summary>
    /// <exception cref="InvalidOperationException">A route names a backend nobody registered; the message lists the registered ones.</exception>
    public static ComputeRouter Create(IServiceProvider services) => new([.. services.GetServices<ComputeRoute>()
        .Select(r => KeyValuePair.Create(r.Provider, services.GetRequiredKeyedService<ICompute>(ComputeBackends.Named(services, r.Backend).Name)))]);

    /// <summary>The providers routed, the default first.</summary>
    public IReadOnlyCollection<string> Providers => [.. _byProvider.Keys];

    /// <summary>The backend that launches offers of <paramref name="provider"/> (null: the default).</summary>
    /// <exception cref="InvalidOperationException">No backend serves that provider.</exception>
    public ICompute BackendFor(string? provider) => provider is null ? _default
        : _byProvider.GetValueOrDefault(provider)
          ?? throw new InvalidOperationException($"no backend serves provider '{provider}'; routed: {string.Join(", ", _byProvider.Keys)}");

    public async Task<InstanceStatus> LaunchAsync(LaunchRequest request, CancellationToken cancellationToken)
    {
        var backend = BackendFor(request.Provider);
        var status = await backend.LaunchAsync(request, cancellationToken);
        Own(status.InstanceId, backend);
        return status;
    }

    public async Task<IReadOnlyList<InstanceStatus>> DescribeAsync(CancellationToken cancellationToken)
    {
        var all = new List<InstanceStatus>();
        foreach (var backend in _backends)
        {
            var instances = await backend.DescribeAsync(cancellationToken);
            foreach (var instance in instances)
            {
                Own(instance.InstanceId, backend);
            }
            all.AddRange(instances);
        }
        return all;
    }

    public async Task TerminateAsync(string instanceId, CancellationToken cancellationToken)
    {
        if (!_owners.ContainsKey(instanceId))
        {
            // Not launched through this router since it started: ask every backend who has it.
            await DescribeAsync(cancellationToken);
        }
        if (_owners.TryGetValue(instanceId, out var owner))
        {
            await owner.TerminateAsync(instanceId, cancellationToken);
        }
        // Unknown to every backend: terminating it is not an error (ICompute's contract).
    }

    private void Own(string instanceId, ICompute backend)
    {
        var owner = _owners.GetOrAdd(instanceId, backend);
        if (!ReferenceEquals(owner, backend))
        {
            throw new InvalidOperationException($"instance id '{instanceId}' is reported by two backends; a terminate could reach the wrong one");
        }
    }
}
