using System.Globalization;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Daemon;
using Disagg.Toolstack.Daemon.Guests;
using Disagg.Xenbus;

namespace Disagg.Toolstack.Xenstore;

/// <summary>
/// A guest's xenstore entries, written as xl (libxl) writes them, when xenstored runs: on create
/// /local/domain/N (name, domid, vm, memory/{target,static-max}, console/{port,ring-ref,type,limit},
/// store/{port,ring-ref}, cpu/K/availability), /vm/UUID, and the frontend and backend directories of
/// each vif and disk of its config in state 1 (Initialising), the backends under the domain that serves
/// them (netback, blkback; the control domain when that service does not run); the domain reads its
/// directory and owns its writable parts (device, control, data, ...). Then XS_INTRODUCE(N, store
/// frame, store port). On destroy: each backend asked to close, XS_RELEASE, every entry removed.
/// Each operation is one transaction on a fresh connection (xenstored may have restarted); a failure
/// is logged and the domain goes on without.
/// </summary>
internal sealed class XenstoreDomains(string socketPath, Func<bool> running, Func<string, string?, int> backendDomain, DaemonLog log)
{
    /// <summary>LIBXL_XENCONSOLE_LIMIT.</summary>
    private const string ConsoleLimit = "1048576";

    /// <summary>How long a destroyed domain's connected backends get to say Closed before their directories go anyway.</summary>
    private static readonly TimeSpan CloseTimeout = TimeSpan.FromSeconds(1);

    private static readonly string[] DomainOwned = ["device", "control", "data", "drivers", "attr", "error"];

    private static readonly string[] DeviceKinds = ["vif", "vbd"];

    public string SocketPath => socketPath;

    public bool Available => running() && File.Exists(socketPath);

    /// <summary>The domain whose backends serve this kind of device now ("vif", "vbd"): the one xl's backend= names, else the host's own.</summary>
    public int BackendDomain(string kind, string? backend = null) => backendDomain(kind, backend);

    public static string DomainPath(int domid) => $"/local/domain/{domid}";

    /// <summary>Every entry of a new domain, its devices' directories included.</summary>
    /// <param name="announce">The guest arrived from elsewhere (restored, migrated): its vifs announce its MACs on connecting.</param>
    public static List<XenstoreEntry> Entries(int domid, Guest guest, int consolePort, ulong consoleFrame, int storePort, ulong storeFrame, Func<string, string?, int> backendDomain, bool announce = false)
    {
        var c = guest.Config;
        var dom = DomainPath(domid);
        string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        string[] readOnly = [$"n0", $"r{domid}"];
        var e = new List<XenstoreEntry>
        {
            new(dom, null, readOnly),
            new($"{dom}/name", c.Name),
            new($"{dom}/domid", N(domid)),
            new($"{dom}/vm", $"/vm/{guest.Uuid}"),
            new($"{dom}/memory/static-max", N(c.MaxMemMiB * 1024L)),
            new($"{dom}/memory/target", N(c.MemoryMiB * 1024L)),
            new($"{dom}/console/port", N(consolePort)),
            new($"{dom}/console/ring-ref", N((long)consoleFrame)),
            new($"{dom}/console/type", "xenconsoled"),
            new($"{dom}/console/limit", ConsoleLimit),
            new($"{dom}/store/port", N(storePort)),
            new($"{dom}/store/ring-ref", N((long)storeFrame)),
        };
        for (var v = 0; v < c.MaxVcpus; v++)
        {
            e.Add(new($"{dom}/cpu/{v}/availability", v < c.Vcpus ? "online" : "offline"));
        }

        foreach (var owned in DomainOwned)
        {
            e.Add(new($"{dom}/{owned}", null, [$"n{domid}"]));
        }

        e.Add(new($"/vm/{guest.Uuid}", null, readOnly));
        e.Add(new($"/vm/{guest.Uuid}/name", c.Name));
        e.Add(new($"/vm/{guest.Uuid}/uuid", guest.Uuid));
        if (c.Type == DomainType.Hvm)
        {
            return e; // its disks and NICs are qemu-dm's (its command line), not PV devices for blkback and netback
        }

        for (var i = 0; i < c.Vifs.Count; i++)
        {
            e.AddRange(DeviceEntries.Vif(domid, backendDomain("vif", c.Vifs[i].Backend), i, c.Vifs[i], c.Vifs[i].Mac ?? DeviceEntries.Mac(guest.Uuid, i), announce));
        }

        foreach (var disk in c.Disks)
        {
            e.AddRange(DeviceEntries.Vbd(domid, backendDomain("vbd", disk.Backend), disk));
        }

        return e;
    }

    /// <summary>Writes the new domain's entries and introduces it to xenstored.</summary>
    public async Task CreateAsync(int domid, Guest guest, int consolePort, ulong consoleFrame, int storePort, ulong storeFrame, CancellationToken cancel, bool announce = false)
    {
        if (!Available)
        {
            return;
        }

        var entries = Entries(domid, guest, consolePort, consoleFrame, storePort, storeFrame, backendDomain, announce);
        await RunAsync(guest.Name, "write its entries", xs => Committed(XenstoreTransaction.RunAsync(xs, tx => XenstoreTransaction.WriteAsync(xs, tx, entries, cancel), cancel)), cancel).ConfigureAwait(false);
        await RunAsync(guest.Name, "introduce it", xs => xs.IntroduceAsync(domid, storeFrame, storePort, cancel), cancel).ConfigureAwait(false);
    }

    /// <summary>Backends asked to close (the frontend is going), XS_RELEASE, then every entry of the domain removed, backends last.</summary>
    public async Task RemoveAsync(int domid, string name, string? uuid, CancellationToken cancel)
    {
        if (!Available)
        {
            return;
        }

        var devices = new List<DeviceDirs>();
        await RunAsync(name, "close its devices", async xs =>
        {
            foreach (var kind in DeviceKinds)
            {
                devices.AddRange(await XenstoreDevices.FindAsync(xs, domid, kind, cancel).ConfigureAwait(false));
            }

            var open = await XenstoreDevices.CloseAsync(xs, devices, CloseTimeout, cancel).ConfigureAwait(false);
            if (open.Count > 0)
            {
                log.DomainProblem(name, $"backend {string.Join(", ", open)} did not close within {CloseTimeout.TotalSeconds:0} s; removed anyway");
            }
        }, cancel).ConfigureAwait(false);
        await RunAsync(name, "release it", async xs =>
        {
            try
            {
                await xs.ReleaseAsync(domid, cancel).ConfigureAwait(false);
            }
            catch (XenstoreException e) when (e.Error is "ENOENT" or "EINVAL")
            {
                // never introduced (xenstored restarted, or the introduce failed)
            }
        }, cancel).ConfigureAwait(false);
        await RunAsync(name, "remove its entries", xs => Committed(XenstoreTransaction.RunAsync(xs, async tx =>
        {
            await xs.RmAsync(tx, DomainPath(domid), cancel).ConfigureAwait(false);
            if (uuid is not null)
            {
                await xs.RmAsync(tx, $"/vm/{uuid}", cancel).ConfigureAwait(false);
            }

            // Every backend domain that may hold a directory for this guest: those its devices named, the current
            // built-in backends, and the control domain (backends before netback and blkback ran, or while they were down).
            foreach (var kind in DeviceKinds)
            {
                var backends = devices.Where(d => d.Kind == kind).Select(d => d.BackendDomain).Append(BackendDomain(kind)).Append(0).Distinct();
                foreach (var be in backends)
                {
                    await xs.RmAsync(tx, $"{XenbusPaths.BackendRoot(be, kind)}/{domid}", cancel).ConfigureAwait(false);
                }
            }
        }, cancel)), cancel).ConfigureAwait(false);
    }

    /// <summary>`mem-set`: the balloon target the guest reads (memory/target, KiB).</summary>
    public Task SetTargetAsync(int domid, string name, long targetKiB, CancellationToken cancel) =>
        !Available ? Task.CompletedTask : RunAsync(name, "write memory/target", xs =>
            xs.WriteAsync(XenstoreClient.NoTransaction, $"{DomainPath(domid)}/memory/target", targetKiB.ToString(CultureInfo.InvariantCulture), cancel), cancel);

    /// <summary>A connection to xenstored for one operation (hot plug); its errors are the caller's to report.</summary>
    public Task<XenstoreClient> ConnectAsync(CancellationToken cancel) => XenstoreClient.ConnectAsync(socketPath, cancel);

    private static async Task Committed(Task<bool> transaction)
    {
        if (!await transaction.ConfigureAwait(false))
        {
            throw new IOException("the transaction kept conflicting with other writers (EAGAIN)");
        }
    }

    private async Task RunAsync(string name, string what, Func<XenstoreClient, Task> body, CancellationToken cancel)
    {
        try
        {
            await using var xs = await XenstoreClient.ConnectAsync(socketPath, cancel).ConfigureAwait(false);
            await body(xs).ConfigureAwait(false);
        }
        catch (Exception e) when (e is XenstoreException or IOException or System.Net.Sockets.SocketException)
        {
            log.DomainProblem(name, $"xenstore: could not {what}: {e.Message}");
        }
    }
}
