using Disagg.Xenstored.Core;
using Disagg.Xenstored.Transport.Ring;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Disagg.Xenstored.Hosting;

/// <summary>
/// The object graph of one xenstored process, composed once at the entry point: the store loaded from its
/// state directory, the event loop that owns it, guests' connections, the request processor, and the server
/// as the host's one hosted service. Hot paths get their collaborators here, by constructor.
/// </summary>
public static class XenstoredServices
{
    public static IServiceCollection AddXenstored(this IServiceCollection services, XenstoredOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(_ => new XenstoreState(options.Quota));
        services.AddSingleton<RestoredStore>();
        services.AddSingleton(sp => new StoreLoop(
            sp.GetRequiredService<XenstoreState>(), sp.GetRequiredService<RestoredStore>().Journal, options.StateDirectory, options.CompactBytes));
        services.AddSingleton(sp => new GuestConnections(sp.GetRequiredService<StoreLoop>(), options.Quota));
        services.AddSingleton(sp =>
        {
            var loop = sp.GetRequiredService<StoreLoop>();
            // The loop needs the processor and the processor the loop's connections: the loop gets it here, once.
            var processor = new XsRequestProcessor(
                sp.GetRequiredService<XenstoreState>(), sp.GetRequiredService<RestoredStore>().Journal, sp.GetRequiredService<GuestConnections>());
            loop.Processor = processor;
            return processor;
        });
        services.AddSingleton<XenstoredServer>();
        services.AddHostedService(sp => sp.GetRequiredService<XenstoredServer>());
        return services;
    }
}
