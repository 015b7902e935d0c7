using Microsoft.Extensions.DependencyInjection;

namespace Spotwise.Intake.RabbitMq;

/// <summary>Registers the queue consumer and the event publisher; the composition root wraps its store with <see cref="WrapStore"/>.</summary>
public static class RabbitMqRegistration
{
    /// <summary>
    /// The consumer (which needs the service's <see cref="Spotwise.Runtime.Intake.JobIntake"/>) and the publisher (which
    /// reads the service's store). Both are hosted services registered after the store's opener.
    /// </summary>
    public static IServiceCollection AddRabbitMqIntake(this IServiceCollection services, RabbitMqOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(new CommittedWrites(options.EventBuffer));
        services.AddSingleton<JobMessages>();
        services.AddSingleton<JobQueueConsumer>();
        services.AddSingleton<JobEventPublisher>();
        services.AddHostedService(sp => sp.GetRequiredService<JobQueueConsumer>());
        services.AddHostedService(sp => sp.GetRequiredService<JobEventPublisher>());
        return services;
    }

    /// <summary>The store every writer uses, handing committed writes to the publisher (when the intake is registered).</summary>
    public static Spotwise.Runtime.IJobStore WrapStore(IServiceProvider sp, Spotwise.Runtime.IJobStore store) =>
        sp.GetService<CommittedWrites>() is { } queue ? new EventPublishingJobStore(store, queue) : store;
}
