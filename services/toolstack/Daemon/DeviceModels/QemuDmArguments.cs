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
    /// Why this HVM config cannot be served, or null. The one place that knows what qemu-dm does not emulate:
    /// its NICs reach netback through xenstore, so a host without xenstored cannot give an HVM guest a vif; and a
    /// vif's ip= is refused: for a PV guest the toolstack writes it to the vif's backend directory, where the
    /// guest's netfront (pvos) reads its address, and Xen hands it to the vif scripts Disagg does not run (no
    /// rule enforces it); an unmodified guest never reads xenstore and sets its own address, so for it ip= would
    /// be a setting that silently does nothing.
    /// </summary>
    /// <param name="netbackOf">The domain id of the netback a vif goes to (0: none serving).</param>
    public static string? Unsupported(DomainConfig config, bool hasXenstore, Func<VifSpec, int> netbackOf)
    {
        for (var i = 0; i < config.Vifs.Count; i++)
        {
            if (config.Vifs[i].Ip is { } ip)
            {
                return $"vif {i}: ip={ip} cannot reach a type 'hvm' guest: its own OS sets its address (a PV guest's netfront reads ip= from xenstore, which an unmodified guest never reads); configure it inside the guest and drop ip=";
            }
        }

        return config.Vifs.Count > 0 && (!hasXenstore || config.Vifs.Any(v => netbackOf(v) == 0))
            ? "type 'hvm' with vif lines needs xenstored and netback on this host (its qemu-dm's NICs are vifs on netback, found through xenstore)"
            : null;
    }

    /// <param name="xenstoreSocket">xenstored's socket: qemu-dm connects each NIC's vif to netback through it.</param>
    /// <param name="netbackOf">The domain id of the netback a vif goes to (its backend= resolved, or the built-in one).</param>
    public static IReadOnlyList<string> For(DomainConfig config, string uuid, int domainId, string stateDir, string consoleSocket, string xenstoreSocket, Func<VifSpec, int> netbackOf)
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

        if (config.Vifs.Count > 0)
        {
            args.Add("--xenstore");
            args.Add(xenstoreSocket);
        }

        for (var i = 0; i < config.Vifs.Count; i++)
        {
            args.Add("--nic");
            args.Add(Nic(config.Vifs[i], config.Vifs[i].Mac ?? DeviceEntries.Mac(uuid, i), netbackOf(config.Vifs[i])));
        }

        return args;
    }

    /// <summary>`--disk PATH,format=raw|qcow2[,ro]`: the path absolute (qemu-dm's working directory is not the config's).</summary>
    public static string Disk(DiskSpec disk) =>
        $"{Path.GetFullPath(disk.Target)},format={(disk.Format == DiskFormat.Qcow2 ? "qcow2" : "raw")}{(disk.ReadOnly ? ",ro" : "")}";

    /// <summary>`--nic mac=MAC,bridge=NAME,backend=NETBACK`: the port joins that netback's bridge, as a PV vif would.</summary>
    public static string Nic(VifSpec vif, string mac, int netback) =>
        string.Create(CultureInfo.InvariantCulture, $"mac={mac},bridge={vif.Bridge},backend={netback}");
}
