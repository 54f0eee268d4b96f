using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Daemon;
using Disagg.Xenbus;

namespace Disagg.Toolstack.Xenstore;

/// <summary>
/// A guest's xenstore entries, written as xl (libxl) writes them, when xenstored runs: on create
/// /local/domain/N (name, domid, vm, memory/{target,static-max}, console/{port,ring-ref,type,limit},
/// store/{port,ring-ref}, cpu/K/availability), /vm/UUID, and the frontend and backend directories of
/// each vif and disk of its config in state 1 (Initialising); the domain reads its directory and owns
/// its writable parts (device, control, data, ...). Then XS_INTRODUCE(N, store frame, store port).
/// On destroy: XS_RELEASE and every entry removed. Each operation is one transaction on a fresh
/// connection (xenstored may have restarted); a failure is logged and the domain goes on without.
/// </summary>
internal sealed class XenstoreDomains(string socketPath, Func<bool> running, DaemonLog log)
{
    /// <summary>Device backends are the control domain today (no netback/blkback service domain yet).</summary>
    public const int BackendDomain = 0;

    /// <summary>LIBXL_XENCONSOLE_LIMIT.</summary>
    private const string ConsoleLimit = "1048576";

    private static readonly string[] DomainOwned = ["device", "control", "data", "drivers", "attr", "error"];

    public string SocketPath => socketPath;

    public bool Available => running() && File.Exists(socketPath);

    public static string DomainPath(int domid) => $"/local/domain/{domid}";

    /// <summary>xl's vbd device number for a vdev: xvdX = 202:(X*16), sdX = 8:(X*16), hdX = 3:(X*64 for a, b; 22:... for c, d); more than 15 xvd disks use the extended form.</summary>
    public static int VbdDevid(string vdev)
    {
        static (int Index, int Part) Split(string s)
        {
            var i = 0;
            var index = 0;
            while (i < s.Length && char.IsAsciiLetterLower(s[i]))
            {
                index = (index * 26) + (s[i] - 'a' + 1);
                i++;
            }

            var part = i < s.Length && int.TryParse(s.AsSpan(i), NumberStyles.None, CultureInfo.InvariantCulture, out var p) ? p : 0;
            return (index - 1, part);
        }

        if (vdev.StartsWith("xvd", StringComparison.Ordinal))
        {
            var (index, part) = Split(vdev[3..]);
            return index < 16 && part < 16 ? (202 << 8) | (index << 4) | part : (1 << 28) | (index << 8) | part;
        }

        if (vdev.StartsWith("sd", StringComparison.Ordinal))
        {
            var (index, part) = Split(vdev[2..]);
            return (8 << 8) | (index << 4) | part;
        }

        if (vdev.StartsWith("hd", StringComparison.Ordinal))
        {
            var (index, part) = Split(vdev[2..]);
            return ((index < 2 ? 3 : 22) << 8) | ((index % 2) << 6) | part;
        }

        return int.TryParse(vdev, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 51712;
    }

    /// <summary>Every entry of a new domain, as (path, value, permissions or null to inherit).</summary>
    public static List<(string Path, string? Value, string[]? Perms)> Entries(int domid, Guest guest, int consolePort, ulong consoleFrame, int storePort, ulong storeFrame)
    {
        var c = guest.Config;
        var dom = DomainPath(domid);
        var be = DomainPath(BackendDomain);
        string N(long v) => v.ToString(CultureInfo.InvariantCulture);
        string[] readOnly = [$"n0", $"r{domid}"];
        var e = new List<(string, string?, string[]?)>
        {
            (dom, null, readOnly),
            ($"{dom}/name", c.Name, null),
            ($"{dom}/domid", N(domid), null),
            ($"{dom}/vm", $"/vm/{guest.Uuid}", null),
            ($"{dom}/memory/static-max", N(c.MaxMemMiB * 1024L), null),
            ($"{dom}/memory/target", N(c.MemoryMiB * 1024L), null),
            ($"{dom}/console/port", N(consolePort), null),
            ($"{dom}/console/ring-ref", N((long)consoleFrame), null),
            ($"{dom}/console/type", "xenconsoled", null),
            ($"{dom}/console/limit", ConsoleLimit, null),
            ($"{dom}/store/port", N(storePort), null),
            ($"{dom}/store/ring-ref", N((long)storeFrame), null),
        };
        for (var v = 0; v < c.MaxVcpus; v++)
        {
            e.Add(($"{dom}/cpu/{v}/availability", v < c.Vcpus ? "online" : "offline", null));
        }

        foreach (var owned in DomainOwned)
        {
            e.Add(($"{dom}/{owned}", null, [$"n{domid}"]));
        }

        e.Add(($"/vm/{guest.Uuid}", null, readOnly));
        e.Add(($"/vm/{guest.Uuid}/name", c.Name, null));
        e.Add(($"/vm/{guest.Uuid}/uuid", guest.Uuid, null));
        string[] frontPerms = [$"n{domid}", $"r{BackendDomain}"];
        string[] backPerms = [$"n{BackendDomain}", $"r{domid}"];
        for (var i = 0; i < c.Vifs.Count; i++)
        {
            var vif = c.Vifs[i];
            var mac = vif.Mac ?? Mac(guest.Uuid, i);
            var fe = $"{dom}/device/vif/{i}";
            var bp = $"{be}/backend/vif/{domid}/{i}";
            e.Add((fe, null, frontPerms));
            e.Add(($"{fe}/backend", bp, null));
            e.Add(($"{fe}/backend-id", N(BackendDomain), null));
            e.Add(($"{fe}/handle", N(i), null));
            e.Add(($"{fe}/mac", mac, null));
            e.Add(($"{fe}/mtu", N(vif.Mtu), null));
            e.Add(($"{fe}/state", "1", null));
            e.Add((bp, null, backPerms));
            e.Add(($"{bp}/frontend", fe, null));
            e.Add(($"{bp}/frontend-id", N(domid), null));
            e.Add(($"{bp}/online", "1", null));
            e.Add(($"{bp}/state", "1", null));
            e.Add(($"{bp}/handle", N(i), null));
            e.Add(($"{bp}/mac", mac, null));
            e.Add(($"{bp}/bridge", vif.Bridge, null));
            e.Add(($"{bp}/mtu", N(vif.Mtu), null));
            e.Add(($"{bp}/type", "vif", null));
            if (vif.Ip is { } ip)
            {
                e.Add(($"{bp}/ip", ip, null));
            }

            if (vif.Rate is { } rate)
            {
                e.Add(($"{bp}/rate", $"{rate.BytesPerInterval},{(long)(rate.Interval.TotalMilliseconds * 1000)}", null));
            }
        }

        foreach (var disk in c.Disks)
        {
            var devid = VbdDevid(disk.Vdev);
            var fe = $"{dom}/device/vbd/{devid}";
            var bp = $"{be}/backend/vbd/{domid}/{devid}";
            var type = disk.Cdrom ? "cdrom" : "disk";
            e.Add((fe, null, frontPerms));
            e.Add(($"{fe}/backend", bp, null));
            e.Add(($"{fe}/backend-id", N(BackendDomain), null));
            e.Add(($"{fe}/virtual-device", N(devid), null));
            e.Add(($"{fe}/device-type", type, null));
            e.Add(($"{fe}/state", "1", null));
            e.Add((bp, null, backPerms));
            e.Add(($"{bp}/frontend", fe, null));
            e.Add(($"{bp}/frontend-id", N(domid), null));
            e.Add(($"{bp}/online", "1", null));
            e.Add(($"{bp}/removable", disk.Cdrom ? "1" : "0", null));
            e.Add(($"{bp}/bootable", "1", null));
            e.Add(($"{bp}/state", "1", null));
            e.Add(($"{bp}/dev", disk.Vdev, null));
            e.Add(($"{bp}/type", disk.Format == DiskFormat.Raw ? "phy" : "qdisk", null));
            e.Add(($"{bp}/format", disk.Format.ToString().ToLowerInvariant(), null));
            e.Add(($"{bp}/mode", disk.ReadOnly ? "r" : "w", null));
            e.Add(($"{bp}/device-type", type, null));
            e.Add(($"{bp}/params", disk.Target, null));
            e.Add(($"{bp}/discard-enable", disk.Discard ? "1" : "0", null));
        }

        return e;
    }

    /// <summary>Writes the new domain's entries and introduces it to xenstored.</summary>
    public async Task CreateAsync(int domid, Guest guest, int consolePort, ulong consoleFrame, int storePort, ulong storeFrame, CancellationToken cancel)
    {
        if (!Available)
        {
            return;
        }

        var entries = Entries(domid, guest, consolePort, consoleFrame, storePort, storeFrame);
        await RunAsync(guest.Name, "write its entries", async (xs, tx) =>
        {
            foreach (var (path, value, perms) in entries)
            {
                if (value is null)
                {
                    await xs.MkdirAsync(tx, path, cancel).ConfigureAwait(false);
                }
                else
                {
                    await xs.WriteAsync(tx, path, value, cancel).ConfigureAwait(false);
                }

                if (perms is not null)
                {
                    await xs.SetPermsAsync(tx, path, perms, cancel).ConfigureAwait(false);
                }
            }
        }, cancel).ConfigureAwait(false);
        await RunAsync(guest.Name, "introduce it", (xs, _) => xs.IntroduceAsync(domid, storeFrame, storePort, cancel), cancel, transaction: false).ConfigureAwait(false);
    }

    /// <summary>XS_RELEASE, then every entry of the domain removed.</summary>
    public async Task RemoveAsync(int domid, string name, string? uuid, CancellationToken cancel)
    {
        if (!Available)
        {
            return;
        }

        await RunAsync(name, "release it", async (xs, _) =>
        {
            try
            {
                await xs.ReleaseAsync(domid, cancel).ConfigureAwait(false);
            }
            catch (XenstoreException e) when (e.Error is "ENOENT" or "EINVAL")
            {
                // never introduced (xenstored restarted, or the introduce failed)
            }
        }, cancel, transaction: false).ConfigureAwait(false);
        await RunAsync(name, "remove its entries", async (xs, tx) =>
        {
            await xs.RmAsync(tx, DomainPath(domid), cancel).ConfigureAwait(false);
            if (uuid is not null)
            {
                await xs.RmAsync(tx, $"/vm/{uuid}", cancel).ConfigureAwait(false);
            }

            foreach (var kind in new[] { "vif", "vbd" })
            {
                await xs.RmAsync(tx, $"{DomainPath(BackendDomain)}/backend/{kind}/{domid}", cancel).ConfigureAwait(false);
            }
        }, cancel).ConfigureAwait(false);
    }

    /// <summary>`mem-set`: the balloon target the guest reads (memory/target, KiB).</summary>
    public Task SetTargetAsync(int domid, string name, long targetKiB, CancellationToken cancel) =>
        !Available ? Task.CompletedTask : RunAsync(name, "write memory/target", (xs, tx) =>
            xs.WriteAsync(tx, $"{DomainPath(domid)}/memory/target", targetKiB.ToString(CultureInfo.InvariantCulture), cancel), cancel);

    /// <summary>Xen's 00:16:3e range, the rest from the domain's uuid and the vif's index (stable across restarts).</summary>
    private static string Mac(string uuid, int index)
    {
        var h = SHA256.HashData(Encoding.UTF8.GetBytes($"{uuid}/{index}"));
        return $"00:16:3e:{h[0] & 0x7F:x2}:{h[1]:x2}:{h[2]:x2}";
    }

    private async Task RunAsync(string name, string what, Func<XenstoreClient, uint, Task> body, CancellationToken cancel, bool transaction = true)
    {
        try
        {
            await using var xs = await XenstoreClient.ConnectAsync(socketPath, cancel).ConfigureAwait(false);
            for (var attempt = 0; ; attempt++)
            {
                var tx = transaction ? await xs.TransactionStartAsync(cancel).ConfigureAwait(false) : 0;
                try
                {
                    await body(xs, tx).ConfigureAwait(false);
                }
                catch when (transaction)
                {
                    await xs.TransactionEndAsync(tx, commit: false, cancel).ConfigureAwait(false);
                    throw;
                }

                if (!transaction || await xs.TransactionEndAsync(tx, commit: true, cancel).ConfigureAwait(false) || attempt >= 4)
                {
                    return;
                }
            }
        }
        catch (Exception e) when (e is XenstoreException or IOException or System.Net.Sockets.SocketException)
        {
            log.DomainProblem(name, $"xenstore: could not {what}: {e.Message}");
        }
    }
}
