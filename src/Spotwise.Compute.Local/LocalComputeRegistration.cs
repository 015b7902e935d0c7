using Microsoft.Extensions.DependencyInjection;
using Spotwise.Runtime.Backends;

namespace Spotwise.Compute.Local;

/// <summary>Local processes as a backend of the service, registered by name.</summary>
public static class LocalComputeRegistration
{
    public const string Name = "local";

    /// <summary>
    /// Registers <see cref="LocalProcessCompute"/> as backend <c>local</c>, on the service's <see cref="TimeProvider"/>. A
    /// process starts at once, so the scheduler plans with no launch allowance.
    /// </summary>
    public static IServiceCollection AddLocalCompute(this IServiceCollection services, Func<IServiceProvider, LocalProcessOptions> options)
    {
        services.AddSingleton(options);
        return services.AddComputeBackend(Name,
            sp => new LocalProcessCompute(sp.GetRequiredService<LocalProcessOptions>(), sp.GetRequiredService<TimeProvider>()),
            _ => TimeSpan.Zero);
    }
}
