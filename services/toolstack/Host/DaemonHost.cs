using System.Diagnostics.CodeAnalysis;
using Disagg.Toolstack.Daemon;
using Disagg.Toolstack.Daemon.Consoles;
using Disagg.Toolstack.Daemon.Guests;
using Disagg.Toolstack.Daemon.Save;
using Disagg.Toolstack.Xenstore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;

namespace Disagg.Toolstack.Host;

/// <summary>
/// The host daemon's composition, the one place its object graph is built: the generic host runs
/// the parts as hosted services in the order a host comes up (state dir claimed, kernel, consoles,
/// service domains, guests, CLI socket) and stops them in reverse, so guests go before the
/// services and the kernel they need, and the CLI socket closes last.
/// </summary>
internal static class DaemonHost
{
    public static IHost Build(StateDir state, HostConfig config)
    {
        // The empty builder reads no appsettings, environment or command line: the host's settings
        // are host.conf and the flags, and start-up stays within the `host up` figure.
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "disagg" });
        builder.Logging.AddConsole(o => o.FormatterName = DaemonLogFormatter.FormatterName);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<ConsoleFormatter, DaemonLogFormatter>());
        builder.Services.AddSystemd();
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);

        // Each part has its own deadlines (guests' shutdown timeout, a service's SIGTERM grace): the host waits for them all.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = Timeout.InfiniteTimeSpan);

        var services = builder.Services;
        services.AddSingleton(state);
        services.AddSingleton(config);
        services.AddSingleton(p => new DaemonLog(p.GetRequiredService<ILoggerFactory>().CreateLogger("disagg")));
        services.AddSingleton(p =>
        {
            var supervisor = p.GetRequiredService<ServiceDomains>();
            return new XenstoreDomains(state.ServiceSocket("xenstored"), () => supervisor.XenstoreDomain != 0, (kind, backend) => supervisor.BackendDomain(kind, backend), p.GetRequiredService<DaemonLog>());
        });
        services.AddSingleton<GuestRegistry>();
        services.AddSingleton<Daemon.DeviceModels.DeviceModelDomains>();
        services.AddSingleton<GuestTuning>();
        services.AddSingleton<DomainTable>();
        services.AddSingleton<GuestDevices>();
        services.AddSingleton<GuestSuspend>();
        services.AddSingleton<GuestStates>();
        services.AddSingleton<GuestSaves>();
        services.AddSingleton(p => new Migration.MigrationLog(p.GetRequiredService<ILoggerFactory>().CreateLogger("disagg")));
        services.AddSingleton<Migration.MigrationSource>();
        services.AddSingleton<Migration.MigrationTarget>();
        services.AddSingleton<HostDaemon>();

        // Hosted services start in this order and stop in the reverse one.
        AddHosted<HostClaim>(services);
        AddHosted<KernelLink>(services);
        AddHosted<ConsoleHub>(services);
        AddHosted<ServiceDomains>(services);
        AddHosted<GuestDomains>(services);
        AddHosted<Migration.MigrationListener>(services);
        AddHosted<HostSignals>(services);
        AddHosted<DaemonServer>(services);
        AddHosted<Http.DashboardServer>(services);
        return builder.Build();
    }

    /// <summary>One instance serves both as a hosted service and as a part others are given.</summary>
    private static void AddHosted<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicConstructors)] T>(IServiceCollection services)
        where T : class, IHostedService
    {
        services.AddSingleton<T>();
        services.AddHostedService(p => p.GetRequiredService<T>());
    }
}
