using Disagg.Control.Messages;
using Disagg.Service.Faults;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Disagg.Service.Hosting;

/// <summary>
/// The shape of every service domain's process (xenstored, netback, blkback): the generic host with the service as a hosted
/// service, logging configured here once (one line per event on stderr; stdout carries only the "ready" line the
/// supervisor waits for), systemd integration (a unit's notify and journald format when started by systemd, the
/// console lifetime's SIGTERM/SIGINT otherwise), and the exit code the service chose for the supervisor.
/// </summary>
public static class ServiceHost
{
    /// <summary>
    /// The empty builder: no configuration files, environment or command-line providers to read at start (a
    /// restart must stay within ~50 ms); a service's settings are its command line.
    /// </summary>
    public static HostApplicationBuilder CreateBuilder(string programName)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = programName });
        builder.Logging
            .SetMinimumLevel(LogLevel.Information)
            .AddSimpleConsole(o => o.SingleLine = true)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Services.AddSystemd();
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        if (Environment.GetEnvironmentVariable(SandboxProbe.EnvironmentVariable) is { Length: > 0 } probe)
        {
            builder.Services.AddHostedService(_ => new SandboxProbe(probe)); // a test host's services only
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
        builder.Services.AddHostedService(sp => new FaultSocket(faults, kinds, sp.GetRequiredService<ILogger<FaultSocket>>()));
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
