using Disagg.Kernel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Disagg.Kernel.Control;

/// <summary>
/// `disagg-kernel serve`: the long-running hypervisor, composed with the generic host (the
/// <see cref="Hypervisor"/> a singleton, the <see cref="KernelServer"/> a hosted service). Prints
/// one line when the control socket accepts — "ready socket=PATH token=TOKEN" — for the toolstack
/// that started it, then serves until SIGTERM or SIGINT (the host's console lifetime), when it
/// closes every session, destroys every domain and exits 0.
/// </summary>
internal static class KernelService
{
    public static int Run(ServeOptions options)
    {
        using var host = Build(options);
        host.Start();
        var server = host.Services.GetRequiredService<KernelServer>();
        Console.Out.WriteLine($"ready socket={server.SocketPath} token={server.ControlToken}");
        Console.Out.Flush();
        host.WaitForShutdown();
        return 0;
    }

    /// <summary>The kernel's object graph, the one place it is built.</summary>
    private static IHost Build(ServeOptions options)
    {
        // The empty builder reads no configuration and adds no logging provider: stdout carries the
        // ready line the toolstack waits for, and the kernel reports through its message log.
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { ApplicationName = "disagg-kernel" });
        builder.Services.Configure<ConsoleLifetimeOptions>(o => o.SuppressStatusMessages = true);
        builder.Services.AddSingleton(options);
        builder.Services.AddSingleton(_ => new Hypervisor(options.Pcpus, options.MemoryBytes) { Engine = options.Engine, HostIsa = options.Arch });
        builder.Services.AddSingleton<KernelServer>();
        builder.Services.AddHostedService(p => p.GetRequiredService<KernelServer>());
        return builder.Build();
    }
}
