using Disagg.Control.Messages;
using Disagg.Service.Faults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Disagg.Service.Hosting;

/// <summary>
/// The shape of every service domain's process (xenstored, netback, blkback): the generic host with the service as a hosted
/// service, logging configured here once (one line per event on stderr; stdout carries only the "ready" line the
/// supervisor waits for), systemd integration (a unit's notify when started by systemd, the console lifetime's
/// SIGTERM/SIGINT otherwise), and the exit code the service chose for the supervisor.
/// <para>
/// Cheap to start, because a restart is a start (issue 17: restart within 50 ms). Under NativeAOT the container builds
/// every closed generic type it resolves from an open registration (<c>IOptions&lt;T&gt;</c> through an options factory,
/// its caches and four enumerables; <c>ILogger&lt;T&gt;</c>) through the runtime type loader, at every start: that was
/// ~40 % of a service's start-up CPU (docs/PERFORMANCE.md). So the host's collaborators are given as closed instances,
/// registered after the builder's defaults (the last registration wins): the logger factory over
/// <see cref="StderrLineLogger"/> (no console provider, formatters, configuration binding or writer thread), and the
/// options the host and its lifetime read as values.
/// </para>
/// </summary>
public static class ServiceHost
{
    /// <summary>
    /// The empty builder: no configuration files, environment or command-line providers to read at start; a service's
    /// settings are its command line.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string programName)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = programName });
        var services = builder.Services;
        var loggers = new LoggerFactory([new StderrLineLogger(LogLevel.Information)]); // a factory over one provider: no filter options to build
        services.AddSingleton<ILoggerFactory>(loggers);
        services.AddSingleton<ILogger<ApplicationLifetime>>(new Logger<ApplicationLifetime>(loggers));
        services.AddSingleton(Options.Create(new HostOptions()));
        services.AddSingleton(Options.Create(new ConsoleLifetimeOptions { SuppressStatusMessages = true }));
        services.AddSystemd();
        if (Environment.GetEnvironmentVariable(SandboxProbe.EnvironmentVariable) is { Length: > 0 } probe)
        {
            services.AddHostedService(_ => new SandboxProbe(probe)); // a test host's services only
        }

        return builder;
    }

    /// <summary>
    /// When the host daemon enabled fault injection (DISAGG_FAULT_SOCKET, `disagg host up --fault-injection`): registers
    /// the process's <see cref="ChannelFaults"/> and the <see cref="FaultSocket"/> that arms them, for the kinds this
    /// service can inject (a real SIGSEGV always). Returns null, registering nothing, in a normal host.
    /// </summary>
    public static ChannelFaults? AddChannelFaults(HostApplicationBuilder builder, params ChannelFaultKind[] supported)
    {
        if (ChannelFaults.FromEnvironment() is not { } faults)
        {
            return null;
        }

        ChannelFaultKind[] kinds = [.. supported.Append(ChannelFaultKind.Segv).Distinct()];
        builder.Services.AddSingleton(faults);
        builder.Services.AddHostedService(sp => new FaultSocket(faults, kinds, new Logger<FaultSocket>(sp.GetRequiredService<ILoggerFactory>())));
        return faults;
    }

    /// <summary>Runs the host until it stops, and returns the exit code <typeparamref name="TService"/> chose.</summary>
    public static int Run<TService>(HostApplicationBuilder builder)
        where TService : class, IServiceExit
    {
        var host = builder.Build();
        var service = host.Services.GetRequiredService<TService>(); // before Run, which disposes the host and its container (async: our services' channels)
        host.Run();
        return service.ExitCode;
    }
}
