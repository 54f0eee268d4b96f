using Microsoft.Extensions.DependencyInjection;

namespace Disagg.Blkback.Hosting;

/// <summary>The object graph of one blkback process, composed once at the entry point: its options and the service as the host's one hosted service.</summary>
internal static class BlkbackServices
{
    public static IServiceCollection AddBlkback(this IServiceCollection services, BlkbackOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<BlkbackService>();
        services.AddHostedService(sp => sp.GetRequiredService<BlkbackService>());
        return services;
    }
}
