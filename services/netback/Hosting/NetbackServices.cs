using Microsoft.Extensions.DependencyInjection;

namespace Disagg.Netback.Hosting;

/// <summary>The object graph of one netback process, composed once at the entry point: its options and the service as the host's one hosted service.</summary>
internal static class NetbackServices
{
    public static IServiceCollection AddNetback(this IServiceCollection services, NetbackOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<NetbackService>();
        services.AddHostedService(sp => sp.GetRequiredService<NetbackService>());
        return services;
    }
}
