using Disagg.DiskImage;

namespace Disagg.QemuDm.Virtio;

/// <summary>
/// A virtio device qemu-dm's command line asks for, in command-line order; the k-th takes slot 7 - k
/// (as QEMU virt plugs -device options: Linux probes the slots in device-tree order, 7 first, so the first
/// disk is vda). At most eight.
/// </summary>
internal abstract record VirtioDeviceSpec
{
    /// <summary>`--disk PATH,format=raw|qcow2[,ro]`: virtio-blk over shared/DiskImage, the code blkback serves.</summary>
    public sealed record Disk(string Path, DiskImageFormat Format, bool ReadOnly) : VirtioDeviceSpec;

    /// <summary>`--nic mac=,bridge=[,backend=]`: virtio-net whose frames go through a vif on netback (Net/NicPort).</summary>
    public sealed record Nic(Net.NicOption Option) : VirtioDeviceSpec;

    /// <summary>`--rng`: virtio-rng from the host's CSPRNG.</summary>
    public sealed record Rng : VirtioDeviceSpec;

    /// <summary>Parses the value of `--disk`; null (with why) for anything else.</summary>
    public static Disk? ParseDisk(string value, out string? error)
    {
        error = null;
        var parts = value.Split(',');
        var path = parts[0];
        DiskImageFormat? format = null;
        var readOnly = false;
        if (!System.IO.Path.IsPathFullyQualified(path))
        {
            error = $"qemu-dm: --disk '{value}': the image path must be absolute";
            return null;
        }

        foreach (var p in parts.AsSpan(1))
        {
            switch (p)
            {
                case "format=raw":
                    format = DiskImageFormat.Raw;
                    break;
                case "format=qcow2":
                    format = DiskImageFormat.Qcow2;
                    break;
                case "ro":
                    readOnly = true;
                    break;
                default:
                    error = $"qemu-dm: --disk '{value}': unknown option '{p}' (format=raw|qcow2, ro)";
                    return null;
            }
        }

        if (format is null)
        {
            error = $"qemu-dm: --disk '{value}': format=raw or format=qcow2 is required (the format is never probed)";
            return null;
        }

        return new Disk(path, format.Value, readOnly);
    }
}
