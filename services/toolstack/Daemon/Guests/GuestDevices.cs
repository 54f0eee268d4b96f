using System.Globalization;
using Disagg.Abi.Io;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Protocol;
using Disagg.Toolstack.Xenstore;
using Disagg.Xenbus;

namespace Disagg.Toolstack.Daemon.Guests;

/// <summary>
/// Hot plug, as xl's block-attach/-detach/-list and network-attach/-detach/-list: a device is its
/// frontend and backend directories in xenstore (written in one transaction, while no create or
/// destroy runs); the backend service (blkback, netback) picks it up from there. Attach waits for the
/// backend to take the device (InitWait) and reports its refusal; detach asks it to close and waits
/// for Closed before the directories go. Hot-plugged devices join the guest's config, so a restart
/// (on_reboot = "restart") brings them back, as libxl keeps them.
/// </summary>
internal sealed class GuestDevices(GuestRegistry guests, XenstoreDomains xenstore)
{
    /// <summary>How long an attach waits for the backend to take the device (open the image, create the vif).</summary>
    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(10);

    public Task<string> AttachAsync(DeviceAttachRequest r, CancellationToken cancel) => Guard(r.Domain, () => AttachCoreAsync(r, cancel));

    public Task<string> DetachAsync(DeviceDetachRequest r, CancellationToken cancel) => Guard(r.Domain, () => DetachCoreAsync(r, cancel));

    public Task<DeviceListReply> ListAsync(DeviceListRequest r, CancellationToken cancel) => Guard(r.Domain, () => ListCoreAsync(r, cancel));

    /// <summary>xenstored failing mid-operation (it died, it refused) is reported against the domain, as every device error is.</summary>
    private static async Task<T> Guard<T>(string domain, Func<Task<T>> operation)
    {
        try
        {
            return await operation().ConfigureAwait(false);
        }
        catch (Exception e) when (e is XenstoreException or IOException or System.Net.Sockets.SocketException)
        {
            throw new DomainOperationException(domain, $"xenstore: {e.Message}");
        }
    }

    private async Task<string> AttachCoreAsync(DeviceAttachRequest r, CancellationToken cancel)
    {
        var kind = Kind(r.Kind);
        var at = new ConfigPosition(kind == "vbd" ? "block-attach" : "network-attach", 1, 1);
        DiskSpec? disk = null;
        VifSpec? vif = null;
        try
        {
            if (r.Kind == DeviceKind.Vbd)
            {
                disk = DiskSpec.Parse(r.Spec, at);
            }
            else
            {
                vif = VifSpec.Parse(r.Spec, at);
            }
        }
        catch (ConfigException e)
        {
            throw new DomainOperationException(r.Domain, e.Reason);
        }

        if (disk is not null && !File.Exists(disk.Target))
        {
            throw new DomainOperationException(r.Domain, $"disk target '{disk.Target}' does not exist");
        }

        RequireXenstore(r.Domain);
        var (name, device) = await guests.ExclusiveAsync(async () =>
        {
            var (id, guest) = await guests.ResolveAsync(r.Domain, cancel).ConfigureAwait(false);
            var name = guest?.Name ?? r.Domain;
            if (guest?.Config.Type == DomainType.Hvm)
            {
                // Its devices are qemu-dm's, fixed when it starts (xl's HVM hot-plug goes through QEMU's monitor, which qemu-dm has not).
                throw new DomainOperationException(name, $"an hvm domain's {(kind == "vbd" ? "disks" : "NICs")} are its device model's, given at create; hot-plug is not supported");
            }

            var backend = xenstore.BackendDomain(kind, disk is not null ? disk.Backend : vif!.Backend);
            await using var xs = await Connect(name, cancel).ConfigureAwait(false);
            var existing = await XenstoreDevices.FindAsync(xs, id, kind, cancel).ConfigureAwait(false);
            List<XenstoreEntry> entries;
            if (disk is not null)
            {
                var devid = DeviceEntries.VbdDevid(disk.Vdev);
                if (existing.Any(d => d.Devid == devid))
                {
                    throw new DomainOperationException(name, $"{disk.Vdev} is already attached (vbd {devid})");
                }

                entries = DeviceEntries.Vbd(id, backend, disk);
                if (guest is not null)
                {
                    guest.Config = guest.Config with { Disks = [.. guest.Config.Disks, disk] };
                }
            }
            else
            {
                // xl takes the next free index; without mac= one is made from the uuid and index, then kept in the config.
                var handle = existing.Count == 0 ? 0 : existing.Max(d => d.Devid) + 1;
                var mac = vif!.Mac ?? DeviceEntries.Mac(guest?.Uuid ?? Guid.NewGuid().ToString(), handle);
                foreach (var d in existing)
                {
                    if (await XenstoreDevices.ReadAsync(xs, d.FrontendPath + "/mac", cancel).ConfigureAwait(false) == mac)
                    {
                        throw new DomainOperationException(name, $"vif {d.Devid} already has mac {mac}");
                    }
                }

                vif = vif with { Mac = mac };
                entries = DeviceEntries.Vif(id, backend, handle, vif, mac);
                if (guest is not null)
                {
                    guest.Config = guest.Config with { Vifs = [.. guest.Config.Vifs, vif] };
                }
            }

            await Commit(name, XenstoreTransaction.RunAsync(xs, tx => XenstoreTransaction.WriteAsync(xs, tx, entries, cancel), cancel)).ConfigureAwait(false);
            var found = await XenstoreDevices.FindAsync(xs, id, kind, cancel).ConfigureAwait(false);
            return (name, found.Single(d => d.FrontendPath == entries[0].Path));
        }, cancel).ConfigureAwait(false);

        var what = disk is not null ? $"{disk.Vdev} (vbd {device.Devid})" : $"vif {device.Devid} ({vif!.Mac}, bridge {vif.Bridge})";
        if (device.BackendDomain == 0)
        {
            return $"domain '{name}': {what} attached; no {(kind == "vbd" ? "blkback" : "netback")} runs, so nothing serves it yet";
        }

        await using (var xs = await Connect(name, cancel).ConfigureAwait(false))
        {
            var late = await XenstoreDevices.WaitAsync(xs, [device.BackendPath], s => s is XenbusState.InitWait or XenbusState.Connected or XenbusState.Closed, AttachTimeout, cancel).ConfigureAwait(false);
            var state = await XenstoreDevices.StateAsync(xs, device.BackendPath, cancel).ConfigureAwait(false);
            if (late.Count == 0 && state is XenbusState.InitWait or XenbusState.Connected)
            {
                return $"domain '{name}': {what} attached; backend domain {device.BackendDomain} is {state}";
            }

            var error = await XenstoreDevices.ErrorAsync(xs, device.BackendPath, cancel).ConfigureAwait(false);
            await XenstoreDevices.RemoveAsync(xs, [device], cancel).ConfigureAwait(false);

            // A backend still working through the watch events of our write may write its error and state once more
            // after the removal, which makes the directory again: remove it again until it stays gone.
            for (int quiet = 0, rounds = 0; quiet < 5 && rounds < 30; rounds++)
            {
                await Task.Delay(100, cancel).ConfigureAwait(false);
                quiet++;
                if (await XenstoreDevices.ReadAsync(xs, device.BackendPath, cancel).ConfigureAwait(false) is not null)
                {
                    await XenstoreDevices.RemoveAsync(xs, [device], cancel).ConfigureAwait(false);
                    quiet = 0;
                }
            }

            await ForgetAsync(r.Domain, disk, vif, cancel).ConfigureAwait(false);
            var why = late.Count > 0 ? $"did not take it within {AttachTimeout.TotalSeconds:0} s" : "refused it";
            throw new DomainOperationException(name, $"{what}: the backend (domain {device.BackendDomain}) {why}{(error is null ? "" : ": " + error)}; nothing attached");
        }
    }

    private async Task<string> DetachCoreAsync(DeviceDetachRequest r, CancellationToken cancel)
    {
        var kind = Kind(r.Kind);
        RequireXenstore(r.Domain);
        var (id, guest) = await guests.ResolveAsync(r.Domain, cancel).ConfigureAwait(false);
        var name = guest?.Name ?? r.Domain;
        await using var xs = await Connect(name, cancel).ConfigureAwait(false);
        var device = await FindAsync(xs, name, id, r.Kind, r.Device, cancel).ConfigureAwait(false);
        var what = r.Kind == DeviceKind.Vbd ? $"{r.Device} (vbd {device.Devid})" : $"vif {device.Devid}";
        var mac = r.Kind == DeviceKind.Vif ? await XenstoreDevices.ReadAsync(xs, device.FrontendPath + "/mac", cancel).ConfigureAwait(false) : null;
        var vdev = r.Kind == DeviceKind.Vbd ? await XenstoreDevices.ReadAsync(xs, device.BackendPath + "/dev", cancel).ConfigureAwait(false) : null;
        var open = await XenstoreDevices.CloseAsync(xs, [device], TimeSpan.FromSeconds(r.TimeoutSeconds), cancel).ConfigureAwait(false);
        if (open.Count > 0 && !r.Force)
        {
            var state = await XenstoreDevices.StateAsync(xs, device.BackendPath, cancel).ConfigureAwait(false);
            throw new DomainOperationException(name, $"{what}: the backend (domain {device.BackendDomain}) did not close within {r.TimeoutSeconds} s (state {state}); it is left Closing, `{(kind == "vbd" ? "block" : "network")}-detach --force` removes it");
        }

        await guests.ExclusiveAsync(() => XenstoreDevices.RemoveAsync(xs, [device], cancel), cancel).ConfigureAwait(false);
        if (guest is not null)
        {
            guest.Config = r.Kind == DeviceKind.Vbd
                ? guest.Config with { Disks = [.. guest.Config.Disks.Where(d => d.Vdev != vdev)] }
                : guest.Config with { Vifs = [.. guest.Config.Vifs.Where(v => v.Mac != mac)] };
        }

        return $"domain '{name}': {what} detached{(open.Count > 0 ? " (forced: the backend had not closed)" : "")}";
    }

    private async Task<DeviceListReply> ListCoreAsync(DeviceListRequest r, CancellationToken cancel)
    {
        var kind = Kind(r.Kind);
        RequireXenstore(r.Domain);
        var (id, guest) = await guests.ResolveAsync(r.Domain, cancel).ConfigureAwait(false);
        await using var xs = await Connect(guest?.Name ?? r.Domain, cancel).ConfigureAwait(false);
        var rows = new List<DeviceRow>();
        foreach (var d in (await XenstoreDevices.FindAsync(xs, id, kind, cancel).ConfigureAwait(false)).OrderBy(d => d.Devid))
        {
            async Task<string?> Read(string path) => await XenstoreDevices.ReadAsync(xs, path, cancel).ConfigureAwait(false);
            var ring = r.Kind == DeviceKind.Vbd
                ? await Read(d.FrontendPath + "/ring-ref") ?? "-1"
                : $"{await Read(d.FrontendPath + "/tx-ring-ref") ?? "-1"}/{await Read(d.FrontendPath + "/rx-ring-ref") ?? "-1"}";
            rows.Add(new DeviceRow(
                d.Devid,
                (r.Kind == DeviceKind.Vbd ? await Read(d.BackendPath + "/dev") : await Read(d.FrontendPath + "/mac")) ?? "?",
                d.BackendDomain,
                int.TryParse(await Read(d.BackendPath + "/handle"), NumberStyles.None, CultureInfo.InvariantCulture, out var h) ? h : d.Devid,
                (int)await XenstoreDevices.StateAsync(xs, d.FrontendPath, cancel).ConfigureAwait(false),
                (int)await XenstoreDevices.StateAsync(xs, d.BackendPath, cancel).ConfigureAwait(false),
                int.TryParse(await Read(d.FrontendPath + "/event-channel"), NumberStyles.None, CultureInfo.InvariantCulture, out var e) ? e : -1,
                ring,
                d.BackendPath,
                await XenstoreDevices.ErrorAsync(xs, d.BackendPath, cancel).ConfigureAwait(false)));
        }

        return new DeviceListReply(rows);
    }

    private static string Kind(DeviceKind kind) => kind == DeviceKind.Vbd ? "vbd" : "vif";

    private static async Task Commit(string domain, Task<bool> transaction)
    {
        if (!await transaction.ConfigureAwait(false))
        {
            throw new DomainOperationException(domain, "xenstore: the transaction kept conflicting with other writers; try again");
        }
    }

    /// <summary>The device a detach names: a vdev (xvdb) or its number for a vbd; an index or a MAC for a vif.</summary>
    private static async Task<DeviceDirs> FindAsync(XenstoreClient xs, string name, int id, DeviceKind kind, string device, CancellationToken cancel)
    {
        var all = await XenstoreDevices.FindAsync(xs, id, Kind(kind), cancel).ConfigureAwait(false);
        DeviceDirs? match = null;
        if (int.TryParse(device, NumberStyles.None, CultureInfo.InvariantCulture, out var n))
        {
            match = all.FirstOrDefault(d => d.Devid == n);
        }
        else if (kind == DeviceKind.Vbd)
        {
            match = all.FirstOrDefault(d => d.Devid == DeviceEntries.VbdDevid(device));
        }
        else
        {
            foreach (var d in all)
            {
                if (string.Equals(await XenstoreDevices.ReadAsync(xs, d.FrontendPath + "/mac", cancel).ConfigureAwait(false), device, StringComparison.OrdinalIgnoreCase))
                {
                    match = d;
                }
            }
        }

        return match ?? throw new DomainOperationException(name, $"has no {(kind == DeviceKind.Vbd ? "vbd" : "vif")} '{device}' (see `disagg {(kind == DeviceKind.Vbd ? "block" : "network")}-list {name}`)");
    }

    private void RequireXenstore(string domain)
    {
        if (!xenstore.Available)
        {
            throw new DomainOperationException(domain, "xenstored is not running, and devices live in xenstore (see `disagg service list`)");
        }
    }

    private async Task<XenstoreClient> Connect(string domain, CancellationToken cancel)
    {
        try
        {
            return await xenstore.ConnectAsync(cancel).ConfigureAwait(false);
        }
        catch (System.Net.Sockets.SocketException e)
        {
            throw new DomainOperationException(domain, $"cannot reach xenstored at {xenstore.SocketPath}: {e.Message}");
        }
    }

    /// <summary>An attach the backend refused: the device leaves the guest's config again.</summary>
    private async Task ForgetAsync(string domain, DiskSpec? disk, VifSpec? vif, CancellationToken cancel)
    {
        var (_, guest) = await guests.ResolveAsync(domain, cancel).ConfigureAwait(false);
        if (guest is not null)
        {
            guest.Config = disk is not null
                ? guest.Config with { Disks = [.. guest.Config.Disks.Where(d => d != disk)] }
                : guest.Config with { Vifs = [.. guest.Config.Vifs.Where(v => v != vif)] };
        }
    }
}
