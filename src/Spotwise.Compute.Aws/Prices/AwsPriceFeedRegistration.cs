using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Spotwise.Runtime;

namespace Spotwise.Compute.Aws.Prices;

/// <summary>Live EC2 prices as the service's price feed.</summary>
public static class AwsPriceFeedRegistration
{
    /// <summary>
    /// Registers <see cref="AwsPriceFeed"/> as the <see cref="IPriceFeed"/>, with an EC2 client of its own on the SDK's
    /// default credential chain (or the options' credentials) for the options' region and endpoint override.
    /// </summary>
    public static IServiceCollection AddAwsPriceFeed(this IServiceCollection services, Func<IServiceProvider, AwsPriceFeedOptions> options) =>
        services.AddSingleton(sp => Create(sp, options(sp)))
            .AddSingleton<IPriceFeed>(sp => sp.GetRequiredService<AwsPriceFeed>());

    /// <summary>One region's feed on the service's clock and logger (a service of several regions makes one per region).</summary>
    public static AwsPriceFeed Create(IServiceProvider services, AwsPriceFeedOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new AwsPriceFeed(Ec2Clients.Create(options.Region, options.ServiceUrl, options.Credentials), options,
            services.GetRequiredService<TimeProvider>(), services.GetService<ILogger<AwsPriceFeed>>());
    }
}
