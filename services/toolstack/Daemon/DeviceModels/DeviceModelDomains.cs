using Disagg.Control.Messages;
using Disagg.DomainImage;
using ServiceAction = Disagg.Toolstack.Protocol.ServiceAction;
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

    /// <summary>
    /// Starts the domain's qemu-dm and waits until it serves; on failure nothing of it is left. With
    /// <paramref name="restored"/> (a restore: the saved device model's state files) the files are put where the
    /// new process looks for its predecessor's, under the new domain id: it takes the devices back as after a
    /// restart (docs/SAVE-RESTORE.md, "HVM").
    /// </summary>
    /// <param name="afterNamed">Runs once it is named the domain's device model, before its process starts (an incoming migration resumes the guest there).</param>
    public async Task StartAsync(Guest guest, int domainId, CancellationToken cancel, DeviceModelRecord? restored = null, Func<Task>? afterNamed = null)
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

        if (restored is not null)
        {
            DeviceModelStateFiles.Write(restored, dir, domainId);
        }

        var socket = state.ServiceSocket(name);
        var args = QemuDmArguments.For(guest.Config, guest.Uuid, domainId, dir, socket, state.ServiceSocket("xenstored"), v => services.BackendDomain("vif", v.Backend));
        var service = await services.LaunchForGuestAsync(
            name,
            program,
            args,
            [.. guest.Config.Disks.Select(d => (Path.GetFullPath(d.Target), d.ReadOnly, d.Format == Config.DiskFormat.Qcow2))],
            async dm =>
            {
                await kernel.Client.CallAsync<OkReply>(new SetDeviceModel(domainId, dm, guest.Config.DeviceModelTimeoutSeconds * 1000), cancel).ConfigureAwait(false);
                if (afterNamed is not null)
                {
                    await afterNamed().ConfigureAwait(false);
                }
            },
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

    /// <summary>
    /// For a save: stops the guest's qemu-dm where it is (SIGSTOP, and waits until the process is stopped) and
    /// returns its state files as the image's device model record. Any instant is a good one: the files are
    /// written (temp + rename) before a change is visible to the guest, which is what makes a SIGKILL a pause, so
    /// they match the guest memory the kernel captures next (it holds the device model's copies meanwhile).
    /// <see cref="Thaw"/> lets it go on (save -c / -p, or a failed save); a destroy retires it.
    /// </summary>
    public async Task<DeviceModelRecord> FreezeAsync(Guest guest, int domainId, CancellationToken cancel)
    {
        if (guest.DeviceModel is not { } name || services.Pid(name) is not { } pid)
        {
            throw new DomainOperationException(guest.Name, "its device model is not running (restarting?): try the save again");
        }

        services.Act(name, ServiceAction.Stop);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        while (!Stopped(pid))
        {
            if (System.Diagnostics.Stopwatch.GetElapsedTime(started) > TimeSpan.FromSeconds(5))
            {
                Thaw(guest);
                throw new DomainOperationException(guest.Name, $"its device model {name} (pid {pid}) did not stop within 5 s");
            }

            await Task.Delay(1, cancel).ConfigureAwait(false);
        }

        return DeviceModelStateFiles.Read(state.Combine(name), domainId);
    }

    /// <summary>Lets a frozen qemu-dm go on (SIGCONT).</summary>
    public void Thaw(Guest guest)
    {
        if (guest.DeviceModel is { } name)
        {
            services.Act(name, ServiceAction.Continue);
        }
    }

    /// <summary>/proc/PID/stat's state after the command name: T (stopped) or t (traced).</summary>
    private static bool Stopped(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var end = stat.LastIndexOf(')');
            return end > 0 && end + 2 < stat.Length && stat[end + 2] is 'T' or 't';
        }
        catch (IOException)
        {
            return true; // gone: nothing of it runs
        }
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
