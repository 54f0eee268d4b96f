using System.Globalization;
using Disagg.Toolstack.Config;
using Disagg.Toolstack.Xenstore;

namespace Disagg.Toolstack.Daemon.DeviceModels;

/// <summary>
/// An HVM guest's config as disagg-qemu-dm's command line (Xen's libxl__build_device_model_args): the domain, its
/// state dir and console socket, then its disks and NICs. Disks go in vdev order (xvda, xvdb, ...), which is
/// the order of the virtio-mmio slots qemu-dm gives them; NICs in config order.
/// </summary>
internal static class QemuDmArguments
{
    /// <summary>
    /// Why this HVM config cannot be served yet, or null. The one place that knows what qemu-dm does not
    /// emulate: remove the line when virtio-net lands (virtio-blk has: disks pass as --disk).
    /// </summary>
    public static string? Unsupported(DomainConfig config) =>
        config.Vifs.Count > 0 ? "type 'hvm' with vif lines: qemu-dm has no virtio-net yet (use type 'pv' for networking)"
        : null;

    public static IReadOnlyList<string> For(DomainConfig config, string uuid, int domainId, string stateDir, string consoleSocket)
    {
        var args = new List<string>
        {
            "--domain", domainId.ToString(CultureInfo.InvariantCulture),
            "--state-dir", stateDir,
            "--console-socket", consoleSocket,
        };
        foreach (var disk in config.Disks.OrderBy(d => d.Vdev.Length).ThenBy(d => d.Vdev, StringComparer.Ordinal))
        {
            args.Add("--disk");
            args.Add(Disk(disk));
        }

        for (var i = 0; i < config.Vifs.Count; i++)
        {
            args.Add("--nic");
            args.Add(Nic(config.Vifs[i], config.Vifs[i].Mac ?? DeviceEntries.Mac(uuid, i)));
        }

        return args;
    }

    /// <summary>`--disk PATH,format=raw|qcow2[,ro]`: the path absolute (qemu-dm's working directory is not the config's).</summary>
    public static string Disk(DiskSpec disk) =>
        $"{Path.GetFullPath(disk.Target)},format={(disk.Format == DiskFormat.Qcow2 ? "qcow2" : "raw")}{(disk.ReadOnly ? ",ro" : "")}";

    /// <summary>`--nic mac=MAC,bridge=NAME[,backend=NETBACK]`: the port joins that netback's bridge, as a PV vif would.</summary>
    public static string Nic(VifSpec vif, string mac) =>
        $"mac={mac},bridge={vif.Bridge}{(vif.Backend is null ? "" : ",backend=" + vif.Backend)}";
}
