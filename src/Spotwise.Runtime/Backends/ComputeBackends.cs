using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Spotwise.Runtime.Backends;

/// <summary>
/// A backend the service can run jobs on, registered under its name (<c>simulated</c>, <c>local</c>; later <c>aws</c>,
/// <c>slurm</c>, <c>kubernetes</c>). The instance itself is a keyed <see cref="ICompute"/> singleton under the same name,
/// made only when a route names it.
/// </summary>
/// <param name="Name">What users type to choose it (<c>Spotwise:Backend</c>, <c>--backend</c>).</param>
/// <param name="LaunchAllowance">From launch to the job's work running (boot, image pull): the scheduler plans with it.</param>
public sealed record ComputeBackend(string Name, Func<IServiceProvider, TimeSpan> LaunchAllowance);

/// <summary>Launches on offers of <paramref name="Provider"/> go to the backend named <paramref name="Backend"/>.</summary>
public sealed record ComputeRoute(string Provider, string Backend);

/// <summary>
/// Registration of backends by name and of the routes from providers to them, as extension methods on the service
/// collection: each backend project adds its own (<c>AddSimulatedCompute</c>, <c>AddLocalCompute</c>) on top of
/// <see cref="AddComputeBackend"/>, and the service's <see cref="ICompute"/> is the <see cref="ComputeRouter"/> over the routes.
/// </summary>
public static class ComputeBackends
{
    /// <summary>Registers a backend under <paramref name="name"/>; <paramref name="create"/> runs once, when a route first needs it.</summary>
    public static IServiceCollection AddComputeBackend(this IServiceCollection services, string name, Func<IServiceProvider, ICompute> create,
        Func<IServiceProvider, TimeSpan> launchAllowance)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        services.AddSingleton(new ComputeBackend(name, launchAllowance));
        services.AddKeyedSingleton(name, (sp, _) => create(sp));
        return services;
    }

    /// <summary>
    /// Sends launches for a provider's offers to a registered backend. The first route is the default: a launch that names
    /// no provider goes there. The service's <see cref="ICompute"/> becomes the router.
    /// </summary>
    public static IServiceCollection AddComputeRoute(this IServiceCollection services, Func<IServiceProvider, ComputeRoute> route)
    {
        services.AddSingleton<ComputeRoute>(route);
        services.TryAddSingleton<ICompute>(ComputeRouter.Create);
        return services;
    }

    /// <summary>The names of the registered backends, in registration order.</summary>
    public static IReadOnlyList<string> Names(IServiceProvider services) => [.. services.GetServices<ComputeBackend>().Select(b => b.Name)];

    /// <summary>The names registered in a service collection, before any provider is built (for checks at the door).</summary>
    public static IReadOnlyList<string> Names(IServiceCollection services) =>
        [.. services.Where(d => d.ServiceType == typeof(ComputeBackend) && d.ImplementationInstance is ComputeBackend).Select(d => ((ComputeBackend)d.ImplementationInstance!).Name)];

    /// <summary>The backend registered as <paramref name="name"/>.</summary>
    /// <exception cref="InvalidOperationException">No backend has that name; the message lists the registered ones.</exception>
    public static ComputeBackend Named(IServiceProvider services, string name) =>
        services.GetServices<ComputeBackend>().FirstOrDefault(b => string.Equals(b.Name, name, StringComparison.Ordinal))
        ?? throw new InvalidOperationException($"no backend is named '{name}'; registered: {string.Join(", ", Names(services))}");
}
