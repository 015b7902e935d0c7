using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spotwise.Runtime.Backends;

namespace Spotwise.Compute.Slurm;

/// <summary>A Slurm cluster as a backend of the service, registered by name.</summary>
public static class SlurmComputeRegistration
{
    public const string Name = "slurm";

    /// <summary>
    /// Registers <see cref="SlurmCompute"/> as backend <c>slurm</c>, on the service's <see cref="TimeProvider"/>, reporting
    /// an unreachable cluster to <see cref="BackendHealth"/>. A batch job starts within a scheduler pass when the
    /// partition has room, so the scheduler plans with a minute's allowance.
    /// </summary>
    public static IServiceCollection AddSlurmCompute(this IServiceCollection services, Func<IServiceProvider, SlurmComputeOptions> options)
    {
        services.AddSingleton(options);
        return services.AddComputeBackend(Name,
            sp => new SlurmCompute(sp.GetRequiredService<SlurmComputeOptions>(), sp.GetRequiredService<TimeProvider>(),
                sp.GetService<ILogger<SlurmCompute>>(), sp.GetService<BackendHealth>()),
            _ => TimeSpan.FromMinutes(1));
    }
}
