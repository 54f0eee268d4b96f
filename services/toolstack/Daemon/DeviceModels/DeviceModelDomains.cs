using Disagg.Control.Messages;
using Disagg.Toolstack.Daemon.Consoles;
using Disagg.Toolstack.Daemon.Guests;
using Disagg.Toolstack.Host;
using Disagg.Toolstack.Supervision;
using Disagg.Toolstack.Xenstore;

namespace Disagg.Toolstack.Daemon.DeviceModels;

/// <summary>
/// Each HVM guest's device model (Xen's libxl__spawn_local_dm, with qemu-dm as a service domain of its own):
/// `qemu-dm-DOMID`, registered with the kernel under its own domain id, named the domain's device model
/// (SetDeviceModel) before it starts, supervised and restarted like netback or blkback, its UART the guest's
/// console. One per domain id: a rebooted guest is a new domain with a new qemu-dm; the old one goes with
/// its domain. Callers hold the guest registry's gate.
/// </summary>
internal sealed class DeviceModelDomains(ServiceDomains services, StateDir state, KernelLink kernel, ConsoleHub consoles, XenstoreDomains xenstore)
{
    /// <summary>A device model that does not serve in this long fails the create (its log says why).</summary>
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);

    public static string NameFor(int domainId) => $"qemu-dm-{domainId}";

    /// <summary>Starts the domain's qemu-dm and waits until it serves; on failure nothing of it is left.</summary>
    public async Task StartAsync(Guest guest, int domainId, CancellationToken cancel)
    {
        var program = Path.Combine(AppContext.BaseDirectory, "disagg-qemu-dm");
        if (!File.Exists(program))
        {
            throw new DomainOperationException(guest.Name, $"type 'hvm' needs its device model, {program}, which does not exist (build it first: make build)");
        }

        var name = NameFor(domainId);
        var dir = state.Combine(name);
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true); // a state file of an earlier domain with this id is not this one's device state
        }

        var socket = state.ServiceSocket(name);
        var args = QemuDmArguments.For(guest.Config, guest.Uuid, domainId, dir, socket, state.ServiceSocket("xenstored"), v => services.BackendDomain("vif", v.Backend));
        var service = await services.LaunchForGuestAsync(
            name,
            program,
            args,
            [.. guest.Config.Disks.Select(d => (Path.GetFullPath(d.Target), d.ReadOnly, d.Format == Config.DiskFormat.Qcow2))],
            dm => kernel.Client.CallAsync<OkReply>(new SetDeviceModel(domainId, dm), cancel),
            cancel).ConfigureAwait(false);
        guest.DeviceModel = name;
        try
        {
            await service.Ready.WaitAsync(ReadyTimeout, cancel).ConfigureAwait(false);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            var why = service.Status().LastExit ?? "no ready line";
            await StopAsync(guest).ConfigureAwait(false);
            throw new DomainOperationException(guest.Name, $"its device model {name} did not serve within {ReadyTimeout.TotalSeconds:0} s ({why}; see {state.ServiceLog(name)})");
        }

        consoles.AttachUart(domainId, socket);
    }

    /// <summary>Ends the guest's qemu-dm for good (before its domain is destroyed, so the supervisor does not start another) and removes its state.</summary>
    public async Task StopAsync(Guest guest)
    {
        if (guest.DeviceModel is not { } name)
        {
            return;
        }

        guest.DeviceModel = null;
        if (await services.RetireAsync(name).ConfigureAwait(false) is { } domain)
        {
            // Its NICs are vifs of its own domain on netback: with the process gone, nobody else ends them.
            await xenstore.RemoveAsync(domain, name, uuid: null, CancellationToken.None).ConfigureAwait(false);
        }

        TryDelete(() => Directory.Delete(state.Combine(name), recursive: true));
        TryDelete(() => File.Delete(state.ServiceSocket(name)));
    }

    private static void TryDelete(Action delete)
    {
        try
        {
            delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // already gone, or left for the operator: it names no running thing
        }
    }
}
