using Disagg.Control;
using Disagg.Control.Messages;
using Disagg.Toolstack.Daemon;
using Disagg.Toolstack.Daemon.Consoles;
using Disagg.Toolstack.Daemon.Guests;
using Disagg.Toolstack.Daemon.Save;
using Disagg.Toolstack.Protocol;
using Microsoft.Extensions.Hosting;

namespace Disagg.Toolstack.Host;

/// <summary>
/// What a CLI request reaches in the daemon of one host (one state dir): the kernel, the service
/// domains, the consoles and the guests, each a part the generic host composed and runs
/// (<see cref="DaemonHost"/>). The parts that need the kernel refuse plainly once it died.
/// </summary>
internal sealed class HostDaemon(
    StateDir state,
    DaemonLog log,
    KernelLink kernel,
    ServiceDomains services,
    ConsoleHub consoles,
    GuestRegistry registry,
    GuestDomains guests,
    GuestTuning tuning,
    DomainTable table,
    GuestDevices devices,
    GuestSaves saves,
    Migration.MigrationSource migrations,
    IHostApplicationLifetime lifetime)
{
    private readonly long _startedMs = Environment.TickCount64;

    public StateDir State => state;

    public DaemonLog Log => log;

    public ServiceDomains Services => services;

    public ConsoleHub Consoles => consoles;

    public KernelClient Kernel => kernel.Client;

    /// <summary>Guests by name or id (resolving needs the kernel, so it refuses once the kernel died).</summary>
    public GuestRegistry Registry => Alive(registry);

    public GuestDomains Guests => Alive(guests);

    public GuestTuning Tuning => Alive(tuning);

    public DomainTable Table => Alive(table);

    public GuestDevices Devices => Alive(devices);

    /// <summary>save and restore (Daemon/Save).</summary>
    public GuestSaves Saves => Alive(saves);
    public Migration.MigrationSource Migrations => Alive(migrations);

    /// <summary>`host down`, SIGTERM, SIGINT: the host stops its parts in the reverse order they started, guests first.</summary>
    public void RequestDown(string reason)
    {
        log.HostGoingDown(reason);
        lifetime.StopApplication();
    }

    public HostStatusReply Status() => new(
        state.Path,
        Environment.ProcessId,
        kernel.Pid,
        kernel.StateText,
        state.KernelSocket,
        state.DaemonSocket,
        Environment.TickCount64 - _startedMs,
        registry.Count,
        services.List());

    public async Task<InfoReply> InfoAsync(CancellationToken cancel)
    {
        var info = await Kernel.CallAsync<HostInfo>(new GetHostInfo(), cancel).ConfigureAwait(false);
        var sockets = new Dictionary<string, string> { ["toolstack"] = state.DaemonSocket, ["kernel"] = state.KernelSocket };
        foreach (var (name, path) in Services.Sockets)
        {
            sockets[name] = path;
        }

        return new InfoReply(
            info.Pcpus,
            info.TotalMemoryKiB / 1024,
            info.FreeMemoryKiB / 1024,
            info.KernelVersion,
            info.XenInterface,
            typeof(HostDaemon).Assembly.GetName().Version?.ToString() ?? "0",
            info.UptimeNs / 1_000_000,
            state.Path,
            sockets);
    }

    private T Alive<T>(T part)
    {
        _ = kernel.Client; // throws "the kernel died ..." or "still starting"
        return part;
    }
}
