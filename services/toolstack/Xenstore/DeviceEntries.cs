using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Disagg.Toolstack.Config;
using Disagg.Xenbus;

namespace Disagg.Toolstack.Xenstore;

/// <summary>
/// The xenbus directories of one device as libxl writes them (spec: xenbus): the frontend's under the
/// guest (/local/domain/FE/device/TYPE/DEVID), owned by the guest and readable by the backend domain;
/// the backend's under the backend domain (/local/domain/BE/backend/TYPE/FE/DEVID), owned by the backend
/// domain and readable by the guest. Both start in state 1 (Initialising); the backend takes it from there.
/// </summary>
internal static class DeviceEntries
{
    /// <summary>
    /// A vif: frontend keys netfront reads (backend, backend-id, handle, mac, mtu, state), backend keys netback reads.
    /// Announce (ours, not libxl's): the guest arrived from elsewhere; netback sends a RARP from its MAC when it connects.
    /// </summary>
    public static List<XenstoreEntry> Vif(int domid, int backend, int handle, VifSpec vif, string mac, bool announce = false)
    {
        var fe = XenbusPaths.Frontend(domid, "vif", handle);
        var bp = XenbusPaths.Backend(backend, "vif", domid, handle);
        var e = new List<XenstoreEntry>
        {
            new(fe, null, [$"n{N(domid)}", $"r{N(backend)}"]),
            new($"{fe}/backend", bp),
            new($"{fe}/backend-id", N(backend)),
            new($"{fe}/handle", N(handle)),
            new($"{fe}/mac", mac),
            new($"{fe}/mtu", N(vif.Mtu)),
            new($"{fe}/state", "1"),
            new(bp, null, [$"n{N(backend)}", $"r{N(domid)}"]),
            new($"{bp}/frontend", fe),
            new($"{bp}/frontend-id", N(domid)),
            new($"{bp}/online", "1"),
            new($"{bp}/state", "1"),
            new($"{bp}/handle", N(handle)),
            new($"{bp}/mac", mac),
            new($"{bp}/bridge", vif.Bridge),
            new($"{bp}/mtu", N(vif.Mtu)),
            new($"{bp}/type", "vif"),
        };
        if (vif.Ip is { } ip)
        {
            e.Add(new($"{bp}/ip", ip));
        }

        if (announce)
        {
            e.Add(new($"{bp}/announce", "1"));
        }

        if (vif.Rate is { } rate)
        {
            e.Add(new($"{bp}/rate", $"{rate.BytesPerInterval},{(long)(rate.Interval.TotalMilliseconds * 1000)}"));
        }

        return e;
    }

    /// <summary>A vbd: the keys blkback reads (params, format, mode, dev, type, frontend, frontend-id, online, state) and blkfront's.</summary>
    public static List<XenstoreEntry> Vbd(int domid, int backend, DiskSpec disk)
    {
        var devid = VbdDevid(disk.Vdev);
        var fe = XenbusPaths.Frontend(domid, "vbd", devid);
        var bp = XenbusPaths.Backend(backend, "vbd", domid, devid);
        var type = disk.Cdrom ? "cdrom" : "disk";
        return
        [
            new(fe, null, [$"n{N(domid)}", $"r{N(backend)}"]),
            new($"{fe}/backend", bp),
            new($"{fe}/backend-id", N(backend)),
            new($"{fe}/virtual-device", N(devid)),
            new($"{fe}/device-type", type),
            new($"{fe}/state", "1"),
            new(bp, null, [$"n{N(backend)}", $"r{N(domid)}"]),
            new($"{bp}/frontend", fe),
            new($"{bp}/frontend-id", N(domid)),
            new($"{bp}/online", "1"),
            new($"{bp}/removable", disk.Cdrom ? "1" : "0"),
            new($"{bp}/bootable", "1"),
            new($"{bp}/state", "1"),
            new($"{bp}/dev", disk.Vdev),
            new($"{bp}/type", disk.Format == DiskFormat.Raw ? "phy" : "qdisk"),
            new($"{bp}/format", disk.Format.ToString().ToLowerInvariant()),
            new($"{bp}/mode", disk.ReadOnly ? "r" : "w"),
            new($"{bp}/device-type", type),
            new($"{bp}/params", disk.Target),
            new($"{bp}/discard-enable", disk.Discard ? "1" : "0"),
        ];
    }

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

    /// <summary>Xen's 00:16:3e range, the rest from the domain's uuid and the vif's index (stable across restarts).</summary>
    public static string Mac(string uuid, int index)
    {
        var h = SHA256.HashData(Encoding.UTF8.GetBytes($"{uuid}/{index}"));
        return $"00:16:3e:{h[0] & 0x7F:x2}:{h[1]:x2}:{h[2]:x2}";
    }

    private static string N(long v) => v.ToString(CultureInfo.InvariantCulture);
}
