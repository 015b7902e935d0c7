using Microsoft.Extensions.DependencyInjection;
using Spotwise.Runtime.Backends;

namespace Spotwise.Compute.Simulated;

/// <summary>The simulated cloud as a backend of the service, registered by name.</summary>
public static class SimulatedComputeRegistration
{
    public const string Name = "simulated";

    /// <summary>
    /// Registers the simulated cloud as backend <c>simulated</c>, on the service's <see cref="TimeProvider"/>. The scheduler
    /// plans with its launch delay as the launch allowance (a job's work starts that long after its launch).
    /// </summary>
    public static IServiceCollection AddSimulatedCompute(this IServiceCollection services, Func<IServiceProvider, SimulatedCloudOptions> options)
    {
        services.AddSingleton(options);
        return services.AddComputeBackend(Name,
            sp => new SimulatedCloud(sp.GetRequiredService<SimulatedCloudOptions>(), sp.GetRequiredService<TimeProvider>()),
            sp => sp.GetRequiredService<SimulatedCloudOptions>().LaunchDelay);
    }
}
